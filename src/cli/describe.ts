// `hookguard backup describe` text, Velero-style (pkg/cmd/util/output/backup_describer.go): label
// columns aligned like Go's tabwriter with padding 2 inside each group, `HooksAttempted:  N` /
// `HooksFailed:     N`, then what Velero does not show: a per-hook table and the errors.
import type { BackupObject } from "../velero/types.js";
import type { HookRecord } from "../agent/hooks/record.js";
import type { BackupResultsFile } from "../agent/store/results.js";
import { tabulate } from "./table.js";

/** Label/value lines as Velero's describer aligns them (Go tabwriter, minwidth 0, padding 2). */
export function alignPairs(rows: Array<[string, string]>): string[] {
  return tabulate(rows, { padding: 2 });
}

export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1).replace(/\.?0+$/, "")}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Math.round((ms % 60_000) / 1000)}s`;
}

const mapText = (m: Record<string, string> | undefined): string =>
  m && Object.keys(m).length > 0
    ? Object.entries(m)
        .map(([k, v]) => `${k}=${v}`)
        .join(",")
    : "<none>";

function hookRow(h: HookRecord): string[] {
  const result = h.recovered ? `${h.result} (recovered)` : h.result;
  return [`${h.namespace}/${h.pod}`, h.container || "<default>", h.phase, h.source, h.name, result, h.exitCode === undefined ? "-" : String(h.exitCode), formatDurationMs(h.durationMs)];
}

export function formatDescribe(backup: BackupObject, results: BackupResultsFile | undefined, resultsLocation: string): string {
  const s = backup.status ?? {};
  const spec = backup.spec ?? {};
  const meta = backup.metadata;
  const out: string[] = [];
  out.push(...alignPairs([
    ["Name:", meta.name],
    ["Namespace:", meta.namespace],
    ["Labels:", mapText(meta.labels)],
    ["Annotations:", mapText(meta.annotations)],
  ]));
  out.push("", ...alignPairs([["Phase:", s.phase || "New"]]));
  if (s.failureReason) out.push("", ...alignPairs([["Failure reason:", s.failureReason]]));
  out.push("", ...alignPairs([["Errors:", String(s.errors ?? 0)], ["Warnings:", String(s.warnings ?? 0)]]));
  out.push("", "Namespaces:", ...alignPairs([["Included:", (spec.includedNamespaces ?? []).join(", ") || "*"], ["Excluded:", (spec.excludedNamespaces ?? []).join(", ") || "<none>"]]).map((l) => `  ${l}`));
  out.push("", ...alignPairs([["Started:", s.startTimestamp ?? "<n/a>"], ["Completed:", s.completionTimestamp ?? "<n/a>"]]));
  if (s.progress) {
    out.push("", ...alignPairs([["Total items to be backed up:", String(s.progress.totalItems ?? 0)], ["Items backed up:", String(s.progress.itemsBackedUp ?? 0)]]));
  }
  if (s.hookStatus) {
    out.push("", ...alignPairs([["HooksAttempted:", String(s.hookStatus.hooksAttempted ?? 0)], ["HooksFailed:", String(s.hookStatus.hooksFailed ?? 0)]]));
  }
  out.push("");
  if (!results) {
    out.push(`Hooks:  <no hook results at ${resultsLocation}>`);
  } else if (results.hooks.length === 0) {
    out.push("Hooks:  <none>");
  } else {
    out.push("Hooks:");
    out.push(...tabulate([["POD", "CONTAINER", "PHASE", "SOURCE", "NAME", "RESULT", "EXIT CODE", "DURATION"], ...results.hooks.map(hookRow)], { padding: 2 }).map((l) => `  ${l}`));
  }
  if (results) {
    out.push("");
    if (results.errors.length === 0) out.push("Errors:  <none>");
    else out.push("Errors:", ...results.errors.map((e) => `  ${e}`));
    if (results.warnings.length > 0) out.push("", "Warnings:", ...results.warnings.map((e) => `  ${e}`));
  }
  return `${out.join("\n")}\n`;
}
