// A deliberately tiny HTTPS server for testing the exec endpoint on its own (independent of the
// full API-server double): a self-signed certificate made with node-forge, bearer-token auth,
// the discovery documents kubectl needs, GET pod, and upgrades routed to handleExecUpgrade.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { tmpdir } from "node:os";
import { join } from "node:path";
import forge from "node-forge";
import { handleExecHttp, handleExecUpgrade, shutdownExecs, type ExecKnobs } from "./index.js";

export const TEST_TOKEN = "exec-harness-token";

export interface ExecHarness {
  url: string;
  port: number;
  caPem: string;
  kubeconfigPath: string;
  stateDir: string;
  pods: Map<string, any>;
  knobs: ExecKnobs;
  /** Paths of every request the server saw, for assertions about what clients asked for. */
  seen: string[];
  stop(): Promise<void>;
}

function selfSignedCert(): { keyPem: string; certPem: string } {
  // Native key generation (fast); node-forge builds and signs the certificate.
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: "spki", format: "pem" }).toString());
  cert.serialNumber = "01" + randomBytes(8).toString("hex");
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const attrs = [{ name: "commonName", value: "exec-harness" }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: "basicConstraints", cA: true },
    { name: "keyUsage", keyCertSign: true, digitalSignature: true, keyEncipherment: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [
        { type: 7, ip: "127.0.0.1" },
        { type: 2, value: "localhost" },
      ],
    },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { keyPem, certPem: forge.pki.certificateToPem(cert) };
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

function notFound(res: ServerResponse, message: string, details?: Record<string, string>): void {
  json(res, 404, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason: "NotFound",
    ...(details ? { details } : {}),
    code: 404,
  });
}

const EXEC_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/;
const POD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/;

function authorized(req: IncomingMessage): boolean {
  return req.headers.authorization === `Bearer ${TEST_TOKEN}`;
}

export async function startExecHarness(): Promise<ExecHarness> {
  const dir = mkdtempSync(join(tmpdir(), "exec-harness-"));
  const stateDir = join(dir, "state");
  const pods = new Map<string, any>();
  const knobs: ExecKnobs = {};
  const seen: string[] = [];
  const { keyPem, certPem } = selfSignedCert();
  const getPod = (ns: string, name: string): any => pods.get(`${ns}/${name}`);

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? "/", "https://x").pathname;
    seen.push(`${req.method} ${req.url}`);
    if (!authorized(req))
      return json(res, 401, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "Unauthorized",
        reason: "Unauthorized",
        code: 401,
      });
    if (path === "/api")
      return json(res, 200, {
        kind: "APIVersions",
        versions: ["v1"],
        serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: `127.0.0.1:${port}` }],
      });
    if (path === "/apis") return json(res, 200, { kind: "APIGroupList", apiVersion: "v1", groups: [] });
    if (path === "/api/v1") {
      return json(res, 200, {
        kind: "APIResourceList",
        groupVersion: "v1",
        resources: [
          {
            name: "pods",
            singularName: "pod",
            namespaced: true,
            kind: "Pod",
            verbs: ["get", "list"],
            shortNames: ["po"],
          },
          {
            name: "pods/exec",
            singularName: "",
            namespaced: true,
            kind: "PodExecOptions",
            verbs: ["create", "get"],
          },
        ],
      });
    }
    const exec = EXEC_PATH.exec(path);
    if (exec) {
      return handleExecHttp(req, res, {
        namespace: decodeURIComponent(exec[1] as string),
        podName: decodeURIComponent(exec[2] as string),
        getPod,
        user: { username: "tester", groups: [] },
        stateDir,
        knobs,
      });
    }
    const pod = POD_PATH.exec(path);
    if (pod && req.method === "GET") {
      const name = decodeURIComponent(pod[2] as string);
      const found = getPod(decodeURIComponent(pod[1] as string), name);
      return found
        ? json(res, 200, found)
        : notFound(res, `pods "${name}" not found`, { name, kind: "pods" });
    }
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
    res.end("404 page not found\n");
  };

  const server: Server = createServer({ key: keyPem, cert: certPem, minVersion: "TLSv1.2" }, onRequest);
  const sockets = new Set<Duplex>();
  // raw TCP connections: stop() must also end one still in its TLS handshake
  server.on("connection", (s: Duplex) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    seen.push(`UPGRADE ${req.method} ${req.url}`);
    const m = EXEC_PATH.exec(new URL(req.url ?? "/", "https://x").pathname);
    if (!m || !authorized(req)) {
      socket.end("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    handleExecUpgrade(req, socket, head, {
      namespace: decodeURIComponent(m[1] as string),
      podName: decodeURIComponent(m[2] as string),
      getPod,
      user: { username: "tester", groups: ["system:authenticated"] },
      stateDir,
      knobs,
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;

  const kubeconfigPath = join(dir, "kubeconfig");
  const b64 = Buffer.from(certPem).toString("base64");
  writeFileSync(
    kubeconfigPath,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: harness",
      "  cluster:",
      `    server: ${url}`,
      `    certificate-authority-data: ${b64}`,
      "users:",
      "- name: tester",
      "  user:",
      `    token: ${TEST_TOKEN}`,
      "contexts:",
      "- name: harness",
      "  context:",
      "    cluster: harness",
      "    user: tester",
      "    namespace: default",
      "current-context: harness",
      "",
    ].join("\n"),
  );

  return {
    url,
    port,
    caPem: certPem,
    kubeconfigPath,
    stateDir,
    pods,
    knobs,
    seen,
    async stop() {
      await shutdownExecs();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A pod as the kubelet double leaves it: scheduled, Running, every container running. */
export function runningPod(
  name: string,
  containers: Array<{
    name: string;
    image: string;
    env?: Array<{ name: string; value?: string }>;
    workingDir?: string;
  }>,
  namespace = "default",
): any {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, uid: `uid-${name}-${randomBytes(4).toString("hex")}` },
    spec: { nodeName: "node-1", containers },
    status: {
      phase: "Running",
      containerStatuses: containers.map((c) => ({
        name: c.name,
        ready: true,
        restartCount: 0,
        image: c.image,
        state: { running: { startedAt: new Date().toISOString() } },
      })),
    },
  };
}
