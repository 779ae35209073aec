// What companion mode needs from the cluster. Read-only on Velero's Backups (no claim, no status,
// no annotation: the one writer of a Backup is Velero); its only writes are DownloadRequests (which
// Velero answers and expires), its own checkpoint ConfigMap and Events. src/kube/companion-cluster.ts
// implements it with client-node; tests use in-memory fakes.
import type { PodLike, PvcLike, PvLike } from "../../domain/types.js";
import type { KubeResult } from "../ports.js";
import type { BackupObject } from "../../velero/types.js";
import type { ServerPodLike } from "../../velero/server-pods.js";
import type { DownloadPort } from "../../velero/download.js";

// ---------------------------------------------------------------- watching Backups

export type BackupEventType = "add" | "update" | "delete";

/** An informer over the objects of one namespace (list, watch, restart with backoff, periodic re-list). */
export interface BackupWatch {
  /** Resolves after the first list was delivered (or failed; it then retries in the background). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** true once a list succeeded and the watch is open */
  synced(): boolean;
}

// ---------------------------------------------------------------- DownloadRequest (velero.io/v1)

// The DownloadRequest types and the download port live in src/velero/download.ts: the CLI reads
// Velero's files the same way.
export type {
  DownloadError,
  DownloadPort,
  DownloadRequestObject,
  DownloadTargetKind,
} from "../../velero/download.js";

// ---------------------------------------------------------------- checkpoint ConfigMap

export interface ConfigMapObject {
  apiVersion: "v1";
  kind: "ConfigMap";
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  data?: Record<string, string>;
}

// ---------------------------------------------------------------- the port

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

export interface CompanionCluster extends DownloadPort {
  /** Informer over the Backups of `namespace`. The handler must not throw (it is wrapped anyway). */
  watchBackups(
    namespace: string,
    handler: (type: BackupEventType, backup: BackupObject) => void,
  ): BackupWatch;
  getBackup(namespace: string, name: string): Promise<KubeResult<BackupObject | undefined>>;
  /** Informer over the pods of `namespace` (the thaw guard watches the Velero server's pods). */
  watchPods(
    namespace: string,
    handler: (type: BackupEventType, pod: PodLike & ServerPodLike) => void,
  ): BackupWatch;
  getPod(namespace: string, name: string): Promise<KubeResult<PodLike | undefined>>;

  // The Backup's scope, as the standalone collector reads it (same signatures as AgentCluster).
  listNamespaces(): Promise<KubeResult<string[]>>;
  /** namespace undefined = all namespaces */
  listPods(namespace?: string): Promise<KubeResult<PodLike[]>>;
  listPvcs(namespace?: string): Promise<KubeResult<PvcLike[]>>;
  listPvs(): Promise<KubeResult<PvLike[]>>;

  getConfigMap(namespace: string, name: string): Promise<KubeResult<ConfigMapObject | undefined>>;
  /** 409 AlreadyExists when another agent made it first. */
  createConfigMap(configMap: ConfigMapObject): Promise<KubeResult<ConfigMapObject>>;
  /** PUT guarded by metadata.resourceVersion: a stale copy gets {code: 409}. */
  replaceConfigMap(configMap: ConfigMapObject): Promise<KubeResult<ConfigMapObject>>;

  /** Best effort: failures are logged by the implementation and swallowed. */
  createEvent(
    involved: InvolvedObject,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ): Promise<void>;
}
