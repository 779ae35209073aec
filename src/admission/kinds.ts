// The resources the webhook handles, keyed by the AdmissionRequest's kind (group/version/kind).
// Which objects carry hooks and how they are validated is the domain's business (validateObject,
// podTemplateOf); this table only routes requests and says which ones the mutating webhook touches.
import type { GroupVersionKind } from "./types.js";

export interface KindInfo {
  kind: string;
  /** apiVersion as it appears in the object (`v1` for the core group). */
  apiVersion: string;
  /** Pods and pod templates get annotation hooks (and mutation); Backup/Schedule carry spec.hooks. */
  hooks: "annotations" | "spec";
  /** Where spec.hooks lives for Backup ("spec") and Schedule ("spec.template"). */
  specPath?: readonly string[];
}

const TABLE: KindInfo[] = [
  { kind: "Pod", apiVersion: "v1", hooks: "annotations" },
  { kind: "ReplicationController", apiVersion: "v1", hooks: "annotations" },
  { kind: "Deployment", apiVersion: "apps/v1", hooks: "annotations" },
  { kind: "StatefulSet", apiVersion: "apps/v1", hooks: "annotations" },
  { kind: "DaemonSet", apiVersion: "apps/v1", hooks: "annotations" },
  { kind: "ReplicaSet", apiVersion: "apps/v1", hooks: "annotations" },
  { kind: "Job", apiVersion: "batch/v1", hooks: "annotations" },
  { kind: "CronJob", apiVersion: "batch/v1", hooks: "annotations" },
  { kind: "Backup", apiVersion: "velero.io/v1", hooks: "spec", specPath: ["spec"] },
  { kind: "Schedule", apiVersion: "velero.io/v1", hooks: "spec", specPath: ["spec", "template"] },
];
const BY_KEY = new Map(TABLE.map((k) => [`${k.apiVersion}/${k.kind}`, k]));

export function apiVersionOf(gvk: GroupVersionKind): string {
  return gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
}

export function lookupKind(gvk: GroupVersionKind): KindInfo | undefined {
  return BY_KEY.get(`${apiVersionOf(gvk)}/${gvk.kind}`);
}

export function handledKindsText(): string {
  return TABLE.map((k) => `${k.apiVersion} ${k.kind}`).join(", ");
}
