// The agent's seams: everything it needs from the cluster, as interfaces. src/kube/ implements them
// with @kubernetes/client-node; tests may also use the API-server double through the real ones.
import type { ObjectMeta, PodLike, PvcLike, PvLike, Result } from "../domain/types.js";
import type { KubeApiError } from "../kube/errors.js";

// ---------------------------------------------------------------- exec

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  argv: string[];
  /** Command timeout; the stream is abandoned after it (the remote process may keep running). */
  timeoutMs: number;
  /** Bound on the WebSocket upgrade itself (default 10s). */
  handshakeTimeoutMs?: number;
  /** Abort (e.g. lost leadership): resolves as a transport error "aborted". */
  signal?: AbortSignal;
}

interface Captured {
  stdout: string;
  stderr: string;
  /** true when output was cut at the cap (64 KiB per stream); the text then ends with a marker */
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number;
}

/** Outcome of one exec. Command failures are outcomes, never exceptions. */
export type ExecResult =
  | ({ kind: "exited"; exitCode: number } & Captured)
  | ({ kind: "timed_out" } & Captured)
  | ({ kind: "transport_error"; message: string } & Captured);

export interface PodExecutor {
  /** Never rejects. */
  exec(req: ExecRequest): Promise<ExecResult>;
}

// ---------------------------------------------------------------- Velero objects (the subset we use)

export interface BackupHookStatus {
  hooksAttempted?: number;
  hooksFailed?: number;
}

export interface BackupSpec {
  includedNamespaces?: string[];
  excludedNamespaces?: string[];
  includedResources?: string[];
  excludedResources?: string[];
  labelSelector?: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> };
  orLabelSelectors?: Array<{ matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> }>;
  snapshotVolumes?: boolean;
  ttl?: string;
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
  metadata: ObjectMeta & { name: string; namespace: string; creationTimestamp?: string; ownerReferences?: unknown[] };
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

export interface VolumeSnapshotRef {
  namespace: string;
  name: string;
}

// ---------------------------------------------------------------- cluster

export type KubeResult<T> = Result<T, KubeApiError>;

/** What the agent reads and writes. Implementations retry transient errors themselves; 409 is returned. */
export interface AgentCluster {
  getPod(namespace: string, name: string): Promise<KubeResult<PodLike | undefined>>;
  /** All pods (namespace undefined = all namespaces). */
  listPods(namespace?: string): Promise<KubeResult<PodLike[]>>;
  listPvcs(namespace?: string): Promise<KubeResult<PvcLike[]>>;
  listPvs(): Promise<KubeResult<PvLike[]>>;
  listNamespaces(): Promise<KubeResult<string[]>>;

  getBackup(namespace: string, name: string): Promise<KubeResult<BackupObject | undefined>>;
  listBackups(namespace: string): Promise<KubeResult<BackupObject[]>>;
  createBackup(backup: BackupObject): Promise<KubeResult<BackupObject>>;
  /** PUT guarded by metadata.resourceVersion: a stale copy gets {code: 409}. */
  replaceBackup(backup: BackupObject): Promise<KubeResult<BackupObject>>;
  /**
   * JSON merge patch of `status` through the Backup itself (Velero's kinds have no status
   * subresource). With `resourceVersion`, the patch applies only to that version: else {code: 409}.
   */
  patchBackupStatus(namespace: string, name: string, status: Partial<BackupStatus>, resourceVersion?: string): Promise<KubeResult<BackupObject>>;
  /** JSON merge patch on metadata (annotations), e.g. the pending-post-hooks record. */
  patchBackupMetadata(namespace: string, name: string, metadata: { annotations?: Record<string, string | null>; labels?: Record<string, string | null> }): Promise<KubeResult<BackupObject>>;

  listSchedules(namespace: string): Promise<KubeResult<ScheduleObject[]>>;
  /** JSON merge patch of `status` through the Schedule itself, optionally guarded by resourceVersion. */
  patchScheduleStatus(namespace: string, name: string, status: Record<string, unknown>, resourceVersion?: string): Promise<KubeResult<ScheduleObject>>;

  createVolumeSnapshot(namespace: string, name: string, pvcName: string, snapshotClass: string, labels: Record<string, string>): Promise<KubeResult<VolumeSnapshotRef>>;
  /** readyToUse true/false, or an error message the snapshot controller reported. */
  getVolumeSnapshotState(namespace: string, name: string): Promise<KubeResult<{ readyToUse: boolean; error?: string }>>;

  /** Best effort: failures are logged by the implementation and swallowed. */
  createEvent(involved: { apiVersion: string; kind: string; namespace: string; name: string; uid?: string }, type: "Normal" | "Warning", reason: string, message: string): Promise<void>;
}
