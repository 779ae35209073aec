// Pod exec for the API-server double: GET /api/v1/namespaces/NS/pods/NAME/exec upgraded to a
// WebSocket speaking the Kubernetes remotecommand protocol (v5.channel.k8s.io or
// v4.channel.k8s.io), running the command confined in the container's own root filesystem.
//
// The caller (the double's HTTP server) has authenticated and authorized the request and hands
// over the raw upgrade: handleExecUpgrade(req, socket, head, ctx). What happens, in the real
// server's order:
//  1. apiserver (ExecLocation): pod missing -> 404; container missing/ambiguous -> 400; pod without
//     a node -> 400. These are HTTP responses; nothing is upgraded.
//  2. v5 requests go to the apiserver's stream translator, which upgrades first and reports kubelet
//     errors on channel 3; other WebSocket requests are proxied to the kubelet, whose handshake
//     accepts v4 (and older protocols this double does not implement: 403, as the kubelet answers
//     for unsupported ones) and whose errors before the upgrade are plain-text HTTP responses.
//  3. kubelet: container not running -> `container not found ("c")`.
//  4. runtime: program missing -> containerd/runc's "OCI runtime exec failed" internal error;
//     otherwise output streams on channels 1/2 and the exit status on channel 3.
import { randomBytes } from "node:crypto";
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket, type RawData } from "ws";
import { ensureImage } from "../images/build.js";
import {
  containerEnv,
  containerIsRunning,
  containerWorkingDir,
  resolveTarget,
  type ResolvedTarget,
} from "./pod.js";
import { checkRootInside, ensureContainerRoot, lookPathInRoot } from "./rootfs.js";
import { checkConfinement, exitCodeOf, startConfined } from "./runner.js";
import {
  badRequest,
  exitCodeChannelStatus,
  internalErrorBody,
  internalErrorChannelStatus,
  successChannelStatus,
  type ExecProtocol,
  type HttpStatusBody,
} from "./status.js";

export { shutdownExecs, runningExecCount } from "./runner.js";
export { readContainerFile, containerRootPath } from "./rootfs.js";
export { imageRootFor, imageNameFor, buildAllImages } from "../images/build.js";
export type { ExecProtocol } from "./status.js";

export interface ExecKnobs {
  /** Wait this long before completing the WebSocket upgrade. */
  upgradeDelayMs?: number;
  /** Destroy the TCP connection once this many output bytes (channels 1+2) have been sent. */
  dropAfterBytes?: number;
  /** Let the command finish but never send the channel-3 status; the socket stays open. */
  neverSendStatus?: boolean;
}

export interface ExecContext {
  namespace: string;
  podName: string;
  getPod(ns: string, name: string): any | undefined;
  user: { username: string; groups: string[] };
  /** Absolute directory owned by the double; container roots are created under it. */
  stateDir: string;
  knobs: ExecKnobs;
}

const CHANNEL_STDIN = 0;
const CHANNEL_STDOUT = 1;
const CHANNEL_STDERR = 2;
const CHANNEL_ERROR = 3;
const CHANNEL_CLOSE = 255;

const negotiated = new WeakMap<IncomingMessage, ExecProtocol>();
const wss = new WebSocketServer({
  noServer: true,
  clientTracking: false,
  perMessageDeflate: false,
  handleProtocols: (_offered, req) => negotiated.get(req) ?? false,
});

interface ExecRequest {
  argv: string[];
  container: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** apimachinery's query conversion for bool parameters: anything but these means true. */
function queryBool(v: string | null): boolean {
  if (v === null) return false;
  return !["", "none", "no", "f", "false", "0"].includes(v.toLowerCase());
}

function parseExecQuery(req: IncomingMessage): ExecRequest {
  const q = new URL(req.url ?? "/", "http://double.invalid").searchParams;
  const tty = queryBool(q.get("tty"));
  return {
    argv: q.getAll("command"),
    container: q.get("container") ?? "",
    stdin: queryBool(q.get("stdin")),
    stdout: queryBool(q.get("stdout")),
    // With a tty the kubelet bypasses stderr (it is merged into the terminal).
    stderr: queryBool(q.get("stderr")) && !tty,
    tty,
  };
}

function offeredProtocols(req: IncomingMessage): string[] {
  const raw = req.headers["sec-websocket-protocol"];
  const joined = Array.isArray(raw) ? raw.join(",") : (raw ?? "");
  return joined
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function writeRaw(socket: Duplex, code: number, headers: Record<string, string>, body: string): void {
  if (socket.destroyed) return;
  const head = [`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ""}`, `Date: ${new Date().toUTCString()}`];
  for (const [k, v] of Object.entries(headers)) head.push(`${k}: ${v}`);
  head.push(`Content-Length: ${Buffer.byteLength(body)}`, "Connection: close");
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
}

function writeStatus(socket: Duplex, status: HttpStatusBody): void {
  writeRaw(
    socket,
    status.code,
    {
      "Content-Type": "application/json",
      "Cache-Control": "no-cache, private",
      "X-Content-Type-Options": "nosniff",
    },
    JSON.stringify(status) + "\n",
  );
}

/**
 * Handles an upgrade request for the pods/exec subresource. Never throws; every failure is
 * answered on the socket the way the real server answers it.
 */
export function handleExecUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  ctx: ExecContext,
): void {
  socket.on("error", () => socket.destroy());
  serveExec(req, socket, head, ctx).catch((e: unknown) => {
    writeStatus(socket, internalErrorBody(`API-server double exec failure: ${(e as Error).message}`));
  });
}

/**
 * For an exec request that is not an upgrade (plain GET/POST): the real server validates the pod
 * first, then the proxy insists on an upgrade with 400 "Upgrade request required".
 */
export function handleExecHttp(req: IncomingMessage, res: ServerResponse, ctx: ExecContext): void {
  const q = parseExecQuery(req);
  const t = resolveTarget(ctx.getPod(ctx.namespace, ctx.podName), ctx.podName, ctx.namespace, q.container);
  const status = t.ok ? badRequest("Upgrade request required") : t.status;
  res.writeHead(status.code, { "Content-Type": "application/json", "Cache-Control": "no-cache, private" });
  res.end(JSON.stringify(status) + "\n");
}

async function serveExec(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  ctx: ExecContext,
): Promise<void> {
  const q = parseExecQuery(req);
  const resolved = resolveTarget(
    ctx.getPod(ctx.namespace, ctx.podName),
    ctx.podName,
    ctx.namespace,
    q.container,
  );
  if (!resolved.ok) return writeStatus(socket, resolved.status);
  const target = resolved.target;

  if ((req.headers.upgrade ?? "").toLowerCase() !== "websocket") {
    // SPDY (kubectl's fallback) is not implemented by this double.
    return writeStatus(
      socket,
      badRequest(
        "the API-server double serves pod exec over WebSocket only (v5.channel.k8s.io, v4.channel.k8s.io), not SPDY",
      ),
    );
  }
  const offered = offeredProtocols(req);
  const protocol: ExecProtocol | undefined = offered.includes("v5.channel.k8s.io")
    ? "v5.channel.k8s.io"
    : offered.includes("v4.channel.k8s.io")
      ? "v4.channel.k8s.io"
      : undefined;
  if (!protocol) {
    // golang.org/x/net/websocket rejects a failed protocol handshake with a bare 403.
    return writeRaw(socket, 403, {}, "");
  }
  if (!q.stdin && !q.stdout && !q.stderr)
    return writeStatus(socket, badRequest("you must specify at least 1 of stdin, stdout, stderr"));
  // The real server hands an empty command to the runtime, whose answer varies; the double
  // refuses it up front with a clear message instead.
  if (q.argv.length === 0) return writeStatus(socket, badRequest("you must specify at least 1 command"));

  const running = containerIsRunning(target);
  if (!running && protocol === "v4.channel.k8s.io") {
    // kubelet: streaming.WriteError -> 500 with the error text, echoed by the apiserver's proxy.
    return writeRaw(
      socket,
      500,
      { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" },
      `container not found (${JSON.stringify(target.container.name)})`,
    );
  }

  // Confinement must be possible before anything runs; never fall back to the host.
  let root: string | undefined;
  if (running) {
    const probeImage = await ensureImage("busybox");
    if (!probeImage.ok) return writeStatus(socket, internalErrorBody(`exec refused: ${probeImage.error}`));
    const conf = await checkConfinement(probeImage.root);
    if (!conf.ok) return writeStatus(socket, internalErrorBody(`exec refused: ${conf.error}`));
    const image = target.container.image;
    if (typeof image !== "string" || image === "")
      return writeStatus(
        socket,
        internalErrorBody(`exec refused: container ${target.container.name} has no image`),
      );
    const rootfs = await ensureContainerRoot(
      ctx.stateDir,
      target.podUid,
      target.container.name,
      image,
      containerWorkingDir(target),
    );
    if (!rootfs.ok) return writeStatus(socket, internalErrorBody(`exec refused: ${rootfs.error}`));
    root = rootfs.root;
  }

  const delay = ctx.knobs.upgradeDelayMs ?? 0;
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  if (socket.destroyed) return;

  negotiated.set(req, protocol);
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (!running || root === undefined) {
      // v5: the translator upgraded, then its SPDY dial to the kubelet got the 500 above.
      const err = `unable to upgrade connection: container not found (${JSON.stringify(target.container.name)})`;
      sendStatusAndClose(ws, internalErrorChannelStatus(protocol, err, true));
      return;
    }
    // Frames (stdin, the v5 stdin close) can arrive before the command starts: queue them.
    const early: Buffer[] = [];
    const queue = (data: RawData, isBinary: boolean): void => {
      if (isBinary) early.push(toBuffer(data));
    };
    ws.on("message", queue);
    runSession(ws, protocol, q, target, root, ctx, () => {
      ws.off("message", queue);
      return early;
    }).catch((e: unknown) => {
      // Never an unhandled rejection (it would kill the test process); report it like a kubelet.
      if (ws.readyState === ws.OPEN)
        sendStatusAndClose(
          ws,
          internalErrorChannelStatus(
            protocol,
            `error executing command in container: ${(e as Error).message}`,
          ),
        );
    });
  });
}

function sendStatusAndClose(ws: WebSocket, payload: string): void {
  ws.send(Buffer.concat([Buffer.from([CHANNEL_ERROR]), Buffer.from(payload)]), { binary: true }, () =>
    ws.close(1000),
  );
}

function toBuffer(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}

async function runSession(
  ws: WebSocket,
  protocol: ExecProtocol,
  q: ExecRequest,
  target: ResolvedTarget,
  root: string,
  ctx: ExecContext,
  takeEarlyFrames: () => Buffer[],
): Promise<void> {
  const env = containerEnv(target, ctx.podName, q.tty);
  const workingDir = containerWorkingDir(target);
  const argv0 = q.argv[0] as string;
  const found = await lookPathInRoot(root, argv0, env.PATH ?? "", workingDir);
  if (ws.readyState !== ws.OPEN) return;
  if (!found.ok) {
    // containerd: "failed to start exec <id>: OCI runtime exec failed: exec failed: unable to start
    // container process: exec: ...: unknown" (runc 1.1), wrapped by the kubelet's ServeExec as
    // "error executing command in container: failed to exec in container: ..." (InternalError).
    const execId = randomBytes(32).toString("hex");
    const err = `error executing command in container: failed to exec in container: failed to start exec ${JSON.stringify(execId)}: OCI runtime exec failed: exec failed: unable to start container process: exec: ${found.runcError}: unknown`;
    sendStatusAndClose(ws, internalErrorChannelStatus(protocol, err));
    return;
  }

  const outside = checkRootInside(ctx.stateDir, root);
  if (outside) {
    sendStatusAndClose(ws, internalErrorChannelStatus(protocol, `exec refused: ${outside}`));
    return;
  }
  const child = startConfined({ root, workingDir, argv: q.argv, env, stdin: q.stdin });
  let attached = true;
  let sentBytes = 0;
  const limit = ctx.knobs.dropAfterBytes;

  const detach = (): void => {
    if (!attached) return;
    attached = false;
    // Like a real kubelet, the process keeps running when its client goes away; its output is
    // drained (so it never blocks on a full pipe) and stdin reaches EOF.
    child.stdin?.end();
  };

  const forward = (channel: number, data: Buffer): void => {
    if (!attached || ws.readyState !== ws.OPEN) return;
    let chunk = data;
    let drop = false;
    if (limit !== undefined && sentBytes + chunk.length >= limit) {
      chunk = chunk.subarray(0, Math.max(0, limit - sentBytes));
      drop = true;
    }
    sentBytes += chunk.length;
    const frame = Buffer.concat([Buffer.from([channel]), chunk]);
    if (drop) {
      attached = false;
      child.stdin?.end();
      // Cut the TCP connection right after the partial output, without a WebSocket close.
      if (chunk.length > 0) ws.send(frame, { binary: true }, () => ws.terminate());
      else ws.terminate();
      return;
    }
    if (chunk.length > 0) ws.send(frame, { binary: true });
  };

  child.stdout?.on("data", (d: Buffer) => {
    if (q.stdout) forward(CHANNEL_STDOUT, d);
  });
  child.stderr?.on("data", (d: Buffer) => {
    if (q.stderr) forward(CHANNEL_STDERR, d);
    else if (q.tty && q.stdout) forward(CHANNEL_STDOUT, d);
  });
  child.stdin?.on("error", () => undefined);

  const onFrame = (buf: Buffer): void => {
    if (!attached || buf.length === 0) return;
    const channel = buf[0];
    if (channel === CHANNEL_STDIN && q.stdin) child.stdin?.write(buf.subarray(1));
    else if (channel === CHANNEL_CLOSE && protocol === "v5.channel.k8s.io" && buf[1] === CHANNEL_STDIN)
      child.stdin?.end();
    // Channel 4 (resize) is accepted and ignored: the double allocates no terminal.
  };
  for (const buf of takeEarlyFrames()) onFrame(buf);
  ws.on("message", (data: RawData, isBinary: boolean) => {
    if (isBinary) onFrame(toBuffer(data));
  });
  ws.on("close", detach);
  ws.on("error", detach);

  child.on("error", (e) => {
    if (!attached || ws.readyState !== ws.OPEN) return;
    attached = false;
    sendStatusAndClose(
      ws,
      internalErrorChannelStatus(protocol, `error executing command in container: ${e.message}`),
    );
  });
  child.on("close", (code, signal) => {
    if (!attached || ws.readyState !== ws.OPEN) return;
    attached = false;
    if (ctx.knobs.neverSendStatus) return;
    const exit = exitCodeOf(code, signal);
    sendStatusAndClose(
      ws,
      exit === 0 ? successChannelStatus() : exitCodeChannelStatus(protocol, q.argv, exit),
    );
  });
}
