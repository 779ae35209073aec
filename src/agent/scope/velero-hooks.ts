// The hook records of one Velero-run Backup, from its log: what the companion's observer reports and
// what `hookguard backup describe` shows for a Backup Velero ran (shared by both, so in scope/). Reads the log through a
// DownloadRequest, parses it, and attributes the records to the pods in the Backup's scope.
import { parseBackupHooks, type Result } from "../../domain/index.js";
import { extractHookEvents, parseBackupLog } from "../../velero/log-parse.js";
import { collectItems } from "./collect.js";
import type { AgentCluster } from "../ports.js";
import type { BackupObject } from "../../velero/types.js";
import {
  downloadBackupFile,
  type DownloadFailure,
  type DownloadOptions,
  type DownloadPort,
} from "../../velero/download.js";
import { buildHookRecords, type CompanionHookRecord } from "../../velero/hook-records.js";

export type HookReport =
  | {
      kind: "records";
      records: CompanionHookRecord[];
      /** log lines that were not log entries, and hook lines whose fields could not be read */
      skippedLines: number;
      unreadableHookLines: number;
      /** set when the Backup's pods could not be listed: 1.15+ records then stay unattributed */
      scopeProblem?: string;
    }
  /** Velero wrote no log, or it is gone: a definitive answer, not worth asking again */
  | { kind: "no-log"; reason: string };

type Cluster = DownloadPort & Pick<AgentCluster, "listNamespaces" | "listPods" | "listPvcs" | "listPvs">;

/** Fails only when the answer may differ later (Velero not answering, API or download errors). */
export async function readHookReport(
  cluster: Cluster,
  backup: BackupObject,
  opts: DownloadOptions = {},
): Promise<Result<HookReport, DownloadFailure>> {
  if (backup.status?.phase === "FailedValidation")
    return { ok: true, value: { kind: "no-log", reason: "no backup log: the Backup failed validation" } };
  const text = await downloadBackupFile(
    cluster,
    backup.metadata.namespace,
    backup.metadata.name,
    "BackupLog",
    opts,
  );
  if (!text.ok)
    return text.error.kind === "not_found"
      ? { ok: true, value: { kind: "no-log", reason: text.error.message } }
      : text;
  return { ok: true, value: await hookRecordsFromLog(cluster, backup, text.value) };
}

/** Records from a log already in hand. */
export async function hookRecordsFromLog(
  cluster: Pick<Cluster, "listNamespaces" | "listPods" | "listPvcs" | "listPvs">,
  backup: BackupObject,
  text: string,
): Promise<HookReport & { kind: "records" }> {
  const parsed = parseBackupLog(text);
  const hookEvents = extractHookEvents(parsed);
  const base = {
    kind: "records" as const,
    skippedLines: parsed.garbageLines,
    unreadableHookLines: hookEvents.unreadable,
  };
  // ≤1.14 lines name their pod: the scope is only needed for lines that do not
  const needsScope = hookEvents.events.some(
    (e) =>
      (e.kind === "start" || e.kind === "output" || e.kind === "pod-phase-skip" || e.kind === "error") &&
      !e.pod,
  );
  if (!needsScope) return { ...base, records: buildHookRecords(hookEvents.events, { specs: [], pods: [] }) };
  const specs = parseBackupHooks(backup.spec?.hooks, { pathPrefix: "spec.hooks" }).resources;
  // The pods the Backup covers, by the collector standalone mode uses. It reads only namespaces, pods,
  // PVCs and PVs (narrowing collectItems' parameter to those four would remove the cast).
  const scope = await collectItems(cluster as unknown as AgentCluster, backup.spec ?? {});
  const pods = scope.ok ? [...scope.value.pods, ...scope.value.extraPods] : [];
  const records = buildHookRecords(hookEvents.events, { specs, pods });
  return { ...base, records, ...(scope.ok ? {} : { scopeProblem: scope.error }) };
}
