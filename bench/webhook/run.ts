// `npm run bench:webhook`: hookguard's /validate against the express floor and bare node:https, with
// the same client (autocannon over TLS keep-alive), connections, certificate and body, then hookguard
// at half its measured maximum for the p99 an API server would see under ordinary load. The last
// line of output is one JSON object (the issue's format).
//
// The machine is shared, so load from elsewhere comes and goes: the servers run in their own
// processes, all started up front, and are measured in interleaved rounds (median per server), so a
// burst of outside load hits every contender rather than one.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { ensureDevCerts } from "../../src/tls/cert-dir.js";
import { compileForBench, compiledPath } from "../build.js";
import { cpuTimes } from "../proc.js";
import { benchReview } from "./body.js";
import { pacedLoad } from "./paced.js";
import { startServer } from "./server-process.js";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUND_S = Number(process.env.BENCH_ROUND_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SERVERS_ENTRY = "bench/webhook/servers.ts";
// The servers run compiled by tsc, as the image runs hookguard; BENCH_RUNTIME=tsx runs the sources.
const RUNTIME = process.env.BENCH_RUNTIME === "tsx" ? "tsx" : "tsc";

async function serverCommand(): Promise<string[]> {
  if (RUNTIME === "tsx") return ["--import", "tsx", fileURLToPath(new URL("./servers.ts", import.meta.url))];
  return [compiledPath(await compileForBench("webhook", [SERVERS_ENTRY]), SERVERS_ENTRY)];
}

interface Measured {
  rps: number;
  /** Server CPU time per request (user+system, from /proc): the figure outside load cannot inflate. */
  cpuUs: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

interface GcPauses {
  scavenges: number;
  scavengeMeanMs: number;
  scavengeMaxMs: number;
  markCompacts: number;
  pausedMs: number;
}

/** Waiting gcSince() calls, by server mode. */
const gcReports = new Map<string, (r: GcPauses) => void>();

/** The server's garbage-collection pauses since the last call (servers.ts answers SIGUSR2). */
function gcSince(mode: string, child: ChildProcess): Promise<GcPauses> {
  return new Promise((resolve) => {
    gcReports.set(mode, resolve);
    child.kill("SIGUSR2");
  });
}

/** servers.ts's "gc {...}" answer, passed to the waiting gcSince(). */
const gcAnswer = (mode: string) => (line: string) => {
  if (line.startsWith("gc ")) gcReports.get(mode)?.(JSON.parse(line.slice(3)) as GcPauses);
};

/** user+system CPU of a process in microseconds. */
function cpuMicros(pid: number): number {
  const t = cpuTimes(pid);
  return Math.round((t.user + t.sys) * 1e6);
}

async function load(port: number, body: string, seconds: number, overallRate?: number, pid?: number): Promise<Measured> {
  const cpuBefore = pid ? cpuMicros(pid) : 0;
  const r = await autocannon({
    url: `https://127.0.0.1:${port}/validate`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    connections: CONNECTIONS,
    duration: seconds,
    ...(overallRate ? { overallRate } : {}),
  });
  const cpuUs = pid && r.requests.total > 0 ? Math.round((cpuMicros(pid) - cpuBefore) / r.requests.total) : 0;
  return { rps: Math.round(r.requests.average), cpuUs, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
function summarise(runs: Measured[]): Measured {
  return {
    rps: median(runs.map((r) => r.rps)),
    cpuUs: median(runs.map((r) => r.cpuUs)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
  };
}

const fmt = (name: string, m: Measured) =>
  `${name.padEnd(40)} ${String(m.rps).padStart(7)} req/s   ${String(m.cpuUs).padStart(4)} µs CPU/req   p50 ${String(m.p50).padStart(3)} ms   p99 ${String(m.p99).padStart(3)} ms${m.errors || m.non2xx ? `   (errors ${m.errors}, non-2xx ${m.non2xx})` : ""}`;
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

const certDir = mkdtempSync(join(tmpdir(), "hookguard-bench-"));
const children: ChildProcess[] = [];
try {
  const made = ensureDevCerts(certDir);
  if (!made.ok) throw new Error(made.error);
  const body = benchReview();
  const modes = ["bare", "express", "hookguard", "hookguard-direct"] as const;
  const servers = new Map<string, number>();
  const pids = new Map<string, number>();
  const command = await serverCommand();
  for (const mode of modes) {
    const { child, port } = await startServer(command, mode, certDir, gcAnswer(mode));
    children.push(child);
    servers.set(mode, port);
    pids.set(mode, child.pid!);
  }
  console.log(
    `webhook bench: autocannon, TLS keep-alive, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${ROUND_S} s per server (medians), ` +
      `POST of a ${body.length}-byte Pod AdmissionReview with hooks; servers ${RUNTIME === "tsc" ? "compiled by tsc (as the image runs them)" : "run from source through tsx"}; load average before: ${loadavg().map((l) => l.toFixed(1)).join(" ")}`,
  );
  for (const mode of modes) await load(servers.get(mode)!, body, 1); // JIT warm-up
  const runs = new Map<string, Measured[]>(modes.map((m) => [m, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of modes) runs.get(mode)!.push(await load(servers.get(mode)!, body, ROUND_S, undefined, pids.get(mode)));
  }
  const [bare, floor, hg, direct] = modes.map((m) => summarise(runs.get(m)!)) as [Measured, Measured, Measured, Measured];
  const halfRate = Math.max(1, Math.round(hg.rps / 2));
  const childOf = new Map<string, ChildProcess>(modes.map((m, i) => [m, children[i]!]));
  const paced = async (mode: string) => {
    await gcSince(mode, childOf.get(mode)!);
    const r = await pacedLoad({ port: servers.get(mode)!, body, rate: halfRate, seconds: ROUND_S + 2, connections: CONNECTIONS });
    return { ...r, gc: await gcSince(mode, childOf.get(mode)!) };
  };
  const half = await paced("hookguard");
  // The same client and rate against the floor and bare node: the tail this machine and client add.
  const halfFloor = await paced("express");
  const halfBare = await paced("bare");
  const halfDirect = await paced("hookguard-direct");
  // For the record: the same rate through autocannon's per-second burst limiter.
  const halfBurst = await load(servers.get("hookguard")!, body, ROUND_S, halfRate);
  console.log(fmt("(3) bare node:https", bare));
  console.log(fmt("(2) express floor", floor));
  console.log(fmt("(1) hookguard /validate", hg));
  console.log(`    hookguard at half load, evenly paced (${halfRate}/s, ${half.sent} requests, ${half.errors} errors): p50 ${half.p50} ms   p99 ${half.p99} ms`);
  console.log(`    (same rate via autocannon's per-second bursts: p50 ${halfBurst.p50} ms, p99 ${halfBurst.p99} ms)`);
  console.log(`    the same paced client and rate against the express floor: p50 ${halfFloor.p50} ms, p99 ${halfFloor.p99} ms; against bare node:https: p50 ${halfBare.p50} ms, p99 ${halfBare.p99} ms`);
  const gcText = (g: GcPauses) => `${g.scavenges} scavenges, mean ${g.scavengeMeanMs.toFixed(1)} ms, max ${g.scavengeMaxMs.toFixed(1)} ms; ${g.markCompacts} mark-compacts; ${Math.round(g.pausedMs)} ms paused in all`;
  console.log(`    the alternative (1b) at the same rate: p50 ${halfDirect.p50} ms, p99 ${halfDirect.p99} ms`);
  console.log(`    server GC pauses during those paced runs: hookguard ${gcText(half.gc)} | express floor ${gcText(halfFloor.gc)} | bare ${gcText(halfBare.gc)} | alternative ${gcText(halfDirect.gc)}`);
  console.log(fmt("(1b) alternative: routes before express", direct));
  console.log(`ratios from server CPU per request (throughput per core, insensitive to outside load): hookguard/express floor ${ratio(floor.cpuUs, hg.cpuUs)}, hookguard/bare ${ratio(bare.cpuUs, hg.cpuUs)}, express floor/bare ${ratio(bare.cpuUs, floor.cpuUs)}, alternative/bare ${ratio(bare.cpuUs, direct.cpuUs)}`);
  console.log(`ratios: hookguard/express floor ${ratio(hg.rps, floor.rps)}, hookguard/bare ${ratio(hg.rps, bare.rps)}, express floor/bare ${ratio(floor.rps, bare.rps)}, alternative/bare ${ratio(direct.rps, bare.rps)}`);
  console.log(`per-round req/s: ${modes.map((m) => `${m} ${runs.get(m)!.map((r) => r.rps).join("/")}`).join(", ")}; load average after: ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  if ([bare, floor, hg, direct, halfBurst].some((m) => m.errors > 0 || m.non2xx > 0) || [half, halfFloor, halfBare, halfDirect].some((h) => h.errors > 0)) process.exitCode = 1;
  console.log(
    JSON.stringify({
      bench: "webhook",
      hookguardRps: hg.rps,
      expressFloorRps: floor.rps,
      bareRps: bare.rps,
      ratioToExpressFloor: ratio(hg.rps, floor.rps),
      ratioToBare: ratio(hg.rps, bare.rps),
      p50Ms: hg.p50,
      p99MsAtHalfLoad: half.p99,
      cpuRatioToExpressFloor: ratio(floor.cpuUs, hg.cpuUs),
      p99MsAtHalfLoadExpressFloor: halfFloor.p99,
      p99MsAtHalfLoadBare: halfBare.p99,
      p99MsAtHalfLoadAlternative: halfDirect.p99,
    }),
  );
} finally {
  for (const child of children) child.kill("SIGKILL");
  rmSync(certDir, { recursive: true, force: true });
}
