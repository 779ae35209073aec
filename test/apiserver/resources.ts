// The resources the double serves, in one table. Discovery, routing, scope, the status subresource,
// generation bumps and the patch types accepted are all derived from here, so a resource is added in
// one place. Verbs and short names are the real server's (kubectl's RESTMapper reads them).
import { VELERO_CRDS, type VeleroCrd } from "./velero-crds.js";

export interface ResourceDef {
  group: string; // "" for the core group
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Subresources served besides the main resource. */
  subresources: Array<"status" | "exec">;
  /** Built-in kinds accept strategic-merge patches; custom resources do not (like a real server). */
  builtin: boolean;
  /** metadata.generation is maintained (bumped on spec changes). */
  generation: boolean;
  /** Only `create` is served (authorization reviews). */
  createOnly?: boolean;
  /** A custom resource's structural schema: what its status may hold, its phase enum. */
  schema?: VeleroCrd;
}

const ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function def(
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  extra: Partial<ResourceDef> = {},
): ResourceDef {
  return {
    group,
    version,
    kind,
    plural,
    singular: kind.toLowerCase(),
    namespaced,
    subresources: [],
    builtin: true,
    generation: false,
    ...extra,
  };
}

export const RESOURCES: ResourceDef[] = [
  def("", "v1", "Pod", "pods", true, {
    shortNames: ["po"],
    categories: ["all"],
    subresources: ["status", "exec"],
  }),
  def("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, {
    shortNames: ["pvc"],
    subresources: ["status"],
  }),
  def("", "v1", "PersistentVolume", "persistentvolumes", false, {
    shortNames: ["pv"],
    subresources: ["status"],
  }),
  def("", "v1", "Namespace", "namespaces", false, { shortNames: ["ns"], subresources: ["status"] }),
  def("", "v1", "Event", "events", true, { shortNames: ["ev"] }),
  def("", "v1", "Secret", "secrets", true),
  def("", "v1", "ConfigMap", "configmaps", true, { shortNames: ["cm"] }),
  def("", "v1", "Service", "services", true, {
    shortNames: ["svc"],
    categories: ["all"],
    subresources: ["status"],
  }),
  // written by hand in tests (no endpoints controller): the service proxy routes through them
  def("", "v1", "Endpoints", "endpoints", true, { shortNames: ["ep"] }),
  def("apps", "v1", "Deployment", "deployments", true, {
    shortNames: ["deploy"],
    categories: ["all"],
    subresources: ["status"],
    generation: true,
  }),
  def("apps", "v1", "StatefulSet", "statefulsets", true, {
    shortNames: ["sts"],
    categories: ["all"],
    subresources: ["status"],
    generation: true,
  }),
  def("apps", "v1", "DaemonSet", "daemonsets", true, {
    shortNames: ["ds"],
    categories: ["all"],
    subresources: ["status"],
    generation: true,
  }),
  def("apps", "v1", "ReplicaSet", "replicasets", true, {
    shortNames: ["rs"],
    categories: ["all"],
    subresources: ["status"],
    generation: true,
  }),
  def("batch", "v1", "Job", "jobs", true, {
    categories: ["all"],
    subresources: ["status"],
    generation: true,
  }),
  def("batch", "v1", "CronJob", "cronjobs", true, {
    shortNames: ["cj"],
    categories: ["all"],
    subresources: ["status"],
    generation: true,
  }),
  // Velero's kinds exactly as its CRDs declare them: no status subresource (a PATCH of .../status is a 404).
  ...VELERO_CRDS.map((c) =>
    def("velero.io", "v1", c.kind, c.plural, true, {
      builtin: false,
      generation: true,
      categories: ["velero"],
      schema: c,
    }),
  ),
  def("coordination.k8s.io", "v1", "Lease", "leases", true),
  def(
    "admissionregistration.k8s.io",
    "v1",
    "ValidatingWebhookConfiguration",
    "validatingwebhookconfigurations",
    false,
    { categories: ["api-extensions"], generation: true },
  ),
  def(
    "admissionregistration.k8s.io",
    "v1",
    "MutatingWebhookConfiguration",
    "mutatingwebhookconfigurations",
    false,
    { categories: ["api-extensions"], generation: true },
  ),
  def("snapshot.storage.k8s.io", "v1", "VolumeSnapshot", "volumesnapshots", true, {
    shortNames: ["vs"],
    subresources: ["status"],
    builtin: false,
    generation: true,
  }),
  def("snapshot.storage.k8s.io", "v1", "VolumeSnapshotContent", "volumesnapshotcontents", false, {
    shortNames: ["vsc", "vscs"],
    subresources: ["status"],
    builtin: false,
    generation: true,
  }),
  def("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", false, {
    createOnly: true,
  }),
  def("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", false, {
    createOnly: true,
  }),
];

export function groupVersion(r: { group: string; version: string }): string {
  return r.group === "" ? r.version : `${r.group}/${r.version}`;
}

/** "pods" or "deployments.apps": how the real server names a resource in messages. */
export function qualifiedName(r: ResourceDef): string {
  return r.group === "" ? r.plural : `${r.plural}.${r.group}`;
}

export function findResource(group: string, version: string, plural: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function findByKind(apiVersion: string, kind: string): ResourceDef | undefined {
  return RESOURCES.find((r) => groupVersion(r) === apiVersion && r.kind === kind);
}

export function verbsOf(r: ResourceDef): string[] {
  return r.createOnly ? ["create"] : ALL_VERBS;
}

/** Groups in the order the real server lists them (core first, then by registration). */
export function apiGroups(): Array<{ group: string; version: string }> {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of RESOURCES)
    if (r.group !== "" && !seen.has(r.group)) seen.set(r.group, { group: r.group, version: r.version });
  return [...seen.values()];
}
