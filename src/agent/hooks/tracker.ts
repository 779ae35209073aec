// Velero's HookTracker (internal/hook/hook_tracker.go): one per backup run. A hook is *added* before
// it runs (so it counts as attempted even when it is then skipped after an on-error Fail) and its
// result is *recorded* afterwards; only the first record of a key counts. The key uses the container
// as written ("" when defaulted) and the hook's index, exactly like Velero 1.17+.
import type { HookSource, Phase } from "../../domain/index.js";

export interface HookKey {
  namespace: string;
  pod: string;
  phase: Phase;
  source: HookSource;
  /** spec entry name; "" for annotation hooks */
  name: string;
  containerAsWritten: string;
  index: number;
}

export function hookKeyString(k: HookKey): string {
  // JSON keeps the parts unambiguous whatever characters they contain
  return JSON.stringify([k.namespace, k.pod, k.phase, k.source, k.name, k.containerAsWritten, k.index]);
}

interface Entry {
  executed: boolean;
  failed: boolean;
}

export class HookTracker {
  private readonly entries = new Map<string, Entry>();
  private attempted = 0;
  private failedCount = 0;

  /** Registers a hook; the first time a key is seen it counts as attempted. */
  add(key: HookKey): void {
    const k = hookKeyString(key);
    if (this.entries.has(k)) return;
    this.entries.set(k, { executed: false, failed: false });
    this.attempted++;
  }

  /**
   * Records a result. Returns false when the key was never added (Velero logs a warning then).
   * Only the first record of a key changes the counts.
   */
  record(key: HookKey, failed: boolean): boolean {
    const entry = this.entries.get(hookKeyString(key));
    if (!entry) return false;
    if (entry.executed) return true;
    entry.executed = true;
    entry.failed = failed;
    if (failed) this.failedCount++;
    return true;
  }

  stat(): { hooksAttempted: number; hooksFailed: number } {
    return { hooksAttempted: this.attempted, hooksFailed: this.failedCount };
  }
}
