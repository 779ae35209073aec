// An InProgress Backup whose owner is gone (the agent died or lost its lease mid-backup): run the
// post hooks recorded in hookguard.io/pending-post-hooks (at-least-once: a post hook may run twice
// when the old owner got to it just before dying; fsfreeze --unfreeze on a thawed fs is harmless,
// a pod left frozen is not), then mark the Backup Failed with a reason that says what happened.
import { setMaxListeners } from "node:events";
import { parseBackupHooks, type PodLike } from "../../domain/index.js";
import { BackupLog, backupLogPath } from "../store/backup-log.js";
import { newRunContext, type AgentDeps } from "../runtime/run-context.js";
import { OWNER_ANNOTATION, PENDING_ANNOTATION, parsePending } from "./pending.js";
import { runPodPhase } from "../hooks/run-phase.js";
import type { BackupObject } from "../../velero/types.js";
import { readResults, resultsPath, writeResults } from "../store/results.js";
import { finishBackup } from "./status.js";

export function isOrphanCandidate(b: BackupObject): boolean {
  return b.status?.phase === "InProgress" && Boolean(b.metadata.annotations?.[OWNER_ANNOTATION]);
}

export async function recoverBackup(
  deps: AgentDeps,
  backup: BackupObject,
  signal: AbortSignal,
): Promise<{ recoveredPods: number; aborted: boolean }> {
  const { name, namespace } = backup.metadata;
  const owner = backup.metadata.annotations?.[OWNER_ANNOTATION] ?? "unknown";
  const backupLog = new BackupLog(`${namespace}/${name}`, backupLogPath(deps.options.storageDir, name));
  backupLog.recordWarning(
    `agent ${owner} stopped while this backup was InProgress; ${deps.identity} recovers it`,
  );
  const pending = parsePending(backup.metadata.annotations?.[PENDING_ANNOTATION]);
  if (!pending.ok) backupLog.recordError(pending.error);
  const pods = pending.ok ? pending.value : [];
  setMaxListeners(0, signal);
  const ctx = newRunContext(deps, backup, backupLog, signal, true);
  const specs = parseBackupHooks(backup.spec.hooks, { pathPrefix: "spec.hooks" }).resources;
  const seen = new Set<string>();
  let recovered = 0;
  for (const p of pods) {
    const key = `${p.namespace}/${p.pod}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (signal.aborted) break;
    const got = await deps.cluster.getPod(p.namespace, p.pod);
    if (!got.ok || !got.value) {
      backupLog.recordError("pod awaiting post hooks cannot be reached; its post hooks did not run", {
        namespace: p.namespace,
        pod: p.pod,
        error: got.ok ? "pod no longer exists" : got.error.message,
      });
      continue;
    }
    backupLog.info("running pending post hooks of a recovered backup", {
      namespace: p.namespace,
      pod: p.pod,
    });
    deps.metrics.forcedPostHooks.inc({ reason: "recovery" });
    const r = await runPodPhase(ctx, got.value as PodLike, "post", specs);
    if (r.aborted) break;
    recovered++;
  }
  if (signal.aborted) {
    await backupLog.close();
    return { recoveredPods: recovered, aborted: true };
  }
  await deps.cluster.patchBackupMetadata(namespace, name, { annotations: { [PENDING_ANNOTATION]: null } });
  const reason = `agent ${owner} stopped while the backup was in progress; ${deps.identity} ran the pending post hooks of ${recovered} pod(s) (at-least-once) and marked the backup Failed`;
  backupLog.recordError(reason);
  await backupLog.close();
  const previous = await readResults(resultsPath(deps.options.storageDir, name));
  const prev = previous.ok ? previous.value : undefined;
  const hookStatus = ctx.tracker.stat();
  await writeResults(resultsPath(deps.options.storageDir, name), {
    backup: name,
    hookStatus,
    hooks: [...(prev?.hooks ?? []), ...ctx.records],
    errors: [...(prev?.errors ?? []), ...backupLog.errorMessages],
    warnings: [...(prev?.warnings ?? []), ...backupLog.warningMessages],
  }).catch((err: Error) => deps.logger.error({ err, backup: name }, "writing hook results failed"));
  const progress = backup.status?.progress ?? {};
  await finishBackup(
    deps.cluster,
    backup,
    {
      phase: "Failed",
      failureReason: reason,
      errors: (backup.status?.errors ?? 0) + backupLog.errors,
      warnings: (backup.status?.warnings ?? 0) + backupLog.warnings,
      totalItems: progress.totalItems ?? 0,
      itemsBackedUp: progress.itemsBackedUp ?? 0,
      hookStatus,
    },
    deps.logger,
  );
  deps.metrics.backups.inc({ phase: "Failed" });
  return { recoveredPods: recovered, aborted: false };
}
