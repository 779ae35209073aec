// When a Velero-run Backup counts as interrupted between its pods' pre and post hooks: the thaw
// guard's three triggers (docs/thaw-guard.md). Pure: the caller passes the Backup, what it saw of
// the Velero server's pods, and the time.
//
// Only `InProgress` matters for triggers 1 and 3: Velero runs every hook inside that phase and
// writes status.hookStatus just before leaving it, so a Backup in WaitingForPluginOperations* or
// Finalizing* has had all the post hooks it will get, and Velero resumes those phases after a restart.
import type { BackupObject } from "../../velero/types.js";
import { SERVER_START_FAILURE_REASON } from "../../velero/server-pods.js";

export type InterruptReason = "velero_died" | "velero_failed" | "freeze_window";
export const INTERRUPT_REASONS: readonly InterruptReason[] = [
  "velero_died",
  "velero_failed",
  "freeze_window",
];

export interface JudgeInput {
  backup: BackupObject;
  /** the server processes that were running when this Backup was first seen InProgress; undefined: not seen yet */
  witness: ReadonlySet<string> | undefined;
  /** the server processes running now (from a synced pod informer) */
  running: ReadonlySet<string>;
  /** at least one Velero server pod exists (running or not) */
  serverPodsPresent: boolean;
  /** false until the pod informer has listed: then nothing is judged about the server */
  podsSynced: boolean;
  now: number;
  /** 0 = trigger 3 off */
  maxFreezeWindowMs: number;
}

export type Judgement =
  | { kind: "interrupted"; reason: InterruptReason; detail: string }
  /** still running: remember `witness` if given, look again at `recheckAt` (ms) if given */
  | { kind: "watch"; witness?: ReadonlySet<string>; recheckAt?: number }
  /** nothing to do for this Backup (not InProgress, ended normally, or failed for another reason) */
  | { kind: "ignore" };

export function isFailedAtServerStart(b: BackupObject): boolean {
  return b.status?.phase === "Failed" && b.status.failureReason === SERVER_START_FAILURE_REASON;
}

export function judgeBackup(input: JudgeInput): Judgement {
  const { backup } = input;
  if (isFailedAtServerStart(backup))
    return {
      kind: "interrupted",
      reason: "velero_failed",
      detail: "a Velero server found it InProgress when it started and marked it Failed",
    };
  if (backup.status?.phase !== "InProgress") return { kind: "ignore" };

  let witness: ReadonlySet<string> | undefined;
  if (input.podsSynced) {
    if (input.witness === undefined) {
      if (input.running.size > 0) witness = input.running;
      else if (input.serverPodsPresent)
        return {
          kind: "interrupted",
          reason: "velero_died",
          detail: "no Velero server container is running while the Backup is InProgress",
        };
      // no server pod found at all (labels not recognised, or scaled to 0): trigger 1 cannot judge
    } else if (input.witness.size > 0 && ![...input.witness].some((w) => input.running.has(w))) {
      return {
        kind: "interrupted",
        reason: "velero_died",
        detail: "the Velero server process that was running it restarted or went away",
      };
    }
  }

  let recheckAt: number | undefined;
  const started = Date.parse(backup.status?.startTimestamp ?? "");
  if (input.maxFreezeWindowMs > 0 && !Number.isNaN(started)) {
    const due = started + input.maxFreezeWindowMs;
    if (input.now >= due)
      return {
        kind: "interrupted",
        reason: "freeze_window",
        detail: `InProgress for longer than --max-freeze-window (${Math.round(input.maxFreezeWindowMs / 1000)}s); Velero still holds it, so the backup may be inconsistent`,
      };
    recheckAt = due;
  }
  return {
    kind: "watch",
    ...(witness ? { witness } : {}),
    ...(recheckAt !== undefined ? { recheckAt } : {}),
  };
}
