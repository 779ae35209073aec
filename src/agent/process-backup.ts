// A claimed Backup from InProgress to its final phase: log, tracker, run, archive, results file,
// status. Every exit path writes a final status, except an abort (leadership lost / shutdown),
// which leaves the Backup InProgress with its pending record for the recovering agent.
import { setMaxListeners } from "node:events";
import { BackupLog } from "./backup-log.js";
import { newRunContext, type AgentDeps } from "./deps.js";
import { runBackup, type BackupRunOutcome } from "./backup-run.js";
import type { BackupObject } from "./ports.js";
import { resultsPath, writeResults, type HookRecord } from "./results.js";
import { finishBackup } from "./status.js";

export function backupLogPath(storageDir: string, backup: string): string {
  return `${storageDir}/${backup}/${backup}-logs.jsonl`;
}

export interface ProcessResult {
  outcome: BackupRunOutcome;
  hookStatus: { hooksAttempted: number; hooksFailed: number };
  records: HookRecord[];
}

export async function processBackup(deps: AgentDeps, backup: BackupObject, outer: AbortSignal): Promise<ProcessResult> {
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
  const log = new BackupLog(`${namespace}/${name}`, backupLogPath(deps.options.storageDir, name));
  const ctx = newRunContext(deps, backup, log, signal);
  let outcome: BackupRunOutcome;
  try {
    outcome = await runBackup(ctx, deps.options);
  } catch (err) {
    // a programmer error must still end the backup, not leave it InProgress
    const reason = `internal error: ${(err as Error).message}`;
    log.error(reason);
    deps.logger.error({ err, backup: name }, "backup run threw");
    outcome = { phase: "Failed", failureReason: reason, totalItems: 0, itemsBackedUp: 0, aborted: false };
  }
  running();
  outer.removeEventListener("abort", onAbort);
  const hookStatus = ctx.tracker.stat();
  if (outcome.aborted) {
    log.warn("backup interrupted (leadership lost or agent stopping); the next leader recovers it");
    await log.close();
    return { outcome, hookStatus, records: ctx.records };
  }
  log.info(`hookAttempted: ${hookStatus.hooksAttempted}, hookFailed: ${hookStatus.hooksFailed}`);
  log.info(`backup finished: ${outcome.phase}`);
  await log.close();
  await writeResults(resultsPath(deps.options.storageDir, name), {
    backup: name,
    hookStatus,
    hooks: ctx.records,
    errors: log.errorMessages,
    warnings: log.warningMessages,
  }).catch((err: Error) => deps.logger.error({ err, backup: name }, "writing hook results failed"));
  const finished = await finishBackup(
    deps.cluster,
    backup,
    {
      phase: outcome.phase,
      ...(outcome.failureReason ? { failureReason: outcome.failureReason } : {}),
      errors: log.errors,
      warnings: log.warnings,
      totalItems: outcome.totalItems,
      itemsBackedUp: outcome.itemsBackedUp,
      // like Velero, absent when the backup failed before item processing
      ...(outcome.phase === "Failed" && outcome.totalItems === 0 && outcome.failureReason ? {} : { hookStatus }),
    },
    deps.logger,
  );
  if (!finished.ok) deps.logger.error({ backup: name, err: finished.error }, "could not write the final backup status");
  deps.metrics.backups.inc({ phase: outcome.phase });
  deps.metrics.backupDuration.observe((Date.now() - started) / 1000);
  return { outcome, hookStatus, records: ctx.records };
}
