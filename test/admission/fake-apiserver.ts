// A deliberately small Kubernetes API over real HTTPS for the webhook's own calls: SubjectAccessReview,
// Secrets (with resourceVersion conflicts), and Validating/MutatingWebhookConfigurations (GET and a
// JSON patch with `test` and `add`). The real client-node talks to it through a real KubeConfig.
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { generateBundle } from "../../src/tls/generate.js";

export interface SarSpec {
  user?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  resourceAttributes?: {
    namespace?: string;
    verb?: string;
    group?: string;
    resource?: string;
    subresource?: string;
  };
}

export interface FakeApi {
  url: string;
  kc: KubeConfig;
  requests: Array<{ method: string; path: string }>;
  sar: SarSpec[];
  /** Decides SubjectAccessReviews; return "error" for a 500. */
  decide: (spec: SarSpec) => boolean | "error";
  secrets: Map<
    string,
    { data: Record<string, string>; resourceVersion: string; ownerReferences?: unknown[] }
  >;
  configs: Map<string, { kind: "validating" | "mutating"; obj: any }>;
  /** Called before a Secret write; returning true answers 409 (simulates a concurrent writer). */
  interceptWrite?: (method: string, name: string) => boolean;
  stop(): Promise<void>;
}

function status(code: number, reason: string, message: string): string {
  return JSON.stringify({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
  });
}

export async function startFakeApi(): Promise<FakeApi> {
  const { ca, serving } = generateBundle();
  let rv = 100;
  const api: FakeApi = {
    url: "",
    kc: new KubeConfig(),
    requests: [],
    sar: [],
    decide: () => true,
    secrets: new Map(),
    configs: new Map(),
    stop: async () => undefined,
  };
  const server: Server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0]!;
      const method = req.method ?? "";
      api.requests.push({ method, path });
      const send = (code: number, payload: string): void => {
        res.writeHead(code, { "content-type": "application/json" }).end(payload);
      };
      if (req.headers.authorization !== "Bearer test-token")
        return send(401, status(401, "Unauthorized", "Unauthorized"));
      if (method === "POST" && path === "/apis/authorization.k8s.io/v1/subjectaccessreviews") {
        const review = JSON.parse(body);
        api.sar.push(review.spec);
        const d = api.decide(review.spec);
        if (d === "error") return send(500, status(500, "InternalError", "etcd is on fire"));
        return send(
          201,
          JSON.stringify({ ...review, status: { allowed: d, ...(d ? {} : { reason: "no RBAC rule" }) } }),
        );
      }
      const secret = path.match(/^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/);
      if (secret) return handleSecret(method, secret[1]!, secret[2], body, send);
      const cfg = path.match(
        /^\/apis\/admissionregistration\.k8s\.io\/v1\/(validating|mutating)webhookconfigurations\/([^/]+)$/,
      );
      if (cfg) return handleConfig(method, cfg[1] as "validating" | "mutating", cfg[2]!, body, send);
      send(404, status(404, "NotFound", `no route ${method} ${path}`));
    });
  });

  function handleSecret(
    method: string,
    ns: string,
    name: string | undefined,
    body: string,
    send: (c: number, p: string) => void,
  ): void {
    const toObj = (
      n: string,
      s: { data: Record<string, string>; resourceVersion: string; ownerReferences?: unknown[] },
    ) =>
      JSON.stringify({
        apiVersion: "v1",
        kind: "Secret",
        metadata: {
          name: n,
          namespace: ns,
          resourceVersion: s.resourceVersion,
          ...(s.ownerReferences ? { ownerReferences: s.ownerReferences } : {}),
        },
        type: "Opaque",
        data: s.data,
      });
    if (method === "GET" && name) {
      const s = api.secrets.get(name);
      return s
        ? send(200, toObj(name, s))
        : send(404, status(404, "NotFound", `secrets "${name}" not found`));
    }
    const obj = JSON.parse(body || "{}");
    const n = name ?? obj.metadata?.name;
    if (api.interceptWrite?.(method, n))
      return send(409, status(409, "Conflict", "simulated concurrent write"));
    if (method === "POST") {
      if (api.secrets.has(n)) return send(409, status(409, "AlreadyExists", `secrets "${n}" already exists`));
      const s = {
        data: obj.data,
        resourceVersion: String(++rv),
        ...(obj.metadata?.ownerReferences ? { ownerReferences: obj.metadata.ownerReferences } : {}),
      };
      api.secrets.set(n, s);
      return send(201, toObj(n, s));
    }
    if (method === "PUT" && name) {
      const cur = api.secrets.get(name);
      if (!cur) return send(404, status(404, "NotFound", `secrets "${name}" not found`));
      if (obj.metadata?.resourceVersion !== cur.resourceVersion)
        return send(
          409,
          status(
            409,
            "Conflict",
            "the object has been modified; please apply your changes to the latest version and try again",
          ),
        );
      // a PUT replaces metadata: ownerReferences not sent are gone, as on a real API server
      const s = {
        data: obj.data,
        resourceVersion: String(++rv),
        ...(obj.metadata?.ownerReferences ? { ownerReferences: obj.metadata.ownerReferences } : {}),
      };
      api.secrets.set(name, s);
      return send(200, toObj(name, s));
    }
    send(405, status(405, "MethodNotAllowed", method));
  }

  function handleConfig(
    method: string,
    kind: "validating" | "mutating",
    name: string,
    body: string,
    send: (c: number, p: string) => void,
  ): void {
    const entry = api.configs.get(name);
    if (!entry || entry.kind !== kind)
      return send(404, status(404, "NotFound", `${kind}webhookconfigurations "${name}" not found`));
    if (method === "GET") return send(200, JSON.stringify(entry.obj));
    if (method === "PATCH") {
      const ops = JSON.parse(body) as Array<{ op: string; path: string; value: unknown }>;
      const next = structuredClone(entry.obj);
      for (const op of ops) {
        const parts = op.path.split("/").slice(1);
        let node = next;
        for (const p of parts.slice(0, -1)) node = node?.[p];
        const last = parts[parts.length - 1]!;
        if (node === undefined) return send(422, status(422, "Invalid", `path ${op.path} does not exist`));
        if (op.op === "test" && node[last] !== op.value)
          return send(409, status(409, "Conflict", `test failed at ${op.path}`));
        if (op.op === "add") node[last] = op.value;
      }
      next.metadata.resourceVersion = String(++rv);
      entry.obj = next;
      return send(200, JSON.stringify(next));
    }
    send(405, status(405, "MethodNotAllowed", method));
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  api.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api.kc.loadFromOptions({
    clusters: [{ name: "fake", server: api.url, caData: Buffer.from(ca.certPem).toString("base64") }],
    users: [{ name: "tester", token: "test-token" }],
    contexts: [{ name: "fake", cluster: "fake", user: "tester" }],
    currentContext: "fake",
  });
  api.stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return api;
}

export function webhookConfig(
  kind: "validating" | "mutating",
  name: string,
  webhooks: string[],
): { kind: "validating" | "mutating"; obj: any } {
  return {
    kind,
    obj: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: kind === "validating" ? "ValidatingWebhookConfiguration" : "MutatingWebhookConfiguration",
      metadata: { name, resourceVersion: "1", uid: `uid-${kind}-${name}` },
      webhooks: webhooks.map((w) => ({
        name: w,
        clientConfig: {
          service: {
            name: "hookguard",
            namespace: "hookguard",
            path: `/${kind === "validating" ? "validate" : "mutate"}`,
          },
        },
        sideEffects: "None",
        admissionReviewVersions: ["v1"],
      })),
    },
  };
}
