// The agent's seams: everything it needs from the cluster, as interfaces. src/kube/ implements them
// with @kubernetes/client-node (the wiring is in src/cli/agent-main.ts); nothing in src/agent imports
// src/kube. Tests may also use the API-server double through the real adapters.
import type { PodLike, PvcLike, PvLike, Result } from "../domain/types.js";
import type { VeleroServerSignals } from "../velero/server-detect.js";
import type { BackupObject, BackupStatus, ScheduleObject } from "../velero/types.js";

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

export interface VolumeSnapshotRef {
  namespace: string;
  name: string;
}

// ---------------------------------------------------------------- cluster

/**
 * How a port reports an API error: the HTTP code, the Status reason (e.g. "AlreadyExists",
 * "Conflict"; "TransportError" with code 0 when no answer came) and its message. src/kube's
 * KubeApiError has this shape, so the adapters return theirs as is.
 */
export interface ClusterError {
  code: number;
  reason: string;
  message: string;
}

export type KubeResult<T> = Result<T, ClusterError>;

/** A create that lost to an object of the same name (409 AlreadyExists, not a stale-write 409). */
export const isAlreadyExists = (e: ClusterError): boolean => e.code === 409 && e.reason === "AlreadyExists";

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
  patchBackupStatus(
    namespace: string,
    name: string,
    status: Partial<BackupStatus>,
    resourceVersion?: string,
  ): Promise<KubeResult<BackupObject>>;
  /** JSON merge patch on metadata (annotations), e.g. the pending-post-hooks record. */
  patchBackupMetadata(
    namespace: string,
    name: string,
    metadata: { annotations?: Record<string, string | null>; labels?: Record<string, string | null> },
  ): Promise<KubeResult<BackupObject>>;

  listSchedules(namespace: string): Promise<KubeResult<ScheduleObject[]>>;
  /** JSON merge patch of `status` through the Schedule itself, optionally guarded by resourceVersion. */
  patchScheduleStatus(
    namespace: string,
    name: string,
    status: Record<string, unknown>,
    resourceVersion?: string,
  ): Promise<KubeResult<ScheduleObject>>;

  createVolumeSnapshot(
    namespace: string,
    name: string,
    pvcName: string,
    snapshotClass: string,
    labels: Record<string, string>,
  ): Promise<KubeResult<VolumeSnapshotRef>>;
  /** readyToUse true/false, or an error message the snapshot controller reported. */
  getVolumeSnapshotState(
    namespace: string,
    name: string,
  ): Promise<KubeResult<{ readyToUse: boolean; error?: string }>>;

  /**
   * VolumeSnapshots in every namespace carrying `labelSelector` (e.g. the backup-uid label the agent
   * sets on the snapshots it creates); `deleting` when a deletionTimestamp is set (finalizers pending).
   */
  listVolumeSnapshots(
    labelSelector: string,
  ): Promise<KubeResult<Array<VolumeSnapshotRef & { deleting: boolean }>>>;
  /** Deletes one VolumeSnapshot; one that is already gone counts as deleted. */
  deleteVolumeSnapshot(namespace: string, name: string): Promise<KubeResult<void>>;
  /**
   * Deletes the Backup object only if it is still the one with `uid` (a precondition: a new Backup
   * of the same name gets {code: 409}); one that is already gone counts as deleted.
   */
  deleteBackup(namespace: string, name: string, uid: string): Promise<KubeResult<void>>;

  /** Best effort: failures are logged by the implementation and swallowed. */
  createEvent(
    involved: { apiVersion: string; kind: string; namespace: string; name: string; uid?: string },
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ): Promise<void>;

  /** What tells whether a Velero server works in `namespace` (its BSLs, Deployment and pods); no Velero CRDs reads as none. */
  readVeleroServerSignals(namespace: string): Promise<KubeResult<VeleroServerSignals>>;
}
