// `npm run bench:webhook:gc`: why a plain express app has a long half-load tail here, and why
// hookguard no longer does. Each server of the webhook bench (compiled, as there) runs under
// `node --trace-gc-nvp` while the paced client sends the bench body at one fixed rate; V8's own
// per-collection lines give, per scavenge, the pause and the bytes promoted to the old generation.
// `prototypes` is bare node:https plus only the prototype swap express's app.handle does to every
// req and res; `prototypes-born` the same swap on req/res born with those prototypes, which is what
// hookguard's server does (src/server/app.ts, appMessageClasses).
// Usage: promotion.ts [rate=1000] [seconds=5]. The last line is one JSON object.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDevCerts } from "../../src/tls/cert-dir.js";
import { compileForBench, compiledPath } from "../build.js";
import { benchReview } from "./body.js";
import { PACED_ENTRY, pacedInChild } from "./paced-process.js";
import { startServer } from "./server-process.js";

const RATE = Number(process.argv[2] ?? 1000);
const SECONDS = Number(process.argv[3] ?? 5);
const MODES = ["bare", "prototypes", "prototypes-born", "express", "hookguard"] as const;
const ENTRY = "bench/webhook/servers.ts";

interface Scavenges {
  count: number;
  meanPauseMs: number;
  meanPromotedKb: number;
}

/** Averages the `gc=s` (scavenge) lines of --trace-gc-nvp output. */
function scavenges(lines: string[]): Scavenges {
  const rows = lines.filter((l) => / gc=s /.test(l));
  const field = (line: string, key: string) => Number(new RegExp(`\\b${key}=([0-9.]+)`).exec(line)?.[1] ?? 0);
  const mean = (key: string) => (rows.length ? rows.reduce((a, l) => a + field(l, key), 0) / rows.length : 0);
  return {
    count: rows.length,
    meanPauseMs: Math.round(mean("pause") * 100) / 100,
    meanPromotedKb: Math.round(mean("promoted") / 1024),
  };
}

async function measure(
  server: string,
  paced: string,
  mode: string,
  certDir: string,
  body: string,
): Promise<Scavenges & { p99: number }> {
  const lines: string[] = [];
  const { child, port } = await startServer(["--trace-gc-nvp", server], mode, certDir, (line) =>
    lines.push(line),
  );
  // "close": after stdout has ended too, so no trace line is still in the pipe
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const start = lines.length;
  const result = await pacedInChild([paced], { port, body, rate: RATE, seconds: SECONDS, connections: 32 });
  // SIGINT makes servers.ts exit cleanly, which flushes V8's buffered trace lines
  child.kill("SIGINT");
  await exited;
  if (result.errors > 0) process.exitCode = 1;
  return { ...scavenges(lines.slice(start)), p99: result.p99 };
}

const certDir = mkdtempSync(join(tmpdir(), "hookguard-gc-"));
try {
  const made = ensureDevCerts(certDir);
  if (!made.ok) throw new Error(made.error);
  const out = await compileForBench("webhook", [ENTRY, PACED_ENTRY]);
  const [server, paced] = [compiledPath(out, ENTRY), compiledPath(out, PACED_ENTRY)];
  const body = benchReview();
  console.log(
    `scavenges per server at ${RATE} req/s for ${SECONDS + 1} s (paced client, 32 TLS connections, compiled servers):`,
  );
  const results: Record<string, Scavenges & { p99: number }> = {};
  for (const mode of MODES) {
    const r = await measure(server, paced, mode, certDir, body);
    results[mode] = r;
    console.log(
      `${mode.padEnd(18)} ${String(r.count).padStart(4)} scavenges, mean pause ${r.meanPauseMs} ms, mean promoted ${r.meanPromotedKb} KB; paced p99 ${r.p99} ms`,
    );
  }
  console.log(JSON.stringify({ bench: "webhook-gc", rate: RATE, ...results }));
} finally {
  rmSync(certDir, { recursive: true, force: true });
}
