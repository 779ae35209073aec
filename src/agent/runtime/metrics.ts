// The agent's Prometheus metrics, on an injected Registry (never the global one) so tests read real
// values. Namespace is the only object label: pod and backup names would make cardinality unbounded.
// prom-client's default process metrics are not registered: its nodejs_active_*_total gauges fail
// promtool's naming lint.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { HookSource, Phase } from "../../domain/index.js";
import { VERSION } from "../../version.js";

export type HookMetricResult = "succeeded" | "failed" | "timed_out" | "skipped";

export class AgentMetrics {
  readonly registry: Registry;
  readonly hookExecutions: Counter<"namespace" | "phase" | "source" | "result">;
  readonly hookDuration: Histogram<"phase" | "source">;
  readonly backups: Counter<"phase">;
  readonly backupDuration: Histogram;
  readonly freezeWindow: Histogram;
  readonly podsAwaitingPostHooks: Gauge;
  readonly forcedPostHooks: Counter<"reason">;
  /** companion thaw guard: pods with a pre hook whose post hooks it must not run after an interruption */
  readonly thawGuardNotEligible: Counter<"reason">;
  readonly hookConfigWarnings: Counter;
  readonly leader: Gauge;
  readonly oldestInProgress: Gauge;
  /** standalone: Backups deleted (expired or on request), failed attempts, and requests refused */
  readonly backupDeletions: Counter<"result">;
  /** Start time (seconds) of each backup this agent is running; the gauge shows the oldest. */
  private readonly inFlight = new Map<symbol, number>();
  /** standalone: 1 while a Velero server works in --namespace (the agent then claims nothing) */
  readonly veleroServerDetected: Gauge;
  /** companion: Velero's own counts from status.hookStatus (exported as 0 in standalone, so one dashboard serves both) */
  readonly veleroHooksAttempted: Counter;
  readonly veleroHooksFailed: Counter;
  readonly buildInfo: Gauge<"version">;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.hookExecutions = new Counter({
      name: "hookguard_hook_executions_total",
      help: "Backup hooks handled by the agent, by the pod's namespace, phase, source and result",
      labelNames: ["namespace", "phase", "source", "result"],
      registers,
    });
    this.hookDuration = new Histogram({
      name: "hookguard_hook_duration_seconds",
      help: "Duration of executed backup hooks",
      labelNames: ["phase", "source"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    });
    this.backups = new Counter({
      name: "hookguard_backups_total",
      help: "Backups finished by the agent, by final phase",
      labelNames: ["phase"],
      registers,
    });
    this.backupDuration = new Histogram({
      name: "hookguard_backup_duration_seconds",
      help: "Time from claiming a Backup to its final phase",
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    this.freezeWindow = new Histogram({
      name: "hookguard_freeze_window_seconds",
      help: "Per ItemBlock: first pre hook start to last post hook end",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    });
    this.podsAwaitingPostHooks = new Gauge({
      name: "hookguard_pods_awaiting_post_hooks",
      help: "Pods whose pre hooks ran and whose post hooks have not run yet",
      registers,
    });
    this.forcedPostHooks = new Counter({
      name: "hookguard_forced_post_hooks_total",
      help: "Pods whose post hooks were forced: the freeze window expired, recovery after an agent died, or (companion) Velero was interrupted mid-backup",
      labelNames: ["reason"],
      registers,
    });
    this.thawGuardNotEligible = new Counter({
      name: "hookguard_thaw_guard_not_eligible_total",
      help: "Pods of a Backup Velero left interrupted whose post hooks hookguard must not run (not a recognised thaw, no opt-in): a person should",
      labelNames: ["reason"],
      registers,
    });
    this.hookConfigWarnings = new Counter({
      name: "hookguard_hook_config_warnings_total",
      help: "Recoverable hook configuration problems met at run time (e.g. an unparsable timeout)",
      registers,
    });
    this.leader = new Gauge({ name: "hookguard_leader", help: "1 when this agent is the leader", registers });
    // 0 when idle, so "stuck InProgress" is `time() - (gauge > 0)` and never needs a second series
    this.oldestInProgress = new Gauge({
      name: "hookguard_backup_oldest_in_progress_start_timestamp_seconds",
      help: "Start time of the oldest Backup this agent is running (0 when none)",
      registers,
    });
    this.backupDeletions = new Counter({
      name: "hookguard_backup_deletions_total",
      help: "Standalone: deletions of expired or requested Backups (snapshots, files, then the Backup), by result: succeeded, failed (retried), refused (not run by hookguard)",
      labelNames: ["result"],
      registers,
    });
    this.veleroServerDetected = new Gauge({
      name: "hookguard_velero_server_detected",
      help: "1 when a standalone agent found a live Velero server in its namespace and therefore claims no Backup",
      registers,
    });
    this.veleroHooksAttempted = new Counter({
      name: "hookguard_velero_backup_hooks_attempted_total",
      help: "Hooks Velero attempted in the Backups the companion observed (status.hookStatus.hooksAttempted)",
      registers,
    });
    this.veleroHooksFailed = new Counter({
      name: "hookguard_velero_backup_hooks_failed_total",
      help: "Hooks that failed in the Backups the companion observed (status.hookStatus.hooksFailed)",
      registers,
    });
    this.buildInfo = new Gauge({
      name: "hookguard_build_info",
      help: "Build information",
      labelNames: ["version"],
      registers,
    });
    this.buildInfo.set({ version: VERSION }, 1);
    // Zero-initialise the closed label sets so dashboards see the series before the first event.
    for (const reason of ["freeze_window", "recovery", "velero_died", "velero_failed"])
      this.forcedPostHooks.inc({ reason }, 0);
    for (const reason of ["freeze_window", "velero_died", "velero_failed"])
      this.thawGuardNotEligible.inc({ reason }, 0);
    // "no successful backup in N hours" is increase(...{phase="Completed"}[Nh]) == 0: the series must exist
    for (const phase of ["Completed", "PartiallyFailed", "Failed"]) this.backups.inc({ phase }, 0);
    for (const result of ["succeeded", "failed", "refused"]) this.backupDeletions.inc({ result }, 0);
  }

  /** Marks a backup running until the returned function is called (once, on every exit path). */
  backupStarted(): () => void {
    const key = Symbol("backup");
    this.inFlight.set(key, Date.now() / 1000);
    const refresh = (): void =>
      this.oldestInProgress.set(this.inFlight.size === 0 ? 0 : Math.min(...this.inFlight.values()));
    refresh();
    return () => {
      this.inFlight.delete(key);
      refresh();
    };
  }

  /** `namespace` is the pod's: the one object label dashboards may group failures by. */
  hookHandled(
    namespace: string,
    phase: Phase,
    source: HookSource,
    result: HookMetricResult,
    durationMs?: number,
  ): void {
    this.hookExecutions.inc({ namespace, phase, source, result });
    if (durationMs !== undefined) this.hookDuration.observe({ phase, source }, durationMs / 1000);
  }
}
