// An evenly paced open-loop client for the half-load measurement. autocannon's rate limit sends each
// connection's per-second quota back to back at the top of every second, so at "half load" it
// measures the queueing of a one-second burst rather than the latency of a server at half its
// capacity. This client issues request i at start + i/rate over the same number of kept-alive TLS
// connections with the same body, and measures each latency from its scheduled time (so a stalled
// server cannot hide delays behind requests it prevented from being sent).
//
// It writes a pre-built HTTP/1.1 request on raw TLS sockets and reads only the status line and
// Content-Length of each answer, like autocannon does: node's own HTTP client costs the load
// generator enough CPU and garbage collection on this 2-core machine to show up in the p99 of
// every server, including bare node:https.
import { connect, type TLSSocket } from "node:tls";

export interface PacedResult {
  sent: number;
  errors: number;
  p50: number;
  p99: number;
}

interface Connection {
  socket: TLSSocket;
  /** scheduled time of the request in flight, or undefined when idle */
  inflight: number | undefined;
  pending: Buffer;
  dead: boolean;
}

const HEADER_END = Buffer.from("\r\n\r\n");
const STATUS_200 = Buffer.from("HTTP/1.1 200");
const EMPTY = Buffer.alloc(0);
const LF = 0x0a;
const COLON = 0x3a;
const CONTENT_LENGTH = Buffer.from("content-length");

/** The Content-Length of the head in `buf[0, end)` (0 when absent); header names are case-insensitive. */
function contentLength(buf: Buffer, end: number): number {
  for (let line = buf.indexOf(LF) + 1; line > 0 && line < end; line = buf.indexOf(LF, line) + 1) {
    const colon = buf.indexOf(COLON, line);
    // "content-length" is 14 bytes; compare lower-cased (| 0x20 folds ASCII letters and keeps '-')
    if (colon - line !== 14) continue;
    let match = true;
    for (let i = 0; i < 14 && match; i++) match = (buf[line + i]! | 0x20) === CONTENT_LENGTH[i];
    if (!match) continue;
    let n = 0;
    for (let i = colon + 1; i < end && buf[i] !== 0x0d; i++)
      if (buf[i]! >= 0x30 && buf[i]! <= 0x39) n = n * 10 + buf[i]! - 0x30;
    return n;
  }
  return 0;
}

export interface PacedOptions {
  port: number;
  body: string;
  rate: number;
  seconds: number;
  connections: number;
  /** The first `warmupSeconds` are sent at the same pace but not recorded (connection setup, JIT). */
  warmupSeconds?: number;
}

export async function pacedLoad(o: PacedOptions): Promise<PacedResult> {
  const body = Buffer.from(o.body);
  const request = Buffer.concat([
    Buffer.from(
      `POST /validate HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    ),
    body,
  ]);
  const warmup = o.warmupSeconds ?? 1;
  const total = Math.round(o.rate * (o.seconds + warmup));
  // Preallocated: no array growth (and copying) while the measurement runs.
  const latencies = new Float64Array(total);
  let recorded = 0;
  const queue = new Float64Array(total);
  let queued = 0;
  let queueHead = 0;
  let errors = 0;
  let answered = 0;
  let start = 0;
  let recordFrom = 0;
  let finished: () => void = () => {};

  const settle = (scheduled: number, ok: boolean): void => {
    answered++;
    if (!ok) errors++;
    else if (scheduled >= recordFrom) latencies[recorded++] = performance.now() - scheduled;
    if (answered === total) finished();
  };
  const dispatch = (c: Connection): void => {
    if (c.dead || c.inflight !== undefined || queueHead >= queued) return;
    c.inflight = queue[queueHead++]!;
    c.socket.write(request);
  };
  // Answers are parsed in place: only the status code and Content-Length are read, from bytes,
  // so the client allocates almost nothing per answer beyond what TLS hands it.
  const onData = (c: Connection, chunk: Buffer): void => {
    c.pending = c.pending.length === 0 ? chunk : Buffer.concat([c.pending, chunk]);
    for (;;) {
      const end = c.pending.indexOf(HEADER_END);
      if (end < 0 || c.inflight === undefined) return;
      const length = contentLength(c.pending, end);
      if (c.pending.length < end + 4 + length) return;
      const ok = c.pending.compare(STATUS_200, 0, STATUS_200.length, 0, STATUS_200.length) === 0;
      c.pending = c.pending.length === end + 4 + length ? EMPTY : c.pending.subarray(end + 4 + length);
      const scheduled = c.inflight;
      c.inflight = undefined;
      settle(scheduled, ok);
      dispatch(c);
    }
  };

  const conns = await Promise.all(
    Array.from(
      { length: o.connections },
      () =>
        new Promise<Connection>((resolve, reject) => {
          const socket = connect({ host: "127.0.0.1", port: o.port, rejectUnauthorized: false }, () => {
            socket.off("error", reject);
            socket.setNoDelay(true);
            resolve(c);
          });
          const c: Connection = { socket, inflight: undefined, pending: Buffer.alloc(0), dead: false };
          socket.once("error", reject);
          socket.on("data", (chunk: Buffer) => onData(c, chunk));
          socket.on("close", () => {
            c.dead = true;
            if (c.inflight !== undefined) settle(c.inflight, false);
            c.inflight = undefined;
          });
        }),
    ),
  );
  for (const c of conns) c.socket.on("error", () => {}); // a reset is counted by "close"

  const done = new Promise<void>((resolve) => (finished = resolve));
  start = performance.now();
  recordFrom = start + warmup * 1000;
  let sent = 0;
  const tick = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * o.rate));
    while (sent < due) queue[queued++] = start + (sent++ * 1000) / o.rate;
    for (const c of conns) dispatch(c);
    if (sent >= total) clearInterval(tick);
    // every connection died: what is still queued can never be answered
    if (conns.every((c) => c.dead)) {
      clearInterval(tick);
      while (answered < total) settle(0, false);
    }
  }, 1);
  await done;
  for (const c of conns) c.socket.destroy();
  const sorted = latencies.subarray(0, recorded).sort();
  const pct = (p: number) =>
    Math.round((sorted[Math.min(recorded - 1, Math.floor(recorded * p))] ?? NaN) * 100) / 100;
  return { sent: recorded, errors, p50: pct(0.5), p99: pct(0.99) };
}
