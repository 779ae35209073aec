// A claimed Backup from InProgress to its final phase: log, tracker, run, archive, results file,
// status. Every exit path writes a final status, except an abort (leadership lost / shutdown),
// which leaves the Backup InProgress with its pending record for the recovering agent.
import { setMaxListeners } from "node:events";
import { BackupLog, backupLogPath } from "../store/backup-log.js";
import { newRunContext, type AgentDeps } from "../runtime/run-context.js";
import { runBackup, type BackupRunOutcome } from "./run-blocks.js";
import type { BackupObject } from "../../velero/types.js";
import type { HookRecord } from "../hooks/record.js";
import { resultsPath, writeResults } from "../store/results.js";
import { finishBackup } from "./status.js";

export interface ProcessResult {
  outcome: BackupRunOutcome;
  hookStatus: { hooksAttempted: number; hooksFailed: number };
  records: HookRecord[];
}

export async function processBackup(
  deps: AgentDeps,
  backup: BackupObject,
  outer: AbortSignal,
): Promise<ProcessResult> {
  const { name, namespace } = backup.metadata;
  // one listener per worker and per exec hangs on this signal: lift Node's leak warning (10)
  const linked = new AbortController();
  setMaxListeners(0, linked.signal);
  const onAbort = (): void => linked.abort();
  if (outer.aborted) linked.abort();
  else outer.addEventListener("abort", onAbort, { once: true });
  const signal = linked.signal;
  const started = Date.now();
  const running = deps.metrics.backupStarted();
  const backupLog = new BackupLog(`${namespace}/${name}`, backupLogPath(deps.options.storageDir, name));
  const ctx = newRunContext(deps, backup, backupLog, signal);
  let outcome: BackupRunOutcome;
  try {
    outcome = await runBackup(ctx, deps.options);
  } catch (err) {
    // a programmer error must still end the backup, not leave it InProgress
    const reason = `internal error: ${(err as Error).message}`;
    backupLog.recordError(reason);
    deps.logger.error({ err, backup: name }, "backup run threw");
    outcome = { phase: "Failed", failureReason: reason, totalItems: 0, itemsBackedUp: 0, aborted: false };
  }
  running();
  outer.removeEventListener("abort", onAbort);
  const hookStatus = ctx.tracker.stat();
  if (outcome.aborted) {
    backupLog.recordWarning(
      "backup interrupted (leadership lost or agent stopping); the next leader recovers it",
    );
    await backupLog.close();
    return { outcome, hookStatus, records: ctx.records };
  }
  backupLog.info(`hookAttempted: ${hookStatus.hooksAttempted}, hookFailed: ${hookStatus.hooksFailed}`);
  backupLog.info(`backup finished: ${outcome.phase}`);
  await backupLog.close();
  await writeResults(resultsPath(deps.options.storageDir, name), {
    backup: name,
    hookStatus,
    hooks: ctx.records,
    errors: backupLog.errorMessages,
    warnings: backupLog.warningMessages,
  }).catch((err: Error) => deps.logger.error({ err, backup: name }, "writing hook results failed"));
  const finished = await finishBackup(
    deps.cluster,
    backup,
    {
      phase: outcome.phase,
      ...(outcome.failureReason ? { failureReason: outcome.failureReason } : {}),
      errors: backupLog.errors,
      warnings: backupLog.warnings,
      totalItems: outcome.totalItems,
      itemsBackedUp: outcome.itemsBackedUp,
      // like Velero, absent when the backup failed before item processing
      ...(outcome.phase === "Failed" && outcome.totalItems === 0 && outcome.failureReason
        ? {}
        : { hookStatus }),
    },
    deps.logger,
  );
  if (!finished.ok)
    deps.logger.error({ backup: name, err: finished.error }, "could not write the final backup status");
  deps.metrics.backups.inc({ phase: outcome.phase });
  deps.metrics.backupDuration.observe((Date.now() - started) / 1000);
  return { outcome, hookStatus, records: ctx.records };
}
