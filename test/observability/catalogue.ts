// The metric names the webhook and the agent export (issues 3 and 5), and helpers to read the
// dashboard and the alert rules that use them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { chartDir } from "../chart/render.js";

export const rulesPath = join(chartDir, "rules/hookguard-rules.yaml");
export const dashboardPath = join(chartDir, "dashboards/hookguard.json");

/** name -> type, as exported. Histograms are used through their _bucket/_sum/_count series. */
export const webhookMetrics: Record<string, string> = {
  hookguard_admission_requests_total: "counter",
  hookguard_admission_duration_seconds: "histogram",
  hookguard_admission_warnings_total: "counter",
  hookguard_admission_panics_total: "counter",
  hookguard_admission_authz_total: "counter",
  hookguard_admission_controller_copies_total: "counter",
  hookguard_admission_would_deny_total: "counter",
  hookguard_certificate_expiry_timestamp_seconds: "gauge",
  hookguard_build_info: "gauge",
};
export const agentMetrics: Record<string, string> = {
  hookguard_hook_executions_total: "counter",
  hookguard_hook_duration_seconds: "histogram",
  hookguard_backups_total: "counter",
  hookguard_backup_duration_seconds: "histogram",
  hookguard_freeze_window_seconds: "histogram",
  hookguard_pods_awaiting_post_hooks: "gauge",
  hookguard_forced_post_hooks_total: "counter",
  // companion mode only (the thaw guard)
  hookguard_thaw_guard_not_eligible_total: "counter",
  hookguard_hook_config_warnings_total: "counter",
  hookguard_leader: "gauge",
  hookguard_backup_oldest_in_progress_start_timestamp_seconds: "gauge",
  hookguard_build_info: "gauge",
  hookguard_velero_server_detected: "gauge",
  // standalone: garbage collection and `backup delete`
  hookguard_backup_deletions_total: "counter",
  // companion mode only (Velero's status.hookStatus)
  hookguard_velero_backup_hooks_attempted_total: "counter",
  hookguard_velero_backup_hooks_failed_total: "counter",
};

/**
 * Series of other exporters that alerts and panels may use, each with its source: hookguard cannot
 * report its own absence (no ready webhook pod) or its volume's fill level.
 */
export const externalSeries: Record<string, string> = {
  kube_endpoint_address: "kube-state-metrics 2.6+",
  kube_endpoint_info: "kube-state-metrics",
  kubelet_volume_stats_available_bytes: "kubelet",
  kubelet_volume_stats_capacity_bytes: "kubelet",
};

/** Names of other exporters' series referenced by a PromQL expression (those of externalSeries). */
export function externalSeriesIn(expr: string): string[] {
  return Object.keys(externalSeries).filter((s) => new RegExp(`\\b${s}\\b`).test(expr));
}

/** Series names a query may use: counters and gauges as is, histograms with their suffixes. */
export function knownSeries(): Set<string> {
  const out = new Set<string>();
  for (const [name, type] of Object.entries({ ...webhookMetrics, ...agentMetrics })) {
    if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) out.add(name + s);
    else out.add(name);
  }
  return out;
}

/** hookguard_* names referenced by a PromQL expression. */
export function seriesIn(expr: string): string[] {
  return [...new Set(expr.match(/\bhookguard_[a-z_]+\b/g) ?? [])];
}

export interface DashboardQuery {
  panel: string;
  refId: string;
  expr: string;
}

export function loadDashboard(): any {
  return JSON.parse(readFileSync(dashboardPath, "utf8"));
}

/** Every PromQL target of every panel (rows included). */
export function dashboardQueries(dashboard = loadDashboard()): DashboardQuery[] {
  const panels = (dashboard.panels as any[]).flatMap((p) => [p, ...(p.panels ?? [])]);
  return panels.flatMap((p) =>
    (p.targets ?? []).map((t: any) => ({ panel: p.title, refId: t.refId, expr: t.expr })),
  );
}

/**
 * Replaces Grafana's variables with what they expand to, so the text is plain PromQL. `$namespace`
 * (multi-value, "All" = .*) becomes a regex; ranges become a fixed window.
 */
export function expandGrafanaVariables(expr: string, window = "5m"): string {
  return expr
    .replace(
      /\$__rate_interval|\$\{__rate_interval\}|\$__range|\$\{__range\}|\$__interval|\$\{__interval\}/g,
      window,
    )
    .replace(/\$\{namespace(:regex)?\}|\$namespace/g, ".*");
}

/** The dashboard's queries as one recording-rule group promtool can check. */
export function queriesAsRecordingRules(window = "5m"): { groups: any[] } {
  return {
    groups: [
      {
        name: "hookguard-dashboard",
        rules: dashboardQueries().map((q, i) => ({
          record: `hookguard_dashboard:query_${i}`,
          expr: expandGrafanaVariables(q.expr, window),
        })),
      },
    ],
  };
}

export function loadRules(): any {
  return parse(readFileSync(rulesPath, "utf8"));
}
