// What the hook runner records for each hook it handled: the row `hookguard backup describe` shows
// and the results file keeps. Velero keeps only counts; this tells a user *which* hook failed and why.
import type { HookSource, Phase } from "../../domain/index.js";

export type HookResultKind =
  /** exited 0 */
  | "succeeded"
  /** non-zero exit, transport error, blocked by a finding, pod or container not runnable */
  | "failed"
  | "timed_out"
  /** pod already Succeeded/Failed: not executed, not failed (as Velero) */
  | "skipped"
  /** registered but not executed because an earlier hook of the pod+phase failed with on-error Fail */
  | "not_run";

export interface HookRecord {
  namespace: string;
  pod: string;
  container: string;
  phase: Phase;
  source: HookSource;
  /** spec entry name, or `<from-annotation>` */
  name: string;
  argv: string[];
  onError: string;
  result: HookResultKind;
  exitCode?: number;
  durationMs: number;
  error?: string;
  /** the last non-empty line of stderr of a command that exited non-zero: usually the reason it failed */
  cause?: string;
  /** when the hook was started (ISO): records are appended as hooks finish, describe lists them by start */
  startedAt?: string;
  warnings?: string[];
  /** true when a recovering agent ran this post hook for a dead owner */
  recovered?: boolean;
}
