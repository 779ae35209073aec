// Runs the real promtool (Debian package `prometheus`).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, type RunResult } from "../chart/render.js";

export function promtool(args: string[], opts: { cwd?: string; input?: string } = {}): Promise<RunResult> {
  return run("promtool", args, { ...opts, timeoutMs: 60_000 });
}

/** A temporary directory removed after `fn`, even when it throws. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "hookguard-obs-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
