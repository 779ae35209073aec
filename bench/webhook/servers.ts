// The servers the webhook bench compares, each run in its own process so the load generator
// does not share its event loop: `hookguard` (the real WebhookServer with metrics and logging at its
// default level), `express` (the express floor: a minimal express 5 app whose one route reads the
// body, JSON.parses it and answers a fixed allowed AdmissionReview) and `bare` (the same handler on
// node:https), plus `spin:<µs>` (bare node made as costly as hookguard: spinHandler), and
// `prototypes` and `prototypes-born` (see promotion.ts).
// Usage: servers.ts <mode> <certDir>; prints the port on stdout.
import { readFileSync } from "node:fs";
import { createServer, type ServerOptions } from "node:https";
import { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import express from "express";
import { WebhookMetrics } from "../../src/admission/metrics.js";
import { createLogger } from "../../src/log.js";
import { WebhookServer } from "../../src/server/webhook-server.js";

const [mode, certDir] = process.argv.slice(2) as [string, string];
const tls: ServerOptions = {
  cert: readFileSync(join(certDir, "tls.crt")),
  key: readFileSync(join(certDir, "tls.key")),
  minVersion: "TLSv1.2",
};

/** Reads the body, parses it, answers a fixed allowed review: the least any admission server must do. */
function floorHandler(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const review = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { request: { uid: string } };
    const body = JSON.stringify({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: review.request.uid, allowed: true },
    });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
}

/**
 * The bare handler plus the first thing express's app.handle does to every request: set the
 * prototypes of req and res (to app.request / app.response). `prototypes` swaps to new ones, as a
 * plain express app does; `prototypes-born` creates req and res from subclasses whose prototypes
 * are those already, as hookguard does (src/server/app.ts). bench/webhook/promotion.ts shows what
 * each does to garbage collection.
 */
function prototypeSwapHandler(
  requestProto: object = Object.create(IncomingMessage.prototype) as object,
  responseProto: object = Object.create(ServerResponse.prototype) as object,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    Object.setPrototypeOf(req, requestProto);
    Object.setPrototypeOf(res, responseProto);
    floorHandler(req, res);
  };
}

/**
 * The bare handler plus a busy loop of `extraUs` microseconds of this process's CPU time per
 * request: a server that does no more than bare node but costs what hookguard costs, so the bench
 * can show what that cost alone does to the tail at the same rate (mode `spin:<µs>`).
 */
function spinHandler(extraUs: number): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const start = process.cpuUsage();
    for (;;) {
      const used = process.cpuUsage(start);
      if (used.user + used.system >= extraUs) break;
    }
    floorHandler(req, res);
  };
}

/** A node:https listener for the modes other than hookguard, and any server options it needs. */
function plainServer(): {
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  options?: ServerOptions;
} {
  if (mode === "express") {
    const app = express();
    app.disable("x-powered-by");
    app.set("etag", false);
    app.set("query parser", false);
    app.post("/validate", floorHandler);
    return { listener: app };
  }
  if (mode === "prototypes") return { listener: prototypeSwapHandler() };
  if (mode.startsWith("spin:")) return { listener: spinHandler(Number(mode.slice(5))) };
  if (mode === "prototypes-born") {
    class BornRequest extends IncomingMessage {}
    class BornResponse extends ServerResponse {}
    return {
      listener: prototypeSwapHandler(BornRequest.prototype, BornResponse.prototype),
      options: { IncomingMessage: BornRequest, ServerResponse: BornResponse as typeof ServerResponse },
    };
  }
  return { listener: floorHandler };
}

async function main(): Promise<number> {
  if (mode === "hookguard") {
    const server = new WebhookServer({
      host: "127.0.0.1",
      port: 0,
      certDir,
      metrics: new WebhookMetrics(),
      log: createLogger({ level: "info" }),
      validate: {},
    });
    const { port } = await server.start();
    // Measured once ready, as the API server would reach it: after the warm-up.
    const warm = await server.warmedUp();
    if (!warm.ok) throw new Error(`hookguard did not warm up: ${warm.error}`);
    return port;
  }
  const { listener, options } = plainServer();
  const server = createServer({ ...tls, ...options }, listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

// Garbage-collection pauses, reported on SIGUSR2 (and reset) so the bench can show what the
// half-load tail is made of: kind 1 is a scavenge (young generation), 4 a mark-compact.
let pauses: Array<{ kind: number; ms: number }> = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    pauses.push({
      kind: (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0,
      ms: e.duration,
    });
}).observe({ entryTypes: ["gc"] });
// Event-loop delay over the same span: how long a request that arrived could have waited inside
// the server process, whatever the cause (GC, JIT, a long handler). The rest of a client-measured
// tail is outside the server: client, kernel, scheduling.
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
process.on("SIGUSR2", () => {
  const minor = pauses.filter((p) => p.kind === 1).map((p) => p.ms);
  const major = pauses.filter((p) => p.kind === 4).map((p) => p.ms);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  process.stdout.write(
    `gc ${JSON.stringify({ scavenges: minor.length, scavengeMeanMs: minor.length ? sum(minor) / minor.length : 0, scavengeMaxMs: Math.max(0, ...minor), markCompacts: major.length, markCompactMaxMs: Math.max(0, ...major), pausedMs: sum(pauses.map((p) => p.ms)), loopDelayP99Ms: loopDelay.percentile(99) / 1e6, loopDelayMaxMs: loopDelay.max / 1e6 })}\n`,
  );
  pauses = [];
  loopDelay.reset();
});

process.stdout.write(`${await main()}\n`);
// A clean exit on SIGINT lets `node --cpu-prof` write its profile when profiling a server by hand.
process.on("SIGINT", () => process.exit(0));
