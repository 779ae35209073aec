// Minimal kube-controller-manager doubles for the template-copying controllers: Deployment →
// ReplicaSet → Pod. Like the real ones they are API clients, not store writers: every write goes
// over HTTPS with the controller's own ServiceAccount token (so through authentication, authorization
// and admission webhooks), and a refused write is retried with backoff, as a workqueue does.
// Names and labels are the real controllers': ReplicaSet `<deployment>-<pod-template-hash>` (FNV-32a
// of the template, encoded with the apimachinery alphabet), label pod-template-hash on the ReplicaSet,
// its selector and template, the Deployment's own annotations copied to the ReplicaSet, pods named
// `<replicaset>-<5 random chars>` through generateName, and controller ownerReferences throughout.
// A rollout is simplified to "scale every other owned ReplicaSet to 0".
// StatefulSet → Pod (and PVC), as the statefulset controller makes them: pods `<set>-<ordinal>` for
// ordinals 0..replicas-1, labelled `controller-revision-hash=<set>-<hash>`,
// `statefulset.kubernetes.io/pod-name=<pod>` and `apps.kubernetes.io/pod-index=<ordinal>`, with
// `spec.hostname`/`spec.subdomain` and a controller ownerReference; one PVC `<claim>-<pod>` per
// volumeClaimTemplate, mounted as the claim's volume. OrderedReady (the default) creates an ordinal only
// once every lower one is Running and Ready; Parallel creates them all at once. Scaling down deletes the
// highest ordinals first. Template updates (rolling restarts) are not played. Kept in its own file so
// that DaemonSet or Job controllers can be added beside these.
import { request as httpsRequest } from "node:https";
import type { ObjectStore, StoredEvent } from "./store.js";
import { RESOURCES } from "./resources.js";
import { NAME_ALPHABET, sortKeys } from "./write-rules.js";

export const DEPLOYMENT_CONTROLLER = "system:serviceaccount:kube-system:deployment-controller";
export const REPLICASET_CONTROLLER = "system:serviceaccount:kube-system:replicaset-controller";
export const STATEFULSET_CONTROLLER = "system:serviceaccount:kube-system:statefulset-controller";

const DEPLOYMENTS = RESOURCES.find((r) => r.kind === "Deployment")!;
const REPLICASETS = RESOURCES.find((r) => r.kind === "ReplicaSet")!;
const PODS = RESOURCES.find((r) => r.kind === "Pod")!;
const STATEFULSETS = RESOURCES.find((r) => r.kind === "StatefulSet")!;
const PVCS = RESOURCES.find((r) => r.kind === "PersistentVolumeClaim")!;

function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * controller.ComputeHash: FNV-32a of the template (and the collision count), printed in decimal and
 * passed through rand.SafeEncodeString. The real hasher prints the Go struct; the canonical JSON of
 * the template is our equivalent: equal templates get equal hashes, any change a new one.
 */
export function podTemplateHash(template: unknown, collisionCount?: number): string {
  const text =
    JSON.stringify(sortKeys(template ?? {})) + (collisionCount === undefined ? "" : String(collisionCount));
  return [...String(fnv32a(text))].map((c) => NAME_ALPHABET[c.charCodeAt(0) % NAME_ALPHABET.length]).join("");
}

/** What a controller client needs of the server: its URL, CA, and the controller's bearer token. */
export interface ControllerCredentials {
  url: string;
  caPem: string;
  tokens: { deployment: string; replicaset: string; statefulset: string };
}

export interface ControllerWrite {
  controller: Controller;
  method: string;
  path: string;
  code: number;
  message?: string;
  /** The texts of the answer's Warning headers (admission webhooks' warnings). */
  warnings: string[];
}

type Answer = { code: number; body: any; warnings: string[] };
type Controller = "deployment" | "replicaset" | "statefulset";

/** `299 - "text"` Warning headers (RFC 7234 as the API server writes them) → texts. */
function warningTexts(header: string | string[] | undefined): string[] {
  const out: string[] = [];
  for (const m of String(header ?? "").matchAll(/\d{3} [^ ]+ "((?:[^"\\]|\\.)*)"/g))
    out.push(m[1]!.replace(/\\(.)/g, "$1"));
  return out;
}

const ownerRef = (kind: string, obj: any) => ({
  apiVersion: "apps/v1",
  kind,
  name: obj.metadata.name,
  uid: obj.metadata.uid,
  controller: true,
  blockOwnerDeletion: true,
});
const ownedBy = (o: any, uid: string): boolean =>
  (o.metadata.ownerReferences ?? []).some((r: any) => r.controller === true && r.uid === uid);
/** Annotations the deployment controller never copies from a Deployment to its ReplicaSets. */
const SKIPPED_ANNOTATION = (k: string): boolean =>
  k === "kubectl.kubernetes.io/last-applied-configuration" || k.startsWith("deployment.kubernetes.io/");

export class WorkloadControllersDouble {
  /** Every write the controllers made, with the server's answer (tests read denials here). */
  readonly writes: ControllerWrite[] = [];
  private readonly unsubscribe: () => void;
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private readonly running = new Set<string>();
  private stopped = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly creds: ControllerCredentials,
  ) {
    this.unsubscribe = store.subscribe((e) => this.onEvent(e));
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
  }

  private onEvent(e: StoredEvent): void {
    const { namespace, name } = e.object.metadata;
    if (e.resource === DEPLOYMENTS && e.type !== "DELETED")
      this.enqueue(`deployment/${namespace}/${name}`, 0);
    if (e.resource === REPLICASETS) {
      if (e.type !== "DELETED") this.enqueue(`replicaset/${namespace}/${name}`, 0);
      for (const r of e.object.metadata.ownerReferences ?? [])
        if (r.kind === "Deployment") this.enqueue(`deployment/${namespace}/${r.name}`, 0);
    }
    if (e.resource === STATEFULSETS && e.type !== "DELETED")
      this.enqueue(`statefulset/${namespace}/${name}`, 0);
    if (e.resource === PODS) {
      for (const r of e.object.metadata.ownerReferences ?? []) {
        if (r.kind === "ReplicaSet" && r.controller) this.enqueue(`replicaset/${namespace}/${r.name}`, 0);
        if (r.kind === "StatefulSet" && r.controller) this.enqueue(`statefulset/${namespace}/${r.name}`, 0);
      }
    }
  }

  /** One reconcile per key at a time; a key enqueued while it runs runs again afterwards. */
  private enqueue(key: string, delayMs: number): void {
    if (this.stopped || this.pending.has(key)) return;
    const t = setTimeout(() => {
      this.pending.delete(key);
      if (this.running.has(key)) return this.enqueue(key, 20);
      this.running.add(key);
      this.reconcile(key)
        .then((ok) => {
          if (ok) this.failures.delete(key);
          else {
            // workqueue rate limiting: exponential, capped low so tests see the retry soon
            const n = (this.failures.get(key) ?? 0) + 1;
            this.failures.set(key, n);
            this.enqueue(key, Math.min(2000, 50 * 2 ** n));
          }
        })
        .finally(() => this.running.delete(key));
    }, delayMs);
    this.pending.set(key, t);
  }

  private async reconcile(key: string): Promise<boolean> {
    const [kind, namespace, name] = key.split("/") as [string, string, string];
    if (kind === "statefulset") return this.syncStatefulSet(namespace, name);
    return kind === "deployment"
      ? this.syncDeployment(namespace, name)
      : this.syncReplicaSet(namespace, name);
  }

  private async syncStatefulSet(namespace: string, name: string): Promise<boolean> {
    const set = this.store.get(STATEFULSETS, namespace, name);
    if (!set || set.metadata.deletionTimestamp) return true;
    const replicas = set.spec?.replicas ?? 1;
    const parallel = set.spec?.podManagementPolicy === "Parallel";
    const template = set.spec?.template ?? {};
    const revision = `${name}-${podTemplateHash(template)}`;
    const pods = this.store
      .list(PODS, namespace)
      .filter((p) => ownedBy(p, set.metadata.uid) && !p.metadata.deletionTimestamp);
    const byName = new Map(pods.map((p) => [p.metadata.name as string, p]));
    const ready = (p: any): boolean =>
      p?.status?.phase === "Running" &&
      (p.status.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
    let ok = true;
    for (let i = 0; i < replicas; i++) {
      const podName = `${name}-${i}`;
      const existing = byName.get(podName);
      if (existing) {
        if (!parallel && !ready(existing)) break; // OrderedReady: wait for this one first
        continue;
      }
      const volumes = [...(template.spec?.volumes ?? [])];
      for (const claim of set.spec?.volumeClaimTemplates ?? []) {
        const claimName = `${claim.metadata.name}-${podName}`;
        if (!this.store.get(PVCS, namespace, claimName)) {
          ok =
            (await this.write(
              "statefulset",
              "POST",
              `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
              {
                apiVersion: "v1",
                kind: "PersistentVolumeClaim",
                metadata: {
                  name: claimName,
                  namespace,
                  labels: { ...(set.spec?.selector?.matchLabels ?? {}) },
                },
                spec: claim.spec ?? {},
              },
            )) && ok;
        }
        volumes.push({ name: claim.metadata.name, persistentVolumeClaim: { claimName } });
      }
      const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name: podName,
          namespace,
          labels: {
            ...(template.metadata?.labels ?? {}),
            "controller-revision-hash": revision,
            "statefulset.kubernetes.io/pod-name": podName,
            "apps.kubernetes.io/pod-index": String(i),
          },
          ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
          ownerReferences: [ownerRef("StatefulSet", set)],
        },
        spec: {
          ...(template.spec ?? {}),
          ...(volumes.length > 0 ? { volumes } : {}),
          hostname: podName,
          ...(set.spec?.serviceName ? { subdomain: set.spec.serviceName } : {}),
        },
      };
      ok = (await this.write("statefulset", "POST", `/api/v1/namespaces/${namespace}/pods`, pod)) && ok;
      if (!parallel) break; // the new pod's Running/Ready event brings the next ordinal
    }
    // scale down: highest ordinals first (PVCs are kept, as the default retention policy does)
    const ordinal = (p: any): number => Number(/-(\d+)$/.exec(p.metadata.name)?.[1] ?? -1);
    for (const extra of pods.filter((p) => ordinal(p) >= replicas).sort((a, b) => ordinal(b) - ordinal(a))) {
      ok =
        (await this.write(
          "statefulset",
          "DELETE",
          `/api/v1/namespaces/${namespace}/pods/${extra.metadata.name}`,
        )) && ok;
      if (!parallel) break;
    }
    return ok;
  }

  private async syncDeployment(namespace: string, name: string): Promise<boolean> {
    const d = this.store.get(DEPLOYMENTS, namespace, name);
    if (!d || d.metadata.deletionTimestamp) return true;
    const hash = podTemplateHash(d.spec?.template, d.status?.collisionCount);
    const rsName = `${name}-${hash}`;
    const replicas = d.spec?.replicas ?? 1;
    const owned = this.store.list(REPLICASETS, namespace).filter((rs) => ownedBy(rs, d.metadata.uid));
    let ok = true;
    const current = owned.find((rs) => rs.metadata.name === rsName);
    if (!current) {
      const template = structuredClone(d.spec?.template ?? {});
      template.metadata ??= {};
      template.metadata.labels = { ...(template.metadata.labels ?? {}), "pod-template-hash": hash };
      const annotations = Object.fromEntries(
        Object.entries<string>(d.metadata.annotations ?? {}).filter(([k]) => !SKIPPED_ANNOTATION(k)),
      );
      const revision =
        1 +
        Math.max(
          0,
          ...owned.map((rs) => Number(rs.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? 0)),
        );
      const rs = {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: {
          name: rsName,
          namespace,
          labels: template.metadata.labels,
          annotations: {
            ...annotations,
            "deployment.kubernetes.io/desired-replicas": String(replicas),
            "deployment.kubernetes.io/revision": String(revision),
          },
          ownerReferences: [ownerRef("Deployment", d)],
        },
        spec: {
          replicas,
          selector: {
            ...(d.spec?.selector ?? {}),
            matchLabels: { ...(d.spec?.selector?.matchLabels ?? {}), "pod-template-hash": hash },
          },
          template,
        },
      };
      ok =
        (await this.write("deployment", "POST", `/apis/apps/v1/namespaces/${namespace}/replicasets`, rs)) &&
        ok;
    } else if (current.spec.replicas !== replicas) {
      ok =
        (await this.write("deployment", "PUT", rsPath(namespace, rsName), {
          ...current,
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          spec: { ...current.spec, replicas },
        })) && ok;
    }
    for (const old of owned.filter((rs) => rs.metadata.name !== rsName && rs.spec.replicas !== 0)) {
      ok =
        (await this.write("deployment", "PUT", rsPath(namespace, old.metadata.name), {
          ...old,
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          spec: { ...old.spec, replicas: 0 },
        })) && ok;
    }
    return ok;
  }

  private async syncReplicaSet(namespace: string, name: string): Promise<boolean> {
    const rs = this.store.get(REPLICASETS, namespace, name);
    if (!rs || rs.metadata.deletionTimestamp) return true;
    const pods = this.store
      .list(PODS, namespace)
      .filter((p) => ownedBy(p, rs.metadata.uid) && !p.metadata.deletionTimestamp);
    const want = rs.spec?.replicas ?? 1;
    let ok = true;
    for (let i = pods.length; i < want; i++) {
      const template = rs.spec?.template ?? {};
      const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          generateName: `${name}-`,
          namespace,
          ...(template.metadata?.labels ? { labels: template.metadata.labels } : {}),
          ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
          ownerReferences: [ownerRef("ReplicaSet", rs)],
        },
        spec: template.spec ?? {},
      };
      ok = (await this.write("replicaset", "POST", `/api/v1/namespaces/${namespace}/pods`, pod)) && ok;
    }
    for (const extra of pods.slice(want).reverse()) {
      ok =
        (await this.write(
          "replicaset",
          "DELETE",
          `/api/v1/namespaces/${namespace}/pods/${extra.metadata.name}`,
        )) && ok;
    }
    return ok;
  }

  private async write(
    controller: Controller,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<boolean> {
    if (this.stopped) return true;
    let answer: Answer;
    try {
      answer = await this.call(this.creds.tokens[controller], method, path, body);
    } catch (err) {
      answer = { code: 0, body: { message: (err as Error).message }, warnings: [] };
    }
    const ok = answer.code >= 200 && answer.code < 300;
    this.writes.push({
      controller,
      method,
      path,
      code: answer.code,
      warnings: answer.warnings,
      ...(ok ? {} : { message: String(answer.body?.message ?? "") }),
    });
    if (this.writes.length > 1000) this.writes.splice(0, this.writes.length - 1000);
    // 404 on delete or 409 on a stale update: the next event brings the current state
    return ok || answer.code === 404 || answer.code === 409;
  }

  private call(token: string, method: string, path: string, body?: unknown): Promise<Answer> {
    const url = new URL(path, this.creds.url);
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          method,
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          ca: this.creds.caPem,
          agent: false,
          headers: {
            Authorization: `Bearer ${token}`,
            Accept: "application/json",
            "User-Agent": "kube-controller-manager/v1.32.0 (linux/amd64) kubernetes/double",
            ...(text === undefined
              ? {}
              : { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const raw = Buffer.concat(chunks).toString("utf8");
            let parsed: any = undefined;
            try {
              parsed = raw ? JSON.parse(raw) : undefined;
            } catch {
              parsed = { message: raw };
            }
            resolve({ code: res.statusCode ?? 0, body: parsed, warnings: warningTexts(res.headers.warning) });
          });
          res.on("error", reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error("controller request timed out")));
      req.on("error", reject);
      req.end(text);
    });
  }
}

function rsPath(namespace: string, name: string): string {
  return `/apis/apps/v1/namespaces/${namespace}/replicasets/${name}`;
}
