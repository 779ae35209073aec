// Reading every live object that can carry hooks, for `hookguard lint --cluster`: Pods, the
// workloads with pod templates, and velero.io Backups and Schedules, in one namespace or all of them,
// page by page. Objects come back as wire JSON (apiVersion and kind restored), which is what the
// domain's validateObject reads. A kind the cluster does not serve (e.g. no Velero CRDs) is skipped with a
// note; a kind the user may not list is a problem; an unreachable cluster stops at the first call.
import { AppsV1Api, BatchV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
// Not in the package index; deep import (version pinned) to turn model classes back into wire JSON.
import { ObjectSerializer } from "@kubernetes/client-node/dist/gen/models/ObjectSerializer.js";
import { loadClusterAccess } from "./config.js";
import { withRetry } from "./retry.js";
import { makePooledApiClient } from "./transport.js";
import { kubectlTransportMessage, type KubeApiError } from "./errors.js";

export interface HookObjectsRead {
  objects: Array<Record<string, unknown>>;
  /** Kinds that could not be listed (e.g. 403 Forbidden): the audit is incomplete. */
  problems: string[];
  /** Kinds the cluster does not serve (e.g. Velero not installed): nothing to audit there. */
  notes: string[];
}

type Page = { items: unknown[]; continueToken?: string };
interface Lister {
  apiVersion: string;
  kind: string;
  plural: string;
  /** The client-node model name, for typed APIs; undefined for custom objects (already plain JSON). */
  model?: string;
  page(namespace: string | undefined, continueToken: string | undefined): Promise<Page>;
}

const PAGE = 500;
const typed = (list: { items: unknown[]; metadata?: { _continue?: string } }): Page => ({
  items: list.items,
  ...(list.metadata?._continue ? { continueToken: list.metadata._continue } : {}),
});
const plain = (list: unknown): Page => {
  const l = list as { items?: unknown[]; metadata?: { continue?: string } };
  return { items: l.items ?? [], ...(l.metadata?.continue ? { continueToken: l.metadata.continue } : {}) };
};

function listers(kc: KubeConfig): Lister[] {
  const core = makePooledApiClient(kc, CoreV1Api);
  const apps = makePooledApiClient(kc, AppsV1Api);
  const batch = makePooledApiClient(kc, BatchV1Api);
  const custom = makePooledApiClient(kc, CustomObjectsApi);
  const opts = (c: string | undefined) => ({ limit: PAGE, ...(c ? { _continue: c } : {}) });
  const velero = (plural: string, kind: string): Lister => ({
    apiVersion: "velero.io/v1",
    kind,
    plural: `${plural}.velero.io`,
    page: async (ns, c) => {
      const base = { group: "velero.io", version: "v1", plural, ...opts(c) };
      return plain(
        ns
          ? await custom.listNamespacedCustomObject({ ...base, namespace: ns })
          : await custom.listClusterCustomObject(base),
      );
    },
  });
  return [
    {
      apiVersion: "v1",
      kind: "Pod",
      plural: "pods",
      model: "V1Pod",
      page: async (ns, c) =>
        typed(
          ns
            ? await core.listNamespacedPod({ namespace: ns, ...opts(c) })
            : await core.listPodForAllNamespaces(opts(c)),
        ),
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      plural: "deployments.apps",
      model: "V1Deployment",
      page: async (ns, c) =>
        typed(
          ns
            ? await apps.listNamespacedDeployment({ namespace: ns, ...opts(c) })
            : await apps.listDeploymentForAllNamespaces(opts(c)),
        ),
    },
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      plural: "statefulsets.apps",
      model: "V1StatefulSet",
      page: async (ns, c) =>
        typed(
          ns
            ? await apps.listNamespacedStatefulSet({ namespace: ns, ...opts(c) })
            : await apps.listStatefulSetForAllNamespaces(opts(c)),
        ),
    },
    {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      plural: "daemonsets.apps",
      model: "V1DaemonSet",
      page: async (ns, c) =>
        typed(
          ns
            ? await apps.listNamespacedDaemonSet({ namespace: ns, ...opts(c) })
            : await apps.listDaemonSetForAllNamespaces(opts(c)),
        ),
    },
    {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      plural: "replicasets.apps",
      model: "V1ReplicaSet",
      page: async (ns, c) =>
        typed(
          ns
            ? await apps.listNamespacedReplicaSet({ namespace: ns, ...opts(c) })
            : await apps.listReplicaSetForAllNamespaces(opts(c)),
        ),
    },
    {
      apiVersion: "v1",
      kind: "ReplicationController",
      plural: "replicationcontrollers",
      model: "V1ReplicationController",
      page: async (ns, c) =>
        typed(
          ns
            ? await core.listNamespacedReplicationController({ namespace: ns, ...opts(c) })
            : await core.listReplicationControllerForAllNamespaces(opts(c)),
        ),
    },
    {
      apiVersion: "batch/v1",
      kind: "Job",
      plural: "jobs.batch",
      model: "V1Job",
      page: async (ns, c) =>
        typed(
          ns
            ? await batch.listNamespacedJob({ namespace: ns, ...opts(c) })
            : await batch.listJobForAllNamespaces(opts(c)),
        ),
    },
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      plural: "cronjobs.batch",
      model: "V1CronJob",
      page: async (ns, c) =>
        typed(
          ns
            ? await batch.listNamespacedCronJob({ namespace: ns, ...opts(c) })
            : await batch.listCronJobForAllNamespaces(opts(c)),
        ),
    },
    velero("backups", "Backup"),
    velero("schedules", "Schedule"),
  ];
}

function describeError(e: KubeApiError): string {
  return e.code ? `${e.code} ${e.reason}: ${e.message}` : e.message;
}

/**
 * Lists every kind; `namespace` undefined means all namespaces. Fails as a whole (Result error) only
 * when the cluster cannot be reached or the credentials are refused (401), because then no kind can
 * be read and an empty audit would look clean.
 */
export async function readHookObjects(
  kc: KubeConfig,
  namespace: string | undefined,
): Promise<{ ok: true; value: HookObjectsRead } | { ok: false; error: string }> {
  const read: HookObjectsRead = { objects: [], problems: [], notes: [] };
  const where = namespace === undefined ? "in all namespaces" : `in namespace ${JSON.stringify(namespace)}`;
  for (const lister of listers(kc)) {
    let continueToken: string | undefined;
    do {
      const token = continueToken;
      const r = await withRetry(() => lister.page(namespace, token), { attempts: 3 });
      if (!r.ok) {
        if (r.error.code === 0 || r.error.code === 401)
          return { ok: false, error: kubectlTransportMessage(r.error)! };
        // a kind the cluster does not serve has no objects to audit (Velero not installed, an old cluster)
        if (r.error.code === 404)
          read.notes.push(
            `${lister.plural} is not served by this cluster${lister.apiVersion === "velero.io/v1" ? " (are Velero's CRDs installed?)" : ""}; skipped`,
          );
        else read.problems.push(`cannot list ${lister.plural} ${where}: ${describeError(r.error)}`);
        break;
      }
      for (const item of r.value.items) {
        const wire = lister.model
          ? (ObjectSerializer.serialize(item, lister.model, "") as Record<string, unknown>)
          : (item as Record<string, unknown>);
        read.objects.push({ ...wire, apiVersion: lister.apiVersion, kind: lister.kind });
      }
      continueToken = r.value.continueToken;
    } while (continueToken);
  }
  return { ok: true, value: read };
}

export interface ClusterAuditTarget {
  kubeconfig?: string;
  context?: string;
  /** A namespace; undefined with allNamespaces false means the context's namespace (or "default"), as kubectl does. */
  namespace?: string;
  allNamespaces: boolean;
}

export interface ClusterAudit extends HookObjectsRead {
  context: string;
  /** undefined: all namespaces. */
  namespace: string | undefined;
}

/** Loads the kubeconfig and context like kubectl, then reads every hook-carrying object. */
export async function auditCluster(
  target: ClusterAuditTarget,
): Promise<{ ok: true; value: ClusterAudit } | { ok: false; error: string }> {
  let access;
  try {
    access = loadClusterAccess({ kubeconfig: target.kubeconfig, context: target.context });
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  if (!access)
    return {
      ok: false,
      error: "no cluster to read: pass --kubeconfig PATH, set KUBECONFIG or create ~/.kube/config",
    };
  const kc = access.kc;
  const context = kc.getCurrentContext();
  const namespace = target.allNamespaces
    ? undefined
    : (target.namespace ?? (kc.getContextObject(context)?.namespace || "default"));
  const read = await readHookObjects(kc, namespace);
  return read.ok ? { ok: true, value: { ...read.value, context, namespace } } : read;
}
