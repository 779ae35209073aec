// Deleting one Backup hookguard ran, in an order that a crash can interrupt anywhere: first its
// VolumeSnapshots (found by the backup-uid label the agent sets when it creates them, and waited for
// until the snapshot controller has removed them, finalizers included), then its files in
// --storage-dir (archive, log, results), and the Backup object last. Until that last step the Backup
// itself is the record that something remains to delete, so the next attempt, the next agent or the
// next leader resumes where this one stopped; every step treats "already gone" as done.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Result } from "../../domain/index.js";
import { sleep } from "../../util/async.js";
import type { AgentDeps } from "../runtime/run-context.js";
import type { BackupObject } from "../../velero/types.js";
import { OWNER_ANNOTATION } from "./pending.js";

/** Set by `hookguard backup delete` (its value: when it was asked); the leader does the deleting. */
export const DELETE_ANNOTATION = "hookguard.io/delete-requested";
/** On every VolumeSnapshot the agent creates: the uid of the Backup it belongs to. */
export const BACKUP_UID_LABEL = "hookguard.io/backup-uid";

/** The phases a Backup hookguard ran can be deleted in: it has finished. */
const FINISHED = new Set(["Completed", "PartiallyFailed", "Failed"]);

/** hookguard's standalone agent claimed (and so ran) this Backup: the claim writes the owner annotation. */
export const ranByHookguard = (b: BackupObject): boolean =>
  Boolean(b.metadata.annotations?.[OWNER_ANNOTATION]);

export const deletionRequested = (b: BackupObject): boolean =>
  Boolean(b.metadata.annotations?.[DELETE_ANNOTATION]);

export type DeletionRefusal =
  /** never hookguard's to delete: Velero (or nobody yet) ran it */
  | { kind: "not-hookguard"; message: string }
  /** hookguard's, but still running: it can be deleted once it has finished */
  | { kind: "not-finished"; message: string };

/** Why hookguard must not delete this Backup (now), or undefined when it may. */
export function deletionRefusal(b: BackupObject): DeletionRefusal | undefined {
  const { namespace, name } = b.metadata;
  if (!ranByHookguard(b))
    return {
      kind: "not-hookguard",
      message: `backup ${namespace}/${name} was not run by hookguard's standalone agent (it has no ${OWNER_ANNOTATION} annotation); hookguard deletes only the Backups it ran. If Velero ran it, delete it with \`velero backup delete ${name} -n ${namespace}\``,
    };
  const phase = b.status?.phase ?? "";
  if (!FINISHED.has(phase))
    return {
      kind: "not-finished",
      message: `backup ${namespace}/${name} is ${phase || "New"}; it can be deleted once it has finished`,
    };
  return undefined;
}

/** `<storage-dir>/<backup>/`: the archive, the backup log and the hook results. */
export function backupDir(storageDir: string, backup: string): string | undefined {
  // an object name has no "/" and is never "." or "..": anything else is refused, not joined
  if (backup === "" || backup === "." || backup === ".." || /[/\\]/.test(backup)) return undefined;
  return join(storageDir, backup);
}

export type DeletionStep = "snapshots" | "files" | "backup";

export interface DeletionFailure {
  step: DeletionStep;
  message: string;
}

/**
 * Deletes what the Backup left (snapshots, files) and then the Backup. Stops at the first step that
 * fails and says which; `aborted` when leadership was lost or the agent stops (nothing is counted then).
 */
export async function deleteBackupAndData(
  deps: AgentDeps,
  backup: BackupObject,
  signal: AbortSignal,
): Promise<Result<{ snapshots: number }, DeletionFailure | "aborted">> {
  const { namespace, name, uid } = backup.metadata;
  const cluster = deps.cluster;
  if (!uid) return { ok: false, error: { step: "snapshots", message: "the Backup has no uid" } };

  const selector = `${BACKUP_UID_LABEL}=${uid}`;
  const listed = await cluster.listVolumeSnapshots(selector);
  if (!listed.ok)
    return {
      ok: false,
      error: { step: "snapshots", message: `listing VolumeSnapshots: ${listed.error.message}` },
    };
  const failed: string[] = [];
  for (const vs of listed.value) {
    if (signal.aborted) return { ok: false, error: "aborted" };
    if (vs.deleting) continue;
    const r = await cluster.deleteVolumeSnapshot(vs.namespace, vs.name);
    if (!r.ok) failed.push(`${vs.namespace}/${vs.name}: ${r.error.message}`);
  }
  if (failed.length > 0)
    return {
      ok: false,
      error: { step: "snapshots", message: `deleting VolumeSnapshot ${failed.join("; ")}` },
    };
  // a deleted VolumeSnapshot stays until the snapshot controller has removed its content (and the
  // storage's snapshot): only then is the Backup's record of it no longer needed. Waited for up to
  // --snapshot-timeout (at most a minute); past that the deletion is retried later.
  const deadline = Date.now() + Math.min(deps.options.snapshotTimeoutMs, 60_000);
  for (;;) {
    const left = await cluster.listVolumeSnapshots(selector);
    if (!left.ok)
      return {
        ok: false,
        error: { step: "snapshots", message: `listing VolumeSnapshots: ${left.error.message}` },
      };
    if (left.value.length === 0) break;
    if (signal.aborted) return { ok: false, error: "aborted" };
    if (Date.now() >= deadline)
      return {
        ok: false,
        error: {
          step: "snapshots",
          message: `waiting for the snapshot controller to remove ${left.value.length} VolumeSnapshot(s): ${left.value
            .map((v) => `${v.namespace}/${v.name}`)
            .join(", ")}`,
        },
      };
    await sleep(Math.min(deps.options.snapshotPollMs ?? 500, Math.max(1, deadline - Date.now())), signal);
  }
  if (signal.aborted) return { ok: false, error: "aborted" };

  const dir = backupDir(deps.options.storageDir, name);
  if (!dir)
    return { ok: false, error: { step: "files", message: `unusable backup name ${JSON.stringify(name)}` } };
  try {
    await rm(dir, { recursive: true, force: true });
  } catch (err) {
    return { ok: false, error: { step: "files", message: `removing ${dir}: ${(err as Error).message}` } };
  }
  if (signal.aborted) return { ok: false, error: "aborted" };

  const del = await cluster.deleteBackup(namespace, name, uid);
  // 409: the uid precondition failed, so this Backup is already gone and another took its name
  if (!del.ok && del.error.code !== 409)
    return { ok: false, error: { step: "backup", message: `deleting the Backup: ${del.error.message}` } };
  return { ok: true, value: { snapshots: listed.value.length } };
}
