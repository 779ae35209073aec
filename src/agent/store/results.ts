// Per-hook result records of one backup, written to `<storage-dir>/<backup>/<backup>-hooks.json`
// and read back by `hookguard backup describe`. Velero keeps only counts; the per-hook table is
// what tells a user *which* hook failed and why.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Result } from "../../domain/index.js";
import type { HookRecord } from "../hooks/record.js";

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
    if (!parsed || !Array.isArray(parsed.hooks))
      return { ok: false, error: `${path} is not a hookguard results file` };
    return { ok: true, value: parsed };
  } catch (err) {
    return { ok: false, error: `${path} is not valid JSON: ${(err as Error).message}` };
  }
}
