// Shared by the exec tests: run a command through the real @kubernetes/client-node Exec, and make
// raw upgrade requests to read what the server answers before (or instead of) an upgrade.
import { request as httpsRequest } from "node:https";
import { Readable, Writable } from "node:stream";
import { randomBytes } from "node:crypto";
import { Exec, KubeConfig, type V1Status } from "@kubernetes/client-node";
import WebSocket from "ws";
import { TEST_TOKEN, type ExecHarness } from "../apiserver/exec/test-harness.js";

export function kubeConfigFor(h: ExecHarness): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(h.kubeconfigPath);
  return kc;
}

class Collect extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

export interface ExecOutcome {
  stdout: string;
  stderr: string;
  status?: V1Status;
  /** Set when the socket closed without a status. */
  closedWithoutStatus: boolean;
}

/** Exit code decoded the way client-go does (tools/remotecommand errorDecoderV4). */
export function exitCodeOf(status: V1Status | undefined): number | undefined {
  if (!status) return undefined;
  if (status.status === "Success") return 0;
  if (status.reason !== "NonZeroExitCode") return undefined;
  const cause = status.details?.causes?.find((c) => c.reason === "ExitCode");
  return cause?.message === undefined ? undefined : Number(cause.message);
}

/** Runs argv through client-node's Exec; resolves on the channel-3 status or the socket's close. */
export async function clientExec(
  kc: KubeConfig,
  pod: string,
  container: string,
  argv: string[],
  opts: { stdin?: Readable; namespace?: string; timeoutMs?: number } = {},
): Promise<ExecOutcome> {
  const stdout = new Collect();
  const stderr = new Collect();
  let status: V1Status | undefined;
  let settle!: () => void;
  const done = new Promise<void>((r) => (settle = r));
  const ws = await new Exec(kc).exec(
    opts.namespace ?? "default",
    pod,
    container,
    argv,
    stdout,
    stderr,
    opts.stdin ?? null,
    false,
    (s) => {
      status = s;
      settle();
    },
  );
  if (ws.readyState === ws.CLOSED) settle();
  else ws.addEventListener("close", () => settle());
  const timer = setTimeout(settle, opts.timeoutMs ?? 30_000);
  await done;
  clearTimeout(timer);
  if (ws.readyState === ws.OPEN) ws.close();
  return { stdout: stdout.text, stderr: stderr.text, status, closedWithoutStatus: status === undefined };
}

export interface RawAnswer {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An upgrade request whose non-101 answer is read in full (client-node discards the body). */
export function rawUpgrade(
  h: ExecHarness,
  path: string,
  protocols: string[],
  upgrade = "websocket",
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: "127.0.0.1",
      port: h.port,
      path,
      method: upgrade === "websocket" ? "GET" : "POST",
      ca: h.caPem,
      headers: {
        Authorization: `Bearer ${TEST_TOKEN}`,
        Connection: "Upgrade",
        Upgrade: upgrade,
        "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
        "Sec-WebSocket-Version": "13",
        ...(protocols.length > 0 ? { "Sec-WebSocket-Protocol": protocols.join(", ") } : {}),
      },
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: "" });
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

export interface FrameLog {
  protocol: string;
  frames: Array<{ channel: number; data: Buffer }>;
  closeCode?: number;
}

/** A bare `ws` client offering exactly `protocols`; records every frame until the socket closes. */
export function rawExec(
  h: ExecHarness,
  path: string,
  protocols: string[],
  onOpen?: (ws: WebSocket, log: FrameLog) => void,
): Promise<FrameLog> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${h.port}${path}`, protocols, {
      ca: h.caPem,
      headers: { Authorization: `Bearer ${TEST_TOKEN}` },
    });
    const log: FrameLog = { protocol: "", frames: [] };
    ws.on("open", () => {
      log.protocol = ws.protocol;
      onOpen?.(ws, log);
    });
    ws.on("message", (data: Buffer) =>
      log.frames.push({ channel: data[0] as number, data: data.subarray(1) }),
    );
    ws.on("close", (code) => {
      log.closeCode = code;
      resolve(log);
    });
    ws.on("error", reject);
  });
}

export function execPath(
  pod: string,
  argv: string[],
  container?: string,
  extra = "stdout=true&stderr=true",
): string {
  const cmd = argv.map((a) => `command=${encodeURIComponent(a)}`).join("&");
  return `/api/v1/namespaces/default/pods/${pod}/exec?${extra}&${cmd}${container === undefined ? "" : `&container=${encodeURIComponent(container)}`}`;
}

export function text(log: FrameLog, channel: number): string {
  return log.frames
    .filter((f) => f.channel === channel)
    .map((f) => f.data.toString())
    .join("");
}
