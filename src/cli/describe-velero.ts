// `hookguard backup describe` for a Backup Velero ran: Velero's describer fields (phase, errors and
// warnings from its results file, HooksAttempted/HooksFailed from status.hookStatus), then one row per
// hook execution found in Velero's backup log. Velero 1.15+ log lines name no pod: a row names the
// pod only when exactly one pod in the Backup's scope holds that hook, else `<unattributed>`.
import type { BackupObject } from "../velero/types.js";
import type { CompanionHookRecord } from "../velero/hook-records.js";
import type { HookReport } from "../agent/scope/velero-hooks.js";
import type { VeleroResults } from "./velero-files.js";
import { describeHeader } from "./describe.js";
import { tabulate } from "./table.js";

/** velero's results buckets as lines: `Velero: msg`, `Cluster: msg`, `Namespace ns: msg`. */
export function resultLines(bucket: VeleroResults["errors"]): string[] {
  if (!bucket) return [];
  const out: string[] = [];
  for (const m of bucket.velero ?? []) out.push(`Velero: ${m.trim()}`);
  for (const m of bucket.cluster ?? []) out.push(`Cluster: ${m.trim()}`);
  for (const [ns, msgs] of Object.entries(bucket.namespaces ?? {}).sort(([a], [b]) => a.localeCompare(b)))
    for (const m of msgs) out.push(`Namespace ${ns}: ${m.trim()}`);
  return out;
}

const lastLine = (text: string | undefined): string =>
  (text ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1) ?? "";

function podCell(r: CompanionHookRecord): string {
  if (r.attribution !== "unattributed") return `${r.namespace}/${r.pod}`;
  const n = r.candidates ?? 0;
  return n === 0 ? "<unattributed>" : `<unattributed: ${n} pods>`;
}

function row(r: CompanionHookRecord, withCause: boolean): string[] {
  const exit = /exit code (\d+)/.exec(r.error ?? "")?.[1];
  const cells = [
    podCell(r),
    r.container || "<default>",
    r.phase,
    r.source,
    r.name || (r.source === "annotation" ? "<from-annotation>" : "-"),
    r.pairing === "ambiguous" ? `${r.result} (?)` : r.result,
    exit ?? (r.result === "succeeded" ? "0" : "-"),
  ];
  // the command's own last stderr line says more than "command terminated with exit code 1"
  if (withCause) cells.push(r.result === "failed" ? lastLine(r.stderr) || (r.error ?? "") : "");
  return cells;
}

export function formatVeleroDescribe(
  backup: BackupObject,
  results: VeleroResults | undefined,
  report: HookReport,
): string {
  const out = describeHeader(backup, resultLines(results?.errors), resultLines(results?.warnings));
  out.push("");
  if (report.kind === "no-log") {
    out.push(`Hooks:  <no backup log: ${report.reason}>`);
  } else if (report.records.length === 0) {
    out.push("Hooks:  <none in Velero's backup log>");
  } else {
    const withCause = report.records.some((r) => r.result === "failed");
    const header = [
      "POD",
      "CONTAINER",
      "PHASE",
      "SOURCE",
      "NAME",
      "RESULT",
      "EXIT CODE",
      ...(withCause ? ["CAUSE"] : []),
    ];
    out.push("Hooks (from Velero's backup log):");
    out.push(
      ...tabulate([header, ...report.records.map((r) => row(r, withCause))], { padding: 2 }).map((l) =>
        `  ${l}`.trimEnd(),
      ),
    );
    const notes: string[] = [];
    if (report.records.some((r) => r.attribution === "unattributed"))
      notes.push(
        "<unattributed>: Velero 1.15+ logs no pod for a hook, and no single pod in the Backup's scope holds it",
      );
    if (report.scopeProblem) notes.push(`the Backup's pods could not be listed: ${report.scopeProblem}`);
    if (report.records.some((r) => r.pairing === "ambiguous"))
      notes.push("(?): hooks ran concurrently; which of them a result belongs to is a guess");
    if (notes.length > 0) out.push("", ...notes.map((n) => `Note: ${n}`));
  }
  return `${out.join("\n")}\n`;
}
