// Velero's kinds (velero.io/v1 Backup and Schedule) as hookguard reads and writes them: the subset of
// fields it uses. Velero owns these CRDs; a field hookguard does not know is kept (index signatures)
// so a write never drops it. Imported by the agent, the cluster adapters (src/kube) and the CLI.
import type { ObjectMeta } from "../domain/types.js";

export interface BackupHookStatus {
  hooksAttempted?: number;
  hooksFailed?: number;
}

export interface BackupSpec {
  includedNamespaces?: string[];
  excludedNamespaces?: string[];
  includedResources?: string[];
  excludedResources?: string[];
  labelSelector?: {
    matchLabels?: Record<string, string>;
    matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
  };
  orLabelSelectors?: Array<{
    matchLabels?: Record<string, string>;
    matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
  }>;
  snapshotVolumes?: boolean;
  ttl?: string;
  storageLocation?: string;
  hooks?: unknown;
  [key: string]: unknown;
}

export interface BackupStatus {
  phase?: "New" | "InProgress" | "Completed" | "PartiallyFailed" | "Failed" | "FailedValidation" | string;
  startTimestamp?: string;
  completionTimestamp?: string;
  errors?: number;
  warnings?: number;
  failureReason?: string;
  progress?: { totalItems?: number; itemsBackedUp?: number };
  hookStatus?: BackupHookStatus;
  [key: string]: unknown;
}

export interface BackupObject {
  apiVersion: "velero.io/v1";
  kind: "Backup";
  metadata: ObjectMeta & {
    name: string;
    namespace: string;
    creationTimestamp?: string;
    ownerReferences?: unknown[];
  };
  spec: BackupSpec;
  status?: BackupStatus;
}

export interface ScheduleObject {
  apiVersion: "velero.io/v1";
  kind: "Schedule";
  metadata: ObjectMeta & { name: string; namespace: string; creationTimestamp?: string };
  spec: { schedule: string; template: BackupSpec; paused?: boolean; useOwnerReferencesInBackup?: boolean };
  status?: { phase?: string; lastBackup?: string; [key: string]: unknown };
}
