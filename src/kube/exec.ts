// Pod exec over the Kubernetes WebSocket protocol (client-node 1.4.0 `Exec`), hardened for hooks:
// no stdin, no tty, capped output, a handshake timeout, a command timeout, abort, and the exit code
// decoded from the channel-3 Status exactly like client-go (`tools/remotecommand/v4.go`).
//
// Library facts this file works around (see docs/client-node.md "Exec"):
// - exec() resolves when the socket opens; the status may arrive before that, and the socket may
//   already be CLOSING. So the outcome promise exists before exec() is called.
// - No timeout, no abort, no handshake timeout: we own the socket (through the socket factory) and
//   terminate it ourselves. Closing the stream does not stop the remote process.
// - A channel-255 frame makes the library end the handler's streams and then throw "Unknown stream";
//   a non-JSON status frame makes JSON.parse throw inside the message handler. Both would be an
//   uncaughtException, so incoming frames are filtered before the library sees them.
// - An upgrade rejected with HTTP 4xx loses the Status body; we read it ourselves.
import { Exec, type KubeConfig, type V1Status } from "@kubernetes/client-node";
// Not exported from the package index (no `exports` map, so the deep import works); the version is pinned.
import { WebSocketHandler } from "@kubernetes/client-node/dist/web-socket-handler.js";
import type { IncomingMessage } from "node:http";
import type { Writable } from "node:stream";
import WebSocket from "ws";
import type { ExecRequest, ExecResult, PodExecutor } from "../agent/ports.js";
import { transportFor, type KubeTransport } from "./transport.js";

export const DEFAULT_OUTPUT_CAP_BYTES = 64 * 1024;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
const STATUS_CHANNEL = 3;
const CLOSE_CHANNEL = 255;
/** Bound on how much of a rejected upgrade's body we read to find the Status message. */
const REJECTED_BODY_LIMIT = 16 * 1024;

/** Collects one output stream up to a byte cap, counting what was dropped. Never throws. */
class CappedCapture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  dropped = 0;
  constructor(private readonly cap: number) {}

  write(chunk: Buffer | string): boolean {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    const room = this.cap - this.kept;
    if (room >= buf.length) {
      this.chunks.push(buf);
      this.kept += buf.length;
    } else {
      if (room > 0) {
        this.chunks.push(buf.subarray(0, room));
        this.kept += room;
      }
      this.dropped += buf.length - Math.max(room, 0);
    }
    return true;
  }

  /** The library ends the streams when the status arrives; nothing to release here. */
  end(): void {}

  get truncated(): boolean {
    return this.dropped > 0;
  }

  text(): string {
    const s = Buffer.concat(this.chunks).toString("utf8");
    return this.truncated
      ? `${s}\n[hookguard: output truncated at ${this.cap} bytes, ${this.dropped} more bytes dropped]`
      : s;
  }
}

type Outcome =
  { kind: "exited"; exitCode: number } | { kind: "timed_out" } | { kind: "transport_error"; message: string };

/**
 * Decode the channel-3 Status like client-go: Success → 0; Failure/NonZeroExitCode with an ExitCode
 * cause → that code; any other Failure → an error carrying status.message.
 */
export function decodeExecStatus(status: V1Status | Record<string, unknown>): Outcome {
  const s = status as {
    status?: string;
    reason?: string;
    message?: string;
    details?: { causes?: Array<{ reason?: string; message?: string }> };
  };
  if (s.status === "Success") return { kind: "exited", exitCode: 0 };
  if (s.status === "Failure" && s.reason === "NonZeroExitCode") {
    const cause = s.details?.causes?.find((c) => c.reason === "ExitCode");
    if (cause?.message !== undefined && /^\d+$/.test(cause.message)) {
      const code = Number(cause.message);
      if (code >= 0 && code <= 255) return { kind: "exited", exitCode: code };
    }
    return {
      kind: "transport_error",
      message: `invalid exit code in status: ${JSON.stringify(cause?.message ?? null)}`,
    };
  }
  if (s.status === "Failure")
    return { kind: "transport_error", message: s.message || `exec failed (${s.reason ?? "no reason"})` };
  return { kind: "transport_error", message: `unrecognised exec status ${JSON.stringify(s.status ?? null)}` };
}

/** Read the Status message of a rejected upgrade (bounded); resolves "" when there is none. */
function readRejection(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      const body = Buffer.concat(chunks).toString("utf8");
      try {
        const st = JSON.parse(body) as { message?: unknown };
        resolve(typeof st.message === "string" ? st.message : "");
      } catch {
        resolve(body.trim().slice(0, 500));
      }
    };
    res.on("data", (c: Buffer) => {
      if (size < REJECTED_BODY_LIMIT) chunks.push(c);
      size += c.length;
    });
    res.on("end", done);
    res.on("error", () => resolve(""));
    res.on("aborted", () => resolve(""));
  });
}

function upgradeErrorMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : (err as { message?: unknown })?.message;
  const text = typeof msg === "string" ? msg : String(err);
  const m = /Unexpected server response: (\d+)/.exec(text);
  if (m) return `exec upgrade rejected: HTTP ${m[1]}`;
  return `exec connection failed: ${text}`;
}

export function createPodExecutor(kc: KubeConfig, opts: { outputCapBytes?: number } = {}): PodExecutor {
  const cap = opts.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES;
  const transport = transportFor(kc);
  return { exec: (req) => runExec(kc, transport, cap, req) };
}

function runExec(
  kc: KubeConfig,
  transport: KubeTransport,
  cap: number,
  req: ExecRequest,
): Promise<ExecResult> {
  const started = performance.now();
  const stdout = new CappedCapture(cap);
  const stderr = new CappedCapture(cap);
  const handshakeTimeoutMs = req.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;

  return new Promise<ExecResult>((resolve) => {
    let settled = false;
    let socket: WebSocket | undefined;
    let opened = false;
    let rejection: string | undefined;
    let timer: NodeJS.Timeout | undefined;

    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      req.signal?.removeEventListener("abort", onAbort);
      // terminate(), not close(): close() waits up to 30s for the peer's close frame on a timer.
      if (socket && socket.readyState !== WebSocket.CLOSED) socket.terminate();
      resolve({
        ...outcome,
        stdout: stdout.text(),
        stderr: stderr.text(),
        stdoutTruncated: stdout.truncated,
        stderrTruncated: stderr.truncated,
        durationMs: performance.now() - started,
      } as ExecResult);
    };
    const onAbort = (): void => finish({ kind: "transport_error", message: "aborted" });

    if (req.signal?.aborted) return onAbort();
    req.signal?.addEventListener("abort", onAbort, { once: true });
    timer = setTimeout(() => finish({ kind: "timed_out" }), Math.max(0, req.timeoutMs));

    const factory = (uri: string, protocols: string[], wsOpts: WebSocket.ClientOptions): WebSocket => {
      // The shared stream agent: a new connection per exec (as the protocol needs), resuming a
      // cached TLS session with the same CA and client certificate instead of a full handshake.
      const agent = transport.reuse(wsOpts.agent, "stream");
      const ws = new WebSocket(uri, protocols, {
        ...wsOpts,
        ...(agent ? { agent } : {}),
        handshakeTimeout: handshakeTimeoutMs,
      });
      socket = ws;
      // Errors reach us through exec()'s rejection or the close event; this keeps a stray 'error'
      // (emitted with no other listener) from becoming an uncaughtException.
      ws.on("error", () => undefined);
      ws.on("open", () => {
        opened = true;
      });
      ws.on("unexpected-response", (clientReq, res) => {
        // With this listener registered, ws leaves the response to us: read the Status message, then
        // abort the handshake (which rejects exec(); the catch below uses `rejection`).
        void readRejection(res).then((message) => {
          rejection = `exec upgrade rejected: HTTP ${res.statusCode}${message ? `: ${message}` : ""}`;
          finish({ kind: "transport_error", message: rejection });
          clientReq.destroy();
        });
      });
      ws.on("close", () => {
        // Before open, exec() rejects and the catch reports why; after open, a close without a
        // status frame is client-go's "connection closed before exit status".
        if (opened) finish({ kind: "transport_error", message: "connection closed before exit status" });
      });
      guardIncomingFrames(ws, (message) => finish({ kind: "transport_error", message }));
      if (settled) queueMicrotask(() => ws.terminate());
      return ws;
    };

    const out = stdout as unknown as Writable;
    const err = stderr as unknown as Writable;
    // The handler's own streams are only used for channel-255 frames, which we filter; pass the
    // captures anyway so nothing ever touches process.stdout.
    const handler = new WebSocketHandler(kc, factory as never, {
      stdin: null as never,
      stdout: out,
      stderr: err,
    });
    new Exec(kc, handler)
      .exec(req.namespace, req.pod, req.container, req.argv, out, err, null, false, (status: V1Status) =>
        finish(decodeExecStatus(status)),
      )
      .then((ws) => {
        if (settled && ws.readyState !== WebSocket.CLOSED) ws.terminate();
      })
      .catch((e: unknown) => {
        const msg = (e as { message?: unknown })?.message;
        if (typeof msg === "string" && /handshake has timed out/i.test(msg)) {
          finish({
            kind: "transport_error",
            message: `exec handshake timed out after ${handshakeTimeoutMs}ms`,
          });
        } else {
          finish({ kind: "transport_error", message: rejection ?? upgradeErrorMessage(e) });
        }
      });
  });
}

/**
 * Wrap the `onmessage` the library installs so that frames it would throw on never reach it:
 * channel 255 (stream close, v5) is dropped; a status frame that is not JSON ends the exec as a
 * transport error; any other throw from the library's handler is caught.
 */
function guardIncomingFrames(ws: WebSocket, fail: (message: string) => void): void {
  const proto = Object.getPrototypeOf(ws) as object;
  const desc = Object.getOwnPropertyDescriptor(proto, "onmessage");
  if (!desc?.set || !desc.get) return;
  const { get, set } = desc;
  Object.defineProperty(ws, "onmessage", {
    configurable: true,
    get: () => get.call(ws) as unknown,
    set: (fn: ((ev: WebSocket.MessageEvent) => void) | null) => {
      if (typeof fn !== "function") return set.call(ws, fn);
      set.call(ws, (ev: WebSocket.MessageEvent) => {
        const data = ev.data;
        if (Buffer.isBuffer(data) && data.length > 0) {
          const channel = data[0];
          if (channel === CLOSE_CHANNEL) return;
          if (channel === STATUS_CHANNEL && data.length > 1) {
            try {
              JSON.parse(data.subarray(1).toString("utf8"));
            } catch {
              return fail("invalid exec status frame (not JSON)");
            }
          }
        }
        try {
          fn(ev);
        } catch (e) {
          fail(`exec stream error: ${e instanceof Error ? e.message : String(e)}`);
        }
      });
    },
  });
}
