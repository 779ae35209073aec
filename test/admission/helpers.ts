// Test harness: the real WebhookServer on 127.0.0.1 port 0 over real TLS, with a client that trusts
// the generated CA and keeps connections alive, plus AdmissionReview builders shaped exactly as the
// API server sends them.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebhookMetrics } from "../../src/admission/metrics.js";
import type { ValidateDeps } from "../../src/admission/validate.js";
import { silentLogger, type Logger } from "../../src/log.js";
import type { ConnectionLimits } from "../../src/server/connection-limits.js";
import { WebhookServer } from "../../src/server/webhook-server.js";
import { ensureDevCerts } from "../../src/tls/cert-dir.js";

export interface TestWebhook {
  port: number;
  ca: string;
  certDir: string;
  agent: Agent;
  metrics: WebhookMetrics;
  server: WebhookServer;
  post(path: string, body: string | Buffer | object, headers?: Record<string, string>): Promise<HttpReply>;
  stop(): Promise<void>;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export async function startTestWebhook(
  opts: {
    validate?: ValidateDeps;
    log?: Logger;
    maxRequestBytes?: number;
    certDir?: string;
    certPollMs?: number;
    limits?: Partial<ConnectionLimits>;
    /** Warm-up rounds (default 2: tests need readiness, not optimized code). */
    warmupRounds?: number;
    /** Return as soon as the server listens, without waiting for the warm-up. */
    skipWarmupWait?: boolean;
  } = {},
): Promise<TestWebhook> {
  const certDir = opts.certDir ?? mkdtempSync(join(tmpdir(), "hookguard-certs-"));
  const made = ensureDevCerts(certDir, []);
  if (!made.ok) throw new Error(made.error);
  const metrics = new WebhookMetrics();
  const server = new WebhookServer({
    host: "127.0.0.1",
    port: 0,
    certDir,
    metrics,
    log: opts.log ?? silentLogger(),
    validate: opts.validate ?? {},
    ...(opts.maxRequestBytes ? { maxRequestBytes: opts.maxRequestBytes } : {}),
    certPollMs: opts.certPollMs ?? 0,
    warmupRounds: opts.warmupRounds ?? 2,
    ...(opts.limits ? { limits: opts.limits } : {}),
  });
  const { port } = await server.start();
  if (!opts.skipWarmupWait) {
    const warm = await server.warmedUp();
    if (!warm.ok) throw new Error(`test webhook did not warm up: ${warm.error}`);
  }
  const ca = readFileSync(join(certDir, "ca.crt"), "utf8");
  const agent = new Agent({ keepAlive: true, ca, maxSockets: 8 });
  return {
    port,
    ca,
    certDir,
    agent,
    metrics,
    server,
    post: (path, body, headers) => post({ port, agent, path, body, ...(headers ? { headers } : {}) }),
    async stop() {
      agent.destroy();
      await server.stop(1000);
      if (!opts.certDir) rmSync(certDir, { recursive: true, force: true });
    },
  };
}

export function post(o: {
  port: number;
  agent: Agent;
  path: string;
  body: string | Buffer | object;
  headers?: Record<string, string>;
  method?: string;
}): Promise<HttpReply> {
  const payload = typeof o.body === "string" || Buffer.isBuffer(o.body) ? o.body : JSON.stringify(o.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        servername: "localhost",
        port: o.port,
        path: o.path,
        method: o.method ?? "POST",
        agent: o.agent,
        headers: { "content-type": "application/json", ...o.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

export const GVK = {
  Pod: { group: "", version: "v1", kind: "Pod", resource: "pods" },
  ReplicationController: {
    group: "",
    version: "v1",
    kind: "ReplicationController",
    resource: "replicationcontrollers",
  },
  Deployment: { group: "apps", version: "v1", kind: "Deployment", resource: "deployments" },
  StatefulSet: { group: "apps", version: "v1", kind: "StatefulSet", resource: "statefulsets" },
  DaemonSet: { group: "apps", version: "v1", kind: "DaemonSet", resource: "daemonsets" },
  ReplicaSet: { group: "apps", version: "v1", kind: "ReplicaSet", resource: "replicasets" },
  Job: { group: "batch", version: "v1", kind: "Job", resource: "jobs" },
  CronJob: { group: "batch", version: "v1", kind: "CronJob", resource: "cronjobs" },
  Backup: { group: "velero.io", version: "v1", kind: "Backup", resource: "backups" },
  Schedule: { group: "velero.io", version: "v1", kind: "Schedule", resource: "schedules" },
} as const;
export type KindName = keyof typeof GVK;

let counter = 0;
export function newUid(): string {
  counter++;
  return `00000000-0000-4000-8000-${counter.toString(16).padStart(12, "0")}`;
}

/** An AdmissionReview as kube-apiserver sends it (field order and all). */
export function review(o: {
  kind: KindName;
  operation: "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
  object?: unknown;
  oldObject?: unknown;
  namespace?: string;
  name?: string;
  user?: { username: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  apiVersion?: string;
  uid?: string;
  dryRun?: boolean;
}): { apiVersion: string; kind: string; request: Record<string, any> } {
  const g = GVK[o.kind];
  const gvk = { group: g.group, version: g.version, kind: g.kind };
  const gvr = { group: g.group, version: g.version, resource: g.resource };
  const optionsKind = {
    CREATE: "CreateOptions",
    UPDATE: "UpdateOptions",
    DELETE: "DeleteOptions",
    CONNECT: "PodExecOptions",
  }[o.operation];
  return {
    apiVersion: o.apiVersion ?? "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: o.uid ?? newUid(),
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      name: o.name ?? "web-0",
      namespace: o.namespace ?? "shop",
      operation: o.operation,
      userInfo: o.user ?? {
        username: "alice",
        uid: "u-alice",
        groups: ["developers", "system:authenticated"],
      },
      object: o.object ?? null,
      oldObject: o.oldObject ?? null,
      dryRun: o.dryRun ?? false,
      options: { kind: optionsKind, apiVersion: "meta.k8s.io/v1" },
    },
  };
}

export function pod(
  annotations?: Record<string, string>,
  containers = ["app", "sidecar"],
): Record<string, any> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "web-0",
      namespace: "shop",
      uid: "3f1c0d52-8d6f-4c59-9d1e-5b0f3b1a2c01",
      labels: { app: "web" },
      ...(annotations ? { annotations } : {}),
    },
    spec: { containers: containers.map((name) => ({ name, image: `example.com/${name}:1` })) },
  };
}

/** A workload of `kind` whose pod template carries `annotations`. */
export function workload(
  kind: Exclude<KindName, "Pod" | "Backup" | "Schedule">,
  annotations?: Record<string, string>,
): Record<string, any> {
  const g = GVK[kind];
  const template = {
    metadata: { labels: { app: "web" }, ...(annotations ? { annotations } : {}) },
    spec: { containers: [{ name: "app", image: "example.com/app:1" }] },
  };
  const spec =
    kind === "CronJob"
      ? { schedule: "0 * * * *", jobTemplate: { spec: { template } } }
      : { selector: { matchLabels: { app: "web" } }, template };
  return {
    apiVersion: g.group ? `${g.group}/${g.version}` : g.version,
    kind: g.kind,
    metadata: { name: "web", namespace: "shop" },
    spec,
  };
}

export function backup(hooks: unknown, extra: Record<string, unknown> = {}): Record<string, any> {
  return {
    apiVersion: "velero.io/v1",
    kind: "Backup",
    metadata: { name: "nightly", namespace: "velero" },
    spec: { ...extra, hooks },
  };
}
export function schedule(hooks: unknown, extra: Record<string, unknown> = {}): Record<string, any> {
  return {
    apiVersion: "velero.io/v1",
    kind: "Schedule",
    metadata: { name: "nightly", namespace: "velero" },
    spec: { schedule: "0 1 * * *", template: { ...extra, hooks } },
  };
}

/** Applies a JSONPatch (add/replace only, as hookguard emits) to a deep copy. */
export function applyPatch<T>(doc: T, ops: Array<{ op: string; path: string; value: unknown }>): T {
  const out = structuredClone(doc) as any;
  for (const op of ops) {
    const parts = op.path
      .split("/")
      .slice(1)
      .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    let node = out;
    for (const p of parts.slice(0, -1)) {
      if (node[p] === undefined) throw new Error(`patch path ${op.path}: missing parent ${p}`);
      node = node[p];
    }
    const last = parts[parts.length - 1]!;
    if (op.op === "replace" && node[last] === undefined) throw new Error(`replace of missing ${op.path}`);
    if (op.op === "add" || op.op === "replace") node[last] = op.value;
    else throw new Error(`unexpected op ${op.op}`);
  }
  return out;
}

export function decodePatch(
  patch: string | undefined,
): Array<{ op: string; path: string; value: unknown }> | undefined {
  return patch === undefined ? undefined : JSON.parse(Buffer.from(patch, "base64").toString("utf8"));
}
