// Per-hook result records of one backup, written to `<storage-dir>/<backup>/<backup>-hooks.json`
// and read back by `hookguard backup describe`. Velero keeps only counts; the per-hook table is
// what tells a user *which* hook failed and why.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { HookSource, Phase, Result } from "../../domain/index.js";

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
  warnings?: string[];
  /** true when a recovering agent ran this post hook for a dead owner */
  recovered?: boolean;
}

export interface BackupResultsFile {
  backup: string;
  hookStatus: { hooksAttempted: number; hooksFailed: number };
  hooks: HookRecord[];
  errors: string[];
  warnings: string[];
}

export function resultsPath(storageDir: string, backup: string): string {
  return `${storageDir}/${backup}/${backup}-hooks.json`;
}

/** Writes atomically (tmp + rename) so a reader never sees half a file. */
export async function writeResults(path: string, file: BackupResultsFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o640 });
  await rename(tmp, path);
}

export async function readResults(path: string): Promise<Result<BackupResultsFile | undefined, string>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { ok: true, value: undefined };
    return { ok: false, error: `cannot read ${path}: ${(err as Error).message}` };
  }
  try {
    const parsed = JSON.parse(text) as BackupResultsFile;
    if (!parsed || !Array.isArray(parsed.hooks)) return { ok: false, error: `${path} is not a hookguard results file` };
    return { ok: true, value: parsed };
  } catch (err) {
    return { ok: false, error: `${path} is not valid JSON: ${(err as Error).message}` };
  }
}
