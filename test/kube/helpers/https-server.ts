// A minimal HTTPS server on 127.0.0.1:0 with real TLS (CA + serving cert from src/tls), a request
// router and a WebSocket upgrade hook, plus a KubeConfig (and kubeconfig file) pointing at it.
// Used until/alongside the shared API-server double, for wire-level cases the double does not stage.
import { KubeConfig } from "@kubernetes/client-node";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateBundle } from "../../../src/tls/generate.js";

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface TestServer {
  url: string;
  kc: KubeConfig;
  kubeconfigPath: string;
  caPem: string;
  /** Number of requests seen, by "METHOD path-without-query". */
  requests: string[];
  setHandler(h: Handler): void;
  setUpgrade(h: UpgradeHandler): void;
  stop(): Promise<void>;
}

let bundle: ReturnType<typeof generateBundle> | undefined;

export async function startTestServer(
  handler: Handler = notFound,
  upgrade?: UpgradeHandler,
): Promise<TestServer> {
  bundle ??= generateBundle();
  let h = handler;
  let up = upgrade;
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer(
    { key: bundle.serving.keyPem, cert: bundle.serving.certPem, minVersion: "TLSv1.2" },
    (req, res) => {
      requests.push(`${req.method} ${(req.url ?? "").split("?")[0]}`);
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        Promise.resolve(h(req, res, Buffer.concat(chunks).toString("utf8"))).catch((e: unknown) => {
          if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify(status(500, "InternalError", String(e))));
        });
      });
    },
  );
  // Raw TCP connections, not "secureConnection": a client that reconnects just as a test ends can
  // leave a connection mid-handshake, which server.close() would otherwise wait for forever.
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    requests.push(`UPGRADE ${(req.url ?? "").split("?")[0]}`);
    if (up) up(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;
  const kc = new KubeConfig();
  const cluster = {
    name: "test",
    server: url,
    caData: Buffer.from(bundle.ca.certPem).toString("base64"),
    skipTLSVerify: false,
  };
  // A context without a user makes client-node ignore the CA: always include one.
  const user = { name: "tester", token: "test-token" };
  kc.loadFromOptions({
    clusters: [cluster],
    users: [user],
    contexts: [{ name: "test", cluster: "test", user: "tester" }],
    currentContext: "test",
  });
  const dir = mkdtempSync(join(tmpdir(), "hookguard-kube-test-"));
  const kubeconfigPath = join(dir, "kubeconfig");
  writeFileSync(kubeconfigPath, kc.exportConfig());
  return {
    url,
    kc,
    kubeconfigPath,
    caPem: bundle.ca.certPem,
    requests,
    setHandler: (n) => {
      h = n;
    },
    setUpgrade: (n) => {
      up = n;
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

export const notFound: Handler = (_req, res) => sendJson(res, 404, status(404, "NotFound", "not found"));

/** Poll `cond` every 20 ms until true or `timeoutMs` (generous) passes; throws with `what` on timeout. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
