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

/** kubectl apply's copy of the whole object: noise in a describe, as kubectl describe also hides it. */
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

const mapText = (m: Record<string, string> | undefined): string => {
  const entries = Object.entries(m ?? {}).filter(([k]) => k !== LAST_APPLIED);
  return entries.length > 0 ? entries.map(([k, v]) => `${k}=${v}`).join(",") : "<none>";
};

/**
 * Hooks in the order they started. The agent appends a record when a hook finishes, so with several
 * workers or --parallel-hooks the file's order is completion order; a record without a start (not
 * run after an earlier failure) keeps its place after the record before it.
 */
export function inExecutionOrder(hooks: HookRecord[]): HookRecord[] {
  let last = "";
  const keyed = hooks.map((h, i) => {
    if (h.startedAt) last = h.startedAt;
    return { h, at: h.startedAt ?? last, i };
  });
  return keyed.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.i - b.i)).map((k) => k.h);
}

const failedResult = (h: HookRecord): boolean => h.result === "failed" || h.result === "timed_out";

function hookRow(h: HookRecord, withCause: boolean): string[] {
  const result = h.recovered ? `${h.result} (recovered)` : h.result;
  const row = [
    `${h.namespace}/${h.pod}`,
    h.container || "<default>",
    h.phase,
    h.source,
    h.name,
    result,
    h.exitCode === undefined ? "-" : String(h.exitCode),
    formatDurationMs(h.durationMs),
  ];
  // the cause: the command's own last stderr line says more than "command terminated with exit code 1"
  if (withCause) row.push(failedResult(h) ? (h.cause ?? h.error ?? "") : "");
  return row;
}

/**
 * What both describes print before the hooks: Velero's describer fields, with the error and warning
 * messages listed under the one `Errors:` and `Warnings:` line.
 */
export function describeHeader(backup: BackupObject, errors: string[], warnings: string[]): string[] {
  const s = backup.status ?? {};
  const spec = backup.spec ?? {};
  const meta = backup.metadata;
  const out: string[] = [];
  out.push(
    ...alignPairs([
      ["Name:", meta.name],
      ["Namespace:", meta.namespace],
      ["Labels:", mapText(meta.labels)],
      ["Annotations:", mapText(meta.annotations)],
    ]),
  );
  out.push("", ...alignPairs([["Phase:", s.phase || "New"]]));
  if (s.failureReason) out.push("", ...alignPairs([["Failure reason:", s.failureReason]]));
  // one Errors: and one Warnings: line (Velero's counts), the agent's messages listed under each
  const [errorsLine, warningsLine] = alignPairs([
    ["Errors:", String(s.errors ?? 0)],
    ["Warnings:", String(s.warnings ?? 0)],
  ]);
  out.push("", errorsLine!, ...errors.map((e) => `  ${e}`), warningsLine!, ...warnings.map((w) => `  ${w}`));
  out.push(
    "",
    "Namespaces:",
    ...alignPairs([
      ["Included:", (spec.includedNamespaces ?? []).join(", ") || "*"],
      ["Excluded:", (spec.excludedNamespaces ?? []).join(", ") || "<none>"],
    ]).map((l) => `  ${l}`),
  );
  out.push(
    "",
    ...alignPairs([
      ["Started:", s.startTimestamp ?? "<n/a>"],
      ["Completed:", s.completionTimestamp ?? "<n/a>"],
    ]),
  );
  if (s.progress) {
    out.push(
      "",
      ...alignPairs([
        ["Total items to be backed up:", String(s.progress.totalItems ?? 0)],
        ["Items backed up:", String(s.progress.itemsBackedUp ?? 0)],
      ]),
    );
  }
  if (s.hookStatus) {
    out.push(
      "",
      ...alignPairs([
        ["HooksAttempted:", String(s.hookStatus.hooksAttempted ?? 0)],
        ["HooksFailed:", String(s.hookStatus.hooksFailed ?? 0)],
      ]),
    );
  }
  return out;
}

export function formatDescribe(
  backup: BackupObject,
  results: BackupResultsFile | undefined,
  resultsLocation: string,
): string {
  const out = describeHeader(backup, results?.errors ?? [], results?.warnings ?? []);
  out.push("");
  if (!results) {
    out.push(`Hooks:  <no hook results at ${resultsLocation}>`);
  } else if (results.hooks.length === 0) {
    out.push("Hooks:  <none>");
  } else {
    const withCause = results.hooks.some(failedResult);
    const header = [
      "POD",
      "CONTAINER",
      "PHASE",
      "SOURCE",
      "NAME",
      "RESULT",
      "EXIT CODE",
      "DURATION",
      ...(withCause ? ["CAUSE"] : []),
    ];
    out.push("Hooks:");
    out.push(
      ...tabulate([header, ...inExecutionOrder(results.hooks).map((h) => hookRow(h, withCause))], {
        padding: 2,
      }).map((l) => `  ${l}`.trimEnd()),
    );
  }
  return `${out.join("\n")}\n`;
}
