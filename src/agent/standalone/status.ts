// Writing a Backup's status: the claim's InProgress and the final phase. A 409 is answered by
// re-reading and retrying; other API errors are retried with backoff, so no error path leaves a
// Backup InProgress while the agent is alive.
import type { Logger } from "../../log.js";
import type { Result } from "../../domain/index.js";
import { sleep } from "../../util/async.js";
import type { AgentCluster } from "../ports.js";
import type { BackupObject, BackupStatus } from "../../velero/types.js";

export interface FinalStatus {
  phase: "Completed" | "PartiallyFailed" | "Failed";
  failureReason?: string;
  errors: number;
  warnings: number;
  totalItems: number;
  itemsBackedUp: number;
  hookStatus?: { hooksAttempted: number; hooksFailed: number };
}

/** Merge-patches the status; retries 409s (after a re-read) and transient errors. */
export async function writeStatus(cluster: AgentCluster, namespace: string, name: string, status: Partial<BackupStatus>, logger: Logger, attempts = 10, backoffMs = 200): Promise<Result<BackupObject, string>> {
  let last = "";
  for (let i = 0; i < attempts; i++) {
    const r = await cluster.patchBackupStatus(namespace, name, status);
    if (r.ok) return r;
    last = r.error.message;
    if (r.error.code === 404) return { ok: false, error: `backup ${namespace}/${name} no longer exists` };
    if (r.error.code === 409) {
      // someone wrote in between: re-read so the next attempt is based on the current object
      await cluster.getBackup(namespace, name);
    }
    logger.warn({ backup: name, attempt: i + 1, err: r.error }, "updating backup status failed; retrying");
    await sleep(Math.min(30_000, backoffMs * 2 ** i));
  }
  return { ok: false, error: `updating status of backup ${namespace}/${name}: ${last}` };
}

export function finalStatusPatch(s: FinalStatus, now = new Date()): Partial<BackupStatus> {
  return {
    phase: s.phase,
    completionTimestamp: now.toISOString(),
    errors: s.errors,
    warnings: s.warnings,
    progress: { totalItems: s.totalItems, itemsBackedUp: s.itemsBackedUp },
    ...(s.failureReason ? { failureReason: s.failureReason } : {}),
    ...(s.hookStatus ? { hookStatus: s.hookStatus } : {}),
  };
}

export async function finishBackup(cluster: AgentCluster, backup: BackupObject, s: FinalStatus, logger: Logger): Promise<Result<BackupObject, string>> {
  const { namespace, name, uid } = backup.metadata;
  const r = await writeStatus(cluster, namespace, name, finalStatusPatch(s), logger);
  const involved = { apiVersion: "velero.io/v1", kind: "Backup", namespace, name, ...(uid ? { uid } : {}) };
  const hooks = s.hookStatus ? `, hooks attempted ${s.hookStatus.hooksAttempted}, failed ${s.hookStatus.hooksFailed}` : "";
  const message = `backup ${s.phase}: ${s.errors} errors, ${s.warnings} warnings, ${s.itemsBackedUp}/${s.totalItems} items${hooks}${s.failureReason ? `: ${s.failureReason}` : ""}`;
  await cluster.createEvent(involved, s.phase === "Completed" ? "Normal" : "Warning", s.phase === "Completed" ? "BackupCompleted" : `Backup${s.phase}`, message).catch(() => undefined);
  return r;
}
