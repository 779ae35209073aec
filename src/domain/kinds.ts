// The one table of kinds that carry hooks: which objects hookguard reads, which API versions lint
// accepts, where each kind keeps its pod template (annotation hooks) or its Backup spec (spec.hooks).
// The webhook's routing, its metrics' kind label, lint --cluster and the chart's webhook rules all
// follow this table (test/chart checks the rules against it), so adding a kind is one row here.

export interface HookedKind {
  kind: string;
  /** API group ("" for core) and plural resource, as admission rules and RBAC name them. */
  group: string;
  resource: string;
  /** The version the webhook is registered for and lint --cluster reads. */
  version: string;
  /** Every apiVersion lint accepts for this kind in files (older manifests included). */
  apiVersions: readonly string[];
  /** Pods and pod templates carry annotation hooks; Backups and Schedules carry spec.hooks. */
  hooks: "annotations" | "spec";
  /**
   * annotations: the steps from the object to its pod template ([] for a Pod itself);
   * spec: the steps from the object to the Backup spec that holds `hooks`.
   */
  path: readonly string[];
}

export const HOOKED_KINDS: readonly HookedKind[] = [
  {
    kind: "Pod",
    group: "",
    resource: "pods",
    version: "v1",
    apiVersions: ["v1"],
    hooks: "annotations",
    path: [],
  },
  {
    kind: "ReplicationController",
    group: "",
    resource: "replicationcontrollers",
    version: "v1",
    apiVersions: ["v1"],
    hooks: "annotations",
    path: ["spec", "template"],
  },
  {
    kind: "Deployment",
    group: "apps",
    resource: "deployments",
    version: "v1",
    apiVersions: ["apps/v1", "apps/v1beta1", "apps/v1beta2", "extensions/v1beta1"],
    hooks: "annotations",
    path: ["spec", "template"],
  },
  {
    kind: "StatefulSet",
    group: "apps",
    resource: "statefulsets",
    version: "v1",
    apiVersions: ["apps/v1", "apps/v1beta1", "apps/v1beta2"],
    hooks: "annotations",
    path: ["spec", "template"],
  },
  {
    kind: "DaemonSet",
    group: "apps",
    resource: "daemonsets",
    version: "v1",
    apiVersions: ["apps/v1", "apps/v1beta2", "extensions/v1beta1"],
    hooks: "annotations",
    path: ["spec", "template"],
  },
  {
    kind: "ReplicaSet",
    group: "apps",
    resource: "replicasets",
    version: "v1",
    apiVersions: ["apps/v1", "apps/v1beta2", "extensions/v1beta1"],
    hooks: "annotations",
    path: ["spec", "template"],
  },
  {
    kind: "Job",
    group: "batch",
    resource: "jobs",
    version: "v1",
    apiVersions: ["batch/v1"],
    hooks: "annotations",
    path: ["spec", "template"],
  },
  {
    kind: "CronJob",
    group: "batch",
    resource: "cronjobs",
    version: "v1",
    apiVersions: ["batch/v1", "batch/v1beta1"],
    hooks: "annotations",
    path: ["spec", "jobTemplate", "spec", "template"],
  },
  {
    kind: "Backup",
    group: "velero.io",
    resource: "backups",
    version: "v1",
    apiVersions: ["velero.io/v1"],
    hooks: "spec",
    path: ["spec"],
  },
  {
    kind: "Schedule",
    group: "velero.io",
    resource: "schedules",
    version: "v1",
    apiVersions: ["velero.io/v1"],
    hooks: "spec",
    path: ["spec", "template"],
  },
];

/** The apiVersion of a kind's registered version (`v1` for the core group). */
export function preferredApiVersion(k: Pick<HookedKind, "group" | "version">): string {
  return k.group ? `${k.group}/${k.version}` : k.version;
}

/** The row for an object's kind and apiVersion (any version lint accepts), if it carries hooks. */
export function hookedKindOf(kind: unknown, apiVersion: unknown): HookedKind | undefined {
  return HOOKED_KINDS.find((k) => k.kind === kind && k.apiVersions.includes(String(apiVersion ?? "")));
}
