// The warm-up behind readiness. A fresh process answers its first burst of reviews in the
// interpreter, with JIT compilation and the first full collections on top (about 300 ms of stall
// measured), so before it reports ready the server sends itself a few rounds of representative
// reviews over HTTPS: the same TLS, HTTP parser, express router, decoder, domain rules and response
// code that real reviews take. None of them can start a SubjectAccessReview (the hook-setting one
// comes from a pod-creating controller, the others change no hook or are denied first), and each
// carries the process's random token, so the handler neither counts nor logs it.
import { randomBytes } from "node:crypto";
import { Agent, request } from "node:https";
import { WARMUP_HEADER } from "../admission/http.js";
import type { Result } from "../domain/types.js";

export type WarmupResult = Result<{ reviews: number }>;

export const warmupToken = (): string => randomBytes(16).toString("hex");

interface Sample {
  path: "/validate" | "/mutate";
  body: string;
}

const HOOKS = {
  "pre.hook.backup.velero.io/container": "db",
  "pre.hook.backup.velero.io/command": '["/bin/sh","-c","sync"]',
  "pre.hook.backup.velero.io/on-error": "Fail",
  "pre.hook.backup.velero.io/timeout": "2m",
  "post.hook.backup.velero.io/command": '["/bin/true"]',
};

function pod(annotations: Record<string, string>): object {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "db-0", namespace: "warmup", labels: { app: "db" }, annotations },
    spec: {
      containers: [
        { name: "db", image: "example.invalid/db:1" },
        { name: "sidecar", image: "example.invalid/sidecar:1" },
      ],
    },
  };
}

function review(
  n: number,
  gvk: [string, string, string, string],
  operation: "CREATE" | "UPDATE",
  object: object,
  oldObject: object | null,
  username: string,
): string {
  const [group, version, kind, resource] = gvk;
  return JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: `hookguard-warmup-${n}`,
      kind: { group, version, kind },
      resource: { group, version, resource },
      requestKind: { group, version, kind },
      requestResource: { group, version, resource },
      name: "db",
      namespace: "warmup",
      operation,
      userInfo: { username, groups: ["system:authenticated"] },
      object,
      oldObject,
      dryRun: false,
      options: {
        kind: operation === "CREATE" ? "CreateOptions" : "UpdateOptions",
        apiVersion: "meta.k8s.io/v1",
      },
    },
  });
}

/** What an API server sends most: pods with hooks, workload updates, Backups; one denial, one mutation. */
function samples(): Sample[] {
  const POD: [string, string, string, string] = ["", "v1", "Pod", "pods"];
  const controller = "system:serviceaccount:kube-system:replicaset-controller";
  const template = (annotations: Record<string, string>) => ({
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "db", namespace: "warmup" },
    spec: {
      selector: { matchLabels: { app: "db" } },
      template: {
        metadata: { labels: { app: "db" }, annotations },
        spec: (pod({}) as { spec: object }).spec,
      },
    },
  });
  const backup = (ttl: string) => ({
    apiVersion: "velero.io/v1",
    kind: "Backup",
    metadata: { name: "nightly", namespace: "warmup" },
    spec: {
      ttl,
      includedNamespaces: ["warmup"],
      hooks: {
        resources: [
          {
            name: "db",
            includedNamespaces: ["warmup"],
            pre: [{ exec: { container: "db", command: ["/bin/sync"], onError: "Fail", timeout: "30s" } }],
          },
        ],
      },
    },
  });
  return [
    { path: "/validate", body: review(1, POD, "CREATE", pod(HOOKS), null, controller) },
    {
      path: "/validate",
      body: review(
        2,
        POD,
        "CREATE",
        pod({ ...HOOKS, "pre.hook.backup.velero.io/on-error": "continue" }),
        null,
        "warmup",
      ),
    },
    {
      path: "/validate",
      body: review(
        3,
        ["apps", "v1", "StatefulSet", "statefulsets"],
        "UPDATE",
        template(HOOKS),
        template(HOOKS),
        "warmup",
      ),
    },
    {
      path: "/validate",
      body: review(
        4,
        ["velero.io", "v1", "Backup", "backups"],
        "UPDATE",
        backup("720h0m0s"),
        backup("240h0m0s"),
        "warmup",
      ),
    },
    {
      path: "/mutate",
      body: review(
        5,
        POD,
        "CREATE",
        pod({ "pre.hook.backup.velero.io/command": "/bin/sync" }),
        null,
        controller,
      ),
    },
  ];
}

function send(
  agent: Agent,
  o: { host: string; port: number; token: string },
  sample: Sample,
): Promise<string | undefined> {
  const uid = (JSON.parse(sample.body) as { request: { uid: string } }).request.uid;
  return new Promise((resolve) => {
    const req = request(
      {
        host: o.host,
        port: o.port,
        path: sample.path,
        method: "POST",
        agent,
        servername: "localhost",
        headers: { "content-type": "application/json", [WARMUP_HEADER]: o.token },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (err) => resolve(`${sample.path}: ${err.message}`));
        res.on("end", () =>
          resolve(checkAnswer(sample.path, uid, res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"))),
        );
      },
    );
    req.on("error", (err) => resolve(`${sample.path}: ${err.message}`));
    req.end(sample.body);
  });
}

/**
 * A warm-up review must come back as a decision: HTTP 200, its uid, and allowed or denied (403).
 * An errored answer means the server cannot handle what the API server sends, which is not ready.
 * Which decision is not checked: policy (enforcement modes, rules) may change it.
 */
function checkAnswer(path: string, uid: string, status: number, text: string): string | undefined {
  let response: { uid?: string; allowed?: boolean; status?: { code?: number; message?: string } } | undefined;
  try {
    response = (JSON.parse(text) as { response?: typeof response }).response;
  } catch {
    response = undefined;
  }
  if (status !== 200 || !response)
    return `${path} answered HTTP ${status}${response?.status?.message ? `: ${response.status.message}` : ""}`;
  if (response.uid !== uid) return `${path} answered uid ${JSON.stringify(response.uid)} for ${uid}`;
  if (!response.allowed && response.status?.code !== 403)
    return `${path} answered an error (${response.status?.code}): ${response.status?.message ?? ""}`;
  return undefined;
}

/**
 * `rounds` times every sample, one after the other on one kept-alive connection: the code gets as
 * hot as with more, and a small --max-connections leaves room for it.
 */
export async function warmUp(o: {
  host: string;
  port: number;
  token: string;
  rounds: number;
}): Promise<WarmupResult> {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 1,
    rejectUnauthorized: false,
    minVersion: "TLSv1.2",
  });
  const all = samples();
  try {
    for (let round = 0; round < o.rounds; round++) {
      for (const sample of all) {
        const failure = await send(agent, o, sample);
        if (failure !== undefined) return { ok: false, error: failure };
      }
    }
    return { ok: true, value: { reviews: o.rounds * all.length } };
  } finally {
    agent.destroy();
  }
}
