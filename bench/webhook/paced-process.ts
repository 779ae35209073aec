// The paced half-load client (paced.ts) in a fresh process of its own. Run inside the bench process,
// it shared a heap with autocannon's earlier rounds, whose garbage could then be collected during a
// paced run, in the p99 of whichever server was being measured. Here the client starts clean, and
// reports its own GC pauses next to the result so that can be checked.
// As a script: paced-process.js '<json options>'; prints one JSON line, PacedResult plus `clientGc`.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PerformanceObserver } from "node:perf_hooks";
import { pacedLoad, type PacedOptions, type PacedResult } from "./paced.js";

export interface ClientGc {
  collections: number;
  maxMs: number;
  pausedMs: number;
}

export const PACED_ENTRY = "bench/webhook/paced-process.ts";

/** Runs pacedLoad in a new node process (`script`: this file, compiled or with `--import tsx` before it). */
export function pacedInChild(
  script: string[],
  o: PacedOptions,
): Promise<PacedResult & { clientGc: ClientGc }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...script, JSON.stringify(o)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`paced client exited with ${code}`));
      resolve(JSON.parse(out.trim().split("\n").at(-1)!) as PacedResult & { clientGc: ClientGc });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const pauses: number[] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push(e.duration);
  }).observe({ entryTypes: ["gc"] });
  const result = await pacedLoad(JSON.parse(process.argv[2]!) as PacedOptions);
  const clientGc: ClientGc = {
    collections: pauses.length,
    maxMs: Math.round(Math.max(0, ...pauses) * 100) / 100,
    pausedMs: Math.round(pauses.reduce((a, b) => a + b, 0)),
  };
  process.stdout.write(`${JSON.stringify({ ...result, clientGc })}\n`);
}
