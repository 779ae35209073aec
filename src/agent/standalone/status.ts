// Writing a Backup's final status. Velero's Backup has no status subresource, so the status is
// merge-patched through the Backup itself, guarded by the resourceVersion just read: the write lands
// only on the version that was checked (still InProgress, still this owner's), and a concurrent
// writer makes it fail with 409, answered by re-reading and checking again. Other API errors are
// retried with backoff, so no error path leaves a Backup InProgress while the agent is alive.
import type { Logger } from "../../log.js";
import type { Result } from "../../domain/index.js";
import { sleep } from "../../util/async.js";
import { OWNER_ANNOTATION } from "./pending.js";
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

/** Why the current Backup must not get this write, or undefined when it may. */
export type StatusGuard = (current: BackupObject) => string | undefined;

/** Re-reads, checks `guard`, then merge-patches the status at the version read; retries 409s and transient errors. */
export async function writeStatus(
  cluster: AgentCluster,
  namespace: string,
  name: string,
  status: Partial<BackupStatus>,
  logger: Logger,
  guard: StatusGuard = () => undefined,
  attempts = 10,
  backoffMs = 200,
): Promise<Result<BackupObject, string>> {
  let last = "";
  for (let i = 0; i < attempts; i++) {
    const got = await cluster.getBackup(namespace, name);
    if (got.ok && !got.value) return { ok: false, error: `backup ${namespace}/${name} no longer exists` };
    if (got.ok && got.value) {
      const refused = guard(got.value);
      if (refused) return { ok: false, error: `backup ${namespace}/${name}: ${refused}` };
      const r = await cluster.patchBackupStatus(namespace, name, status, got.value.metadata.resourceVersion);
      if (r.ok) return r;
      last = r.error.message;
      if (r.error.code === 404) return { ok: false, error: `backup ${namespace}/${name} no longer exists` };
      // someone wrote in between: the next round re-reads and checks the guard again
      if (r.error.code === 409) continue;
      logger.warn(
        { backup: name, attempt: i + 1, code: r.error.code, err: r.error.message },
        "updating backup status failed; retrying",
      );
    } else if (!got.ok) {
      last = got.error.message;
      logger.warn(
        { backup: name, attempt: i + 1, code: got.error.code, err: got.error.message },
        "reading backup before its status update failed; retrying",
      );
    }
    await sleep(Math.min(30_000, backoffMs * 2 ** i));
  }
  return { ok: false, error: `updating status of backup ${namespace}/${name}: ${last}` };
}

/** The final phase lands only on a Backup still InProgress under the owner of the copy the run started from. */
export function stillRunBy(backup: BackupObject): StatusGuard {
  const owner = backup.metadata.annotations?.[OWNER_ANNOTATION];
  return (cur) => {
    if (cur.status?.phase !== "InProgress")
      return `phase is ${cur.status?.phase ?? "unset"}, not InProgress; final status not written`;
    const now = cur.metadata.annotations?.[OWNER_ANNOTATION];
    if (now !== owner)
      return `now owned by ${now ?? "nobody"}, not ${owner ?? "nobody"}; final status not written`;
    return undefined;
  };
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

export async function finishBackup(
  cluster: AgentCluster,
  backup: BackupObject,
  s: FinalStatus,
  logger: Logger,
): Promise<Result<BackupObject, string>> {
  const { namespace, name, uid } = backup.metadata;
  const r = await writeStatus(cluster, namespace, name, finalStatusPatch(s), logger, stillRunBy(backup));
  const involved = { apiVersion: "velero.io/v1", kind: "Backup", namespace, name, ...(uid ? { uid } : {}) };
  const hooks = s.hookStatus
    ? `, hooks attempted ${s.hookStatus.hooksAttempted}, failed ${s.hookStatus.hooksFailed}`
    : "";
  const message = `backup ${s.phase}: ${s.errors} errors, ${s.warnings} warnings, ${s.itemsBackedUp}/${s.totalItems} items${hooks}${s.failureReason ? `: ${s.failureReason}` : ""}`;
  await cluster
    .createEvent(
      involved,
      s.phase === "Completed" ? "Normal" : "Warning",
      s.phase === "Completed" ? "BackupCompleted" : `Backup${s.phase}`,
      message,
    )
    .catch(() => undefined);
  return r;
}
