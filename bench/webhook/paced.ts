// An evenly paced open-loop client for the half-load measurement. autocannon's rate limit sends each
// connection's per-second quota back to back at the top of every second, so at "half load" it
// measures the queueing of a one-second burst rather than the latency of a server at half its
// capacity. This client issues request i at start + i/rate over the same number of kept-alive TLS
// connections with the same body, and measures each latency from its scheduled time (so a stalled
// server cannot hide delays behind requests it prevented from being sent).
import { Agent, request } from "node:https";

export interface PacedResult {
  sent: number;
  errors: number;
  p50: number;
  p99: number;
}

/** The first `warmupSeconds` are sent at the same pace but not recorded (connection setup, client JIT). */
export async function pacedLoad(o: { port: number; body: string; rate: number; seconds: number; connections: number; warmupSeconds?: number }): Promise<PacedResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections, rejectUnauthorized: false });
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const warmup = o.warmupSeconds ?? 1;
  const total = Math.round(o.rate * (o.seconds + warmup));
  const start = performance.now();
  const recordFrom = start + warmup * 1000;
  const inflight = new Set<Promise<void>>();
  const fire = (scheduled: number): void => {
    const p = new Promise<void>((resolve) => {
      const req = request({ host: "127.0.0.1", port: o.port, path: "/validate", method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(o.body) } }, (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode !== 200) errors++;
          else if (scheduled >= recordFrom) latencies.push(performance.now() - scheduled);
          resolve();
        });
      });
      req.on("error", () => {
        errors++;
        resolve();
      });
      req.end(o.body);
    });
    inflight.add(p);
    void p.then(() => inflight.delete(p));
  };
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * o.rate));
      while (sent < due) fire(start + (sent++ * 1000) / o.rate);
      if (sent >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  await Promise.all(inflight);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN) * 100) / 100;
  return { sent: latencies.length, errors, p50: pct(0.5), p99: pct(0.99) };
}
