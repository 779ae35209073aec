// `npm run bench:webhook`: hookguard's /validate against the express floor and bare node:https, with
// the same client (autocannon over TLS keep-alive), connections, certificate and body, then hookguard
// at half its measured maximum for the p99 an API server would see under ordinary load. Absolute
// milliseconds move with this shared machine's load, so the tail is judged as a ratio: hookguard's
// paced p99 over bare node's at the same rate in the same round (bare node being the physical limit
// of this stack), median over rounds, with every round's ratio shown. The last line of output is one
// JSON object (the issue's format).
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
import type { PacedResult } from "./paced.js";
import { PACED_ENTRY, pacedInChild, type ClientGc } from "./paced-process.js";
import { startServer } from "./server-process.js";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUND_S = Number(process.env.BENCH_ROUND_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SERVERS_ENTRY = "bench/webhook/servers.ts";
// The servers run compiled by tsc, as the image runs hookguard; BENCH_RUNTIME=tsx runs the sources.
const RUNTIME = process.env.BENCH_RUNTIME === "tsx" ? "tsx" : "tsc";

/** node arguments that run the servers and the paced client. */
async function commands(): Promise<{ server: string[]; paced: string[] }> {
  if (RUNTIME === "tsx") {
    const source = (file: string) => ["--import", "tsx", fileURLToPath(new URL(file, import.meta.url))];
    return { server: source("./servers.ts"), paced: source("./paced-process.ts") };
  }
  const out = await compileForBench("webhook", [SERVERS_ENTRY, PACED_ENTRY]);
  return { server: [compiledPath(out, SERVERS_ENTRY)], paced: [compiledPath(out, PACED_ENTRY)] };
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
  markCompactMaxMs: number;
  pausedMs: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

interface PacedRun extends PacedResult {
  clientGc: ClientGc;
  gc: GcPauses;
  /** The server's CPU per answered request during the run (warm-up second included). */
  cpuUs: number;
}

interface PacedSummary {
  p50: number;
  p99: number;
  p99s: number[];
  cpuUs: number;
  errors: number;
  scavenges: number;
  scavengeMeanMs: number;
  scavengeMaxMs: number;
  markCompacts: number;
  /** per round: the server's mark-compacts, its longest one, its longest event-loop stall */
  rounds: string[];
  loopDelayP99Ms: number;
  clientGcMaxMs: number;
}

/** Medians of the latencies and of the server's event-loop delay; GC counts summed, maxima of maxima. */
function summarisePaced(runs: PacedRun[]): PacedSummary {
  const scavenges = runs.reduce((n, r) => n + r.gc.scavenges, 0);
  return {
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    p99s: runs.map((r) => r.p99),
    cpuUs: median(runs.map((r) => r.cpuUs)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    scavenges,
    scavengeMeanMs: scavenges
      ? runs.reduce((t, r) => t + r.gc.scavengeMeanMs * r.gc.scavenges, 0) / scavenges
      : 0,
    scavengeMaxMs: Math.max(...runs.map((r) => r.gc.scavengeMaxMs)),
    markCompacts: runs.reduce((n, r) => n + r.gc.markCompacts, 0),
    rounds: runs.map(
      (r) => `${r.gc.markCompacts}×${r.gc.markCompactMaxMs.toFixed(0)}ms/${r.gc.loopDelayMaxMs.toFixed(0)}ms`,
    ),
    loopDelayP99Ms: median(runs.map((r) => r.gc.loopDelayP99Ms)),
    clientGcMaxMs: Math.max(...runs.map((r) => r.clientGc.maxMs)),
  };
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

async function load(
  port: number,
  body: string,
  seconds: number,
  overallRate?: number,
  pid?: number,
): Promise<Measured> {
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
  return {
    rps: Math.round(r.requests.average),
    cpuUs,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
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
/** The targets the issue sets: tail ratio to bare node at most 1.3, throughput at least 1.5x the floor. */
const TAIL_TARGET = 1.3;
const THROUGHPUT_TARGET = 1.5;

interface TailRound {
  hookguardP99: number;
  bareP99: number;
  ratio: number;
  /** Bare node's own p99 was over twice its median: outside load hit this round (kept, marked). */
  noisy: boolean;
}

/** hookguard's paced p99 over bare node's, round by round (they ran back to back in each round). */
function tailRounds(hookguard: PacedRun[], bare: PacedRun[]): TailRound[] {
  const bareMedian = median(bare.map((r) => r.p99));
  return hookguard.map((h, i) => {
    const b = bare[i]!.p99;
    return { hookguardP99: h.p99, bareP99: b, ratio: ratio(h.p99, b), noisy: b > 2 * bareMedian };
  });
}

const certDir = mkdtempSync(join(tmpdir(), "hookguard-bench-"));
const children: ChildProcess[] = [];
try {
  const made = ensureDevCerts(certDir);
  if (!made.ok) throw new Error(made.error);
  const body = benchReview();
  const modes = ["bare", "express", "hookguard"] as const;
  const servers = new Map<string, number>();
  const pids = new Map<string, number>();
  const command = await commands();
  for (const mode of modes) {
    const { child, port } = await startServer(command.server, mode, certDir, gcAnswer(mode));
    children.push(child);
    servers.set(mode, port);
    pids.set(mode, child.pid!);
  }
  console.log(
    `webhook bench: autocannon, TLS keep-alive, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${ROUND_S} s per server (medians), ` +
      `POST of a ${body.length}-byte Pod AdmissionReview with hooks; servers ${RUNTIME === "tsc" ? "compiled by tsc (as the image runs them)" : "run from source through tsx"}; load average before: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
  );
  const childOf = new Map<string, ChildProcess>(modes.map((m, i) => [m, children[i]!]));
  /**
   * Runs `measure` with every other server process stopped (SIGSTOP, then SIGCONT): an idle node
   * process still collects garbage some seconds after its load ends (V8's memory reducer), and on
   * two cores that CPU is taken from whichever server is measured next.
   */
  const alone = async <T>(mode: string, measure: () => Promise<T>): Promise<T> => {
    const others = [...childOf].filter(([m]) => m !== mode).map(([, c]) => c);
    for (const c of others) c.kill("SIGSTOP");
    try {
      return await measure();
    } finally {
      for (const c of others) c.kill("SIGCONT");
    }
  };
  for (const mode of modes) await load(servers.get(mode)!, body, 1); // JIT warm-up
  const runs = new Map<string, Measured[]>(modes.map((m) => [m, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of modes)
      runs
        .get(mode)!
        .push(await alone(mode, () => load(servers.get(mode)!, body, ROUND_S, undefined, pids.get(mode))));
  }
  const [bare, floor, hg] = modes.map((m) => summarise(runs.get(m)!)) as [Measured, Measured, Measured];
  // Half load: hookguard at half its measured maximum (the issue's figure), bare node at that same
  // rate (the tail this machine and client add at it), and the express floor at half of its own
  // maximum (at hookguard's rate it is simply overloaded). Interleaved rounds, medians, like above.
  const halfRate = Math.max(1, Math.round(hg.rps / 2));
  // autocannon ran in this process: collect its garbage now (npm script: --expose-gc), not during a
  // paced run, where a deferred full collection here would take a core from the measured server.
  (globalThis as { gc?: () => void }).gc?.();
  // The floor of the tail at hookguard's cost: bare node plus a busy loop of the CPU hookguard
  // spends per request beyond it, at the same rate. It does none of hookguard's work (no router, no
  // validation, no allocation beyond bare node's), so its tail is what the cost alone does on this
  // machine; hookguard's tail can only come down below it by costing less.
  const extraUs = Math.max(0, hg.cpuUs - bare.cpuUs);
  const costMode = `spin:${extraUs}`;
  {
    const { child, port } = await startServer(command.server, costMode, certDir, gcAnswer(costMode));
    children.push(child);
    childOf.set(costMode, child);
    servers.set(costMode, port);
    await alone(costMode, () => load(port, body, 1)); // JIT warm-up, as the others had
  }
  const rates = new Map<string, number>([
    ["hookguard", halfRate],
    ["bare", halfRate],
    [costMode, halfRate],
    ["express", Math.max(1, Math.round(floor.rps / 2))],
  ]);
  const pacedRuns = new Map<string, PacedRun[]>([...rates.keys()].map((m) => [m, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of ["hookguard", "bare", costMode, "express"]) {
      await gcSince(mode, childOf.get(mode)!);
      const cpuBefore = cpuMicros(childOf.get(mode)!.pid!);
      const r = await alone(mode, () =>
        pacedInChild(command.paced, {
          port: servers.get(mode)!,
          body,
          rate: rates.get(mode)!,
          seconds: ROUND_S + 2,
          connections: CONNECTIONS,
        }),
      );
      const requests = Math.round(rates.get(mode)! * (ROUND_S + 2 + 1)); // + the client's warm-up second
      const cpuUs = Math.round((cpuMicros(childOf.get(mode)!.pid!) - cpuBefore) / requests);
      pacedRuns.get(mode)!.push({ ...r, cpuUs, gc: await gcSince(mode, childOf.get(mode)!) });
    }
  }
  const [half, halfFloor, halfBare, halfCost] = ["hookguard", "express", "bare", costMode].map((m) =>
    summarisePaced(pacedRuns.get(m)!),
  ) as [PacedSummary, PacedSummary, PacedSummary, PacedSummary];
  // For the record: the same rate through autocannon's per-second burst limiter.
  const halfBurst = await alone("hookguard", () => load(servers.get("hookguard")!, body, ROUND_S, halfRate));
  console.log(fmt("(3) bare node:https", bare));
  console.log(fmt("(2) express floor", floor));
  console.log(fmt("(1) hookguard /validate", hg));
  const pacedText = (name: string, rate: number, h: PacedSummary) =>
    `    ${name} at ${rate}/s: p50 ${h.p50} ms, p99 ${h.p99} ms (per round ${h.p99s.join("/")}); server: ${h.cpuUs} µs CPU/request, ${h.scavenges} scavenges of mean ${h.scavengeMeanMs.toFixed(1)} ms, max ${h.scavengeMaxMs.toFixed(1)} ms, ${h.markCompacts} mark-compacts, event-loop delay p99 ${h.loopDelayP99Ms.toFixed(1)} ms (per round: mark-compacts×longest/longest stall ${h.rounds.join(" ")}); paced client's own GC max ${h.clientGcMaxMs} ms${h.errors > 0 ? `; ${h.errors} requests failed (not 200, or the connection closed with them in flight)` : ""}`;
  console.log(
    `    evenly paced half load, ${ROUNDS} interleaved rounds of ${ROUND_S + 2} s each (a fresh client process per run; medians):`,
  );
  console.log(pacedText("hookguard, half its maximum", halfRate, half));
  console.log(pacedText("bare node:https, the same rate", halfRate, halfBare));
  console.log(
    pacedText(
      `bare node:https + ${extraUs} µs CPU/request (hookguard's cost), the same rate`,
      halfRate,
      halfCost,
    ),
  );
  console.log(pacedText("express floor, half its own maximum", rates.get("express")!, halfFloor));
  console.log(
    `    (hookguard's rate via autocannon's per-second bursts: p50 ${halfBurst.p50} ms, p99 ${halfBurst.p99} ms)`,
  );
  const tail = tailRounds(pacedRuns.get("hookguard")!, pacedRuns.get("bare")!);
  const tailRatio = median(tail.map((t) => t.ratio));
  const costTail = tailRounds(pacedRuns.get(costMode)!, pacedRuns.get("bare")!);
  const costTailRatio = median(costTail.map((t) => t.ratio));
  // Per round, then the median, like the tail: the two ran back to back in each round, so a change
  // in the machine's capacity between rounds (it halves for minutes at a time) cancels out, which
  // it does not in a ratio of two medians taken from different rounds.
  const throughputRounds = runs.get("hookguard")!.map((h, i) => ratio(h.rps, runs.get("express")![i]!.rps));
  const throughputRatio = median(throughputRounds);
  const verdict = (ok: boolean) => (ok ? "met" : "NOT met");
  console.log(
    `tail: hookguard p99 / bare node p99 at ${halfRate}/s, same round: median ${tailRatio} (target <= ${TAIL_TARGET}: ${verdict(tailRatio <= TAIL_TARGET)}); per round ` +
      tail
        .map(
          (t, i) =>
            `#${i + 1} ${t.ratio} (${t.hookguardP99.toFixed(1)}/${t.bareP99.toFixed(1)} ms${t.noisy ? ", noisy: bare node's p99 over twice its median" : ""})`,
        )
        .join(", "),
  );
  console.log(
    `tail floor at hookguard's cost: bare node + ${extraUs} µs/request, p99 / bare node p99, same round: median ${costTailRatio}; per round ${costTail
      .map((t, i) => `#${i + 1} ${t.ratio} (${t.hookguardP99.toFixed(1)}/${t.bareP99.toFixed(1)} ms)`)
      .join(", ")}`,
  );
  console.log(
    `throughput: hookguard / express floor req/s, same round: median ${throughputRatio} (target >= ${THROUGHPUT_TARGET}: ${verdict(throughputRatio >= THROUGHPUT_TARGET)}); per round ${throughputRounds.join(", ")}`,
  );
  console.log(
    `ratios from server CPU per request (throughput per core, insensitive to outside load): hookguard/express floor ${ratio(floor.cpuUs, hg.cpuUs)}, hookguard/bare ${ratio(bare.cpuUs, hg.cpuUs)}, express floor/bare ${ratio(bare.cpuUs, floor.cpuUs)}`,
  );
  console.log(
    `ratios: hookguard/express floor ${ratio(hg.rps, floor.rps)}, hookguard/bare ${ratio(hg.rps, bare.rps)}, express floor/bare ${ratio(floor.rps, bare.rps)}`,
  );
  console.log(
    `per-round req/s: ${modes
      .map(
        (m) =>
          `${m} ${runs
            .get(m)!
            .map((r) => r.rps)
            .join("/")}`,
      )
      .join(", ")}; load average after: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  if (
    [bare, floor, hg, halfBurst].some((m) => m.errors > 0 || m.non2xx > 0) ||
    [half, halfFloor, halfBare, halfCost].some((h) => h.errors > 0)
  )
    process.exitCode = 1;
  console.log(
    JSON.stringify({
      bench: "webhook",
      hookguardRps: hg.rps,
      expressFloorRps: floor.rps,
      bareRps: bare.rps,
      ratioToExpressFloor: throughputRatio,
      ratioToExpressFloorRounds: throughputRounds,
      ratioToBare: ratio(hg.rps, bare.rps),
      p50Ms: hg.p50,
      p99MsAtHalfLoad: half.p99,
      cpuRatioToExpressFloor: ratio(floor.cpuUs, hg.cpuUs),
      p99MsAtHalfLoadExpressFloor: halfFloor.p99,
      p99MsAtHalfLoadBare: halfBare.p99,
      p99RatioToBare: tailRatio,
      p99RatioToBareRounds: tail.map((t) => t.ratio),
      extraCpuUsOverBare: extraUs,
      cpuUsPerRequestAtHalfLoad: { hookguard: half.cpuUs, bare: halfBare.cpuUs, costMatched: halfCost.cpuUs },
      p99RatioToBareAtHookguardCost: costTailRatio,
      p99RatioToBareAtHookguardCostRounds: costTail.map((t) => t.ratio),
    }),
  );
} finally {
  for (const child of children) child.kill("SIGKILL");
  rmSync(certDir, { recursive: true, force: true });
}
