// The Velero double's way into the cluster: JSON REST over HTTPS and pods/exec over the WebSocket
// remotecommand protocol, authenticated from a kubeconfig through client-node. Velero writes its
// objects with JSON merge patches of the main resource (its kinds have no status subresource) and
// execs with SPDY, which reaches the kubelet like v4.channel.k8s.io does here; errors are turned
// into the texts client-go gives Velero (`command terminated with exit code N`,
// `unable to upgrade connection: ...`).
import { Agent, request, type RequestOptions } from "node:https";
import { KubeConfig } from "@kubernetes/client-node";
import WebSocket from "ws";
import type { ExecOutcome } from "./hooks.js";

export class KubeError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class Kube {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  private readonly sockets = new Set<WebSocket>();

  private constructor(
    private readonly server: URL,
    private readonly opts: RequestOptions,
  ) {}

  static async fromFile(path: string): Promise<Kube> {
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error(`kubeconfig ${path} has no current cluster`);
    const opts: RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    return new Kube(new URL(cluster.server), opts);
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
  ): Promise<any> {
    try {
      return await this.once(method, path, body, contentType);
    } catch (e) {
      // A kept-alive socket the server closed just as it was reused: the request never reached it
      // (Node's documented race), so sending it again is safe.
      if ((e as { reusedSocket?: boolean }).reusedSocket) return this.once(method, path, body, contentType);
      throw e;
    }
  }

  private once(method: string, path: string, body: unknown, contentType: string): Promise<any> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          ...this.opts,
          agent: this.agent,
          method,
          hostname: this.server.hostname,
          port: this.server.port,
          path,
          headers: {
            ...(this.opts.headers ?? {}),
            Accept: "application/json",
            ...(text ? { "Content-Type": contentType, "Content-Length": Buffer.byteLength(text) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const raw = Buffer.concat(chunks).toString("utf8");
            let json: any;
            try {
              json = raw ? JSON.parse(raw) : undefined;
            } catch {
              json = undefined;
            }
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) resolve(json);
            else reject(new KubeError(code, json?.message ?? `HTTP ${code}: ${raw.slice(0, 200)}`));
          });
          res.on("error", reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer within 30s`)));
      req.on("error", (e: NodeJS.ErrnoException) =>
        reject(
          Object.assign(e, {
            reusedSocket: req.reusedSocket && (e.code === "ECONNRESET" || e.message === "socket hang up"),
          }),
        ),
      );
      req.end(text);
    });
  }

  get(path: string): Promise<any> {
    return this.request("GET", path);
  }

  /** GET that answers undefined for 404. */
  async find(path: string): Promise<any> {
    try {
      return await this.get(path);
    } catch (e) {
      if (e instanceof KubeError && e.code === 404) return undefined;
      throw e;
    }
  }

  create(path: string, obj: unknown): Promise<any> {
    return this.request("POST", path, obj);
  }

  /** A JSON merge patch without resourceVersion, as Velero's PatchResource sends it. */
  mergePatch(path: string, patch: unknown): Promise<any> {
    return this.request("PATCH", path, patch, "application/merge-patch+json");
  }

  remove(path: string): Promise<any> {
    return this.request("DELETE", path);
  }

  /** Runs argv in a container with stdout and stderr captured; never rejects. */
  exec(namespace: string, pod: string, container: string, argv: string[]): Promise<ExecOutcome> {
    const q = new URLSearchParams();
    for (const a of argv) q.append("command", a);
    q.set("container", container);
    q.set("stderr", "true");
    q.set("stdout", "true");
    const url = `wss://${this.server.host}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/exec?${q}`;
    return new Promise((resolve) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let settled = false;
      const finish = (error?: string): void => {
        if (settled) return;
        settled = true;
        resolve({
          stdout: Buffer.concat(stdout).toString("utf8"),
          stderr: Buffer.concat(stderr).toString("utf8"),
          ...(error === undefined ? {} : { error: { message: error } }),
        });
      };
      const ws = new WebSocket(url, ["v4.channel.k8s.io"], {
        ca: this.opts.ca,
        cert: this.opts.cert,
        key: this.opts.key,
        headers: this.opts.headers as Record<string, string>,
        handshakeTimeout: 30_000,
        perMessageDeflate: false,
      });
      this.sockets.add(ws);
      ws.on("unexpected-response", (_req, res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const raw = Buffer.concat(chunks).toString("utf8");
          // client-go's SPDY upgrade: a Status body becomes its message, anything else is wrapped.
          let message: string | undefined;
          try {
            const s = JSON.parse(raw);
            if (s?.kind === "Status") message = s.message;
          } catch {
            // not a Status
          }
          finish(message ?? `unable to upgrade connection: ${raw.trim()}`);
          ws.terminate();
        });
      });
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        if (!isBinary || data.length === 0) return;
        const channel = data[0];
        const payload = data.subarray(1);
        if (channel === 1) stdout.push(Buffer.from(payload));
        else if (channel === 2) stderr.push(Buffer.from(payload));
        else if (channel === 3) finish(decodeStatus(payload.toString("utf8")));
      });
      ws.on("error", (e) => finish(e.message));
      ws.on("close", (code) => {
        this.sockets.delete(ws);
        // The SPDY error stream simply ends: no status means success for client-go.
        finish(
          code === 1000 || code === 1005
            ? undefined
            : `websocket: close ${code} (abnormal closure): unexpected EOF`,
        );
      });
    });
  }

  close(): void {
    for (const s of this.sockets) s.terminate();
    this.agent.destroy();
  }
}

/** client-go's errorDecoderV4. */
function decodeStatus(text: string): string | undefined {
  let s: any;
  try {
    s = JSON.parse(text);
  } catch (e) {
    return `error stream protocol error: ${(e as Error).message} in ${JSON.stringify(text)}`;
  }
  if (s?.status === "Success") return undefined;
  if (s?.status !== "Failure") return "error stream protocol error: unknown error";
  if (s.reason === "NonZeroExitCode") {
    const cause = (s.details?.causes ?? []).find((c: any) => c?.reason === "ExitCode");
    if (!cause) return "error stream protocol error: no ExitCode cause given";
    const rc = Number(cause.message);
    if (!Number.isInteger(rc) || rc < 0 || rc > 255)
      return `error stream protocol error: invalid exit code value ${JSON.stringify(cause.message)}`;
    return `command terminated with exit code ${rc}`;
  }
  return String(s.message ?? "");
}
