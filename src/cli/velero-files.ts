// The files of a Backup that Velero ran, read as the velero CLI reads them: a DownloadRequest in the
// Velero namespace, its signed URL, a gzip body. Used by `backup describe` and `backup logs` when the
// Backup carries no hookguard claim. The object store's CA is the one the BackupStorageLocation names
// (spec.objectStorage.caCert), as velero does, unless --download-ca-file gives another.
import { readFile } from "node:fs/promises";
import { createLogger } from "../log.js";
import { nanosToMillis, parseGoDuration } from "../domain/index.js";
import { createCompanionCluster, readStorageLocationCaCert } from "../kube/companion-cluster.js";
import { describeClusterFailure } from "../kube/errors.js";
import { downloadBackupFile, type DownloadFailure, type DownloadTargetKind } from "../velero/download.js";
import { hookRecordsFromLog, type HookReport } from "../agent/scope/velero-hooks.js";
import type { BackupObject } from "../velero/types.js";
import { ONE_SHOT_RETRY, UsageError, type loadAccess } from "./backup-common.js";

type KubeConfig = ReturnType<typeof loadAccess>["kc"];

/** The flags of the commands that read Velero's files. */
export interface DownloadFlags {
  /** Go duration: how long Velero may take to answer a DownloadRequest (velero's --timeout, 1m) */
  timeout: string;
  /** PEM bundle trusted for the download URL instead of the storage location's caCert */
  downloadCaFile?: string;
}

/** velero's `BackupResults`: messages per bucket. */
interface ResultBucket {
  velero?: string[];
  cluster?: string[];
  namespaces?: Record<string, string[]>;
}
export interface VeleroResults {
  errors?: ResultBucket;
  warnings?: ResultBucket;
}

/** The phases in which Velero has uploaded the log (it uploads it when the Backup leaves InProgress). */
const LOG_READY = new Set([
  "Completed",
  "PartiallyFailed",
  "Failed",
  "WaitingForPluginOperations",
  "WaitingForPluginOperationsPartiallyFailed",
  "Finalizing",
  "FinalizingPartiallyFailed",
]);

export function timeoutMs(value: string): number {
  const d = parseGoDuration(value);
  if (!d.ok) throw new UsageError(`--timeout: ${d.error}`);
  if (d.value <= 0) throw new UsageError("--timeout must be positive");
  return nanosToMillis(d.value);
}

/** Why there is no log to read, or undefined when Velero should have one. */
export function noLogReason(backup: BackupObject): string | undefined {
  const phase = backup.status?.phase || "New";
  if (phase === "FailedValidation")
    return `backup ${backup.metadata.name} failed validation: Velero wrote no log for it`;
  if (!LOG_READY.has(phase))
    return `backup ${backup.metadata.name} is ${phase}: Velero uploads its log when it leaves InProgress`;
  return undefined;
}

/** The user-facing message for a failed download, naming what to do. */
export function downloadFailureMessage(e: DownloadFailure, namespace: string): string {
  if (e.kind === "api" && e.code === 403)
    return `${e.message}\nreading a Velero-run Backup's files needs create, get and delete on downloadrequests.velero.io in namespace ${namespace} (note: create lets the holder read every file of every Backup there)`;
  if (e.kind === "api" && e.code === 404 && e.verb === "create")
    return `${e.message}\nis Velero installed? the DownloadRequest kind (downloadrequests.velero.io) is not served in namespace ${namespace}`;
  if (e.kind === "download" && /certificate|self[- ]signed|unable to verify|issuer/i.test(e.message))
    return `${e.message}\nthe object store's TLS certificate could not be verified: pass --download-ca-file with the CA that signed it (velero's --cacert), or set the BackupStorageLocation's spec.objectStorage.caCert`;
  return e.message;
}

class DownloadFailed extends Error {
  constructor(
    readonly failure: DownloadFailure,
    message: string,
  ) {
    super(message);
  }
}

export class VeleroFiles {
  private constructor(
    private readonly reader: ReturnType<typeof createCompanionCluster>,
    private readonly backup: BackupObject,
    private readonly waitMs: number,
  ) {}

  static async open(kc: KubeConfig, backup: BackupObject, flags: DownloadFlags): Promise<VeleroFiles> {
    const waitMs = timeoutMs(flags.timeout);
    let caPem: string | undefined;
    if (flags.downloadCaFile !== undefined) {
      try {
        caPem = await readFile(flags.downloadCaFile, "utf8");
      } catch (err) {
        throw new UsageError(`--download-ca-file: ${(err as Error).message}`);
      }
    } else if (backup.spec?.storageLocation) {
      const ns = backup.metadata.namespace;
      const ca = await readStorageLocationCaCert(kc, ns, backup.spec.storageLocation, ONE_SHOT_RETRY);
      if (!ca.ok)
        throw new Error(
          describeClusterFailure(
            `reading backupstoragelocation ${ns}/${backup.spec.storageLocation} (for its caCert; --download-ca-file skips this)`,
            ca.error,
          ),
        );
      caPem = ca.value;
    }
    const reader = createCompanionCluster(kc, createLogger({ level: "warn" }), {
      retry: ONE_SHOT_RETRY,
      ...(caPem ? { downloadCaPem: caPem } : {}),
    });
    return new VeleroFiles(reader, backup, waitMs);
  }

  private async file(kind: DownloadTargetKind): Promise<string> {
    const b = this.backup.metadata;
    const got = await downloadBackupFile(this.reader, b.namespace, b.name, kind, { timeoutMs: this.waitMs });
    if (!got.ok) throw new DownloadFailed(got.error, downloadFailureMessage(got.error, b.namespace));
    return got.value;
  }

  /** The backup log, as Velero wrote it. */
  async log(): Promise<string> {
    const why = noLogReason(this.backup);
    if (why) throw new Error(why);
    return this.file("BackupLog");
  }

  /** The hook records built from the log (attributed to pods where the scope allows). */
  async hookReport(): Promise<HookReport> {
    const why = noLogReason(this.backup);
    if (why) return { kind: "no-log", reason: why };
    let text: string;
    try {
      text = await this.file("BackupLog");
    } catch (err) {
      // no log in object storage (failed when a Velero server restarted, upload failed): say so
      if (err instanceof DownloadFailed && err.failure.kind === "not_found")
        return { kind: "no-log", reason: err.failure.message };
      throw err;
    }
    return hookRecordsFromLog(this.reader, this.backup, text);
  }

  /** The errors and warnings file; velero's describe reads it only when a count is not zero. */
  async results(): Promise<VeleroResults | undefined> {
    const s = this.backup.status ?? {};
    if (!s.errors && !s.warnings) return undefined;
    const text = await this.file("BackupResults");
    try {
      return JSON.parse(text) as VeleroResults;
    } catch {
      throw new Error(`the results file of backup ${this.backup.metadata.name} is not JSON`);
    }
  }
}
