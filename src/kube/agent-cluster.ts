// AgentCluster on @kubernetes/client-node 1.4.0: core objects through CoreV1Api, Velero and
// VolumeSnapshot objects through CustomObjectsApi, Events through core/v1 (best effort).
// Every call retries transient failures (transport, 429, 5xx) with bounded backoff and returns a
// typed KubeApiError otherwise; 4xx answers (404, 409...) are returned at once.
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type KubeConfig,
} from "@kubernetes/client-node";
// Not in the package index; deep import (version pinned) to turn model classes back into wire JSON.
import { ObjectSerializer } from "@kubernetes/client-node/dist/gen/models/ObjectSerializer.js";
import { randomBytes } from "node:crypto";
import type { Logger } from "../log.js";
import type { PodLike, PvcLike, PvLike } from "../domain/types.js";
import type { AgentCluster, KubeResult } from "../agent/ports.js";
import type { BackupObject, ScheduleObject } from "../velero/types.js";
import { isNotFound } from "./errors.js";
import { withRetry, type RetryOptions } from "./retry.js";
import { makePooledApiClient } from "./transport.js";

export const VELERO = { group: "velero.io", version: "v1" } as const;
export const SNAPSHOTS = {
  group: "snapshot.storage.k8s.io",
  version: "v1",
  plural: "volumesnapshots",
} as const;
const mergePatch = () => setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/**
 * CoreV1Api deserialises into model classes (Date objects, class instances); the agent and the
 * archive want the wire JSON, so convert back and restore apiVersion/kind, which list items lack.
 */
function wire<T>(obj: unknown, model: string, apiVersion: string, kind: string): T {
  const plain = ObjectSerializer.serialize(obj, model, "") as Record<string, unknown>;
  return { apiVersion, kind, ...plain } as T;
}

/**
 * Velero's kinds have no status subresource (docs/velero-crds.md): status is merge-patched through
 * the object itself. A resourceVersion in the patch makes the server apply it only to that version.
 */
function statusPatch(status: object, resourceVersion: string | undefined): object {
  return resourceVersion ? { metadata: { resourceVersion }, status } : { status };
}

function found<T>(r: KubeResult<T>): KubeResult<T | undefined> {
  if (!r.ok && isNotFound(r.error)) return { ok: true, value: undefined };
  return r;
}

function mapOk<T, U>(r: KubeResult<T>, f: (v: T) => U): KubeResult<U> {
  return r.ok ? { ok: true, value: f(r.value) } : r;
}

export function createAgentCluster(kc: KubeConfig, log: Logger, retry: RetryOptions = {}): AgentCluster {
  // keep-alive connections and TLS session reuse instead of a new handshake per call
  const core = makePooledApiClient(kc, CoreV1Api);
  const custom = makePooledApiClient(kc, CustomObjectsApi);
  const apps = makePooledApiClient(kc, AppsV1Api);
  const call = <T>(fn: () => Promise<T>): Promise<KubeResult<T>> => withRetry(fn, retry);
  const backups = (namespace: string) => ({ ...VELERO, namespace, plural: "backups" });
  const schedules = (namespace: string) => ({ ...VELERO, namespace, plural: "schedules" });

  return {
    async getPod(namespace, name) {
      const r = await call(() => core.readNamespacedPod({ namespace, name }));
      return found(mapOk(r, (p) => wire<PodLike>(p, "V1Pod", "v1", "Pod")));
    },
    async listPods(namespace) {
      const r = await call(() =>
        namespace ? core.listNamespacedPod({ namespace }) : core.listPodForAllNamespaces(),
      );
      return mapOk(r, (l) => l.items.map((p) => wire<PodLike>(p, "V1Pod", "v1", "Pod")));
    },
    async listPvcs(namespace) {
      const r = await call(() =>
        namespace
          ? core.listNamespacedPersistentVolumeClaim({ namespace })
          : core.listPersistentVolumeClaimForAllNamespaces(),
      );
      return mapOk(r, (l) =>
        l.items.map((p) => wire<PvcLike>(p, "V1PersistentVolumeClaim", "v1", "PersistentVolumeClaim")),
      );
    },
    async listPvs() {
      const r = await call(() => core.listPersistentVolume());
      return mapOk(r, (l) =>
        l.items.map((p) => wire<PvLike>(p, "V1PersistentVolume", "v1", "PersistentVolume")),
      );
    },
    async listNamespaces() {
      const r = await call(() => core.listNamespace());
      return mapOk(r, (l) => l.items.map((n) => n.metadata?.name ?? "").filter((n) => n !== ""));
    },

    async getBackup(namespace, name) {
      return found(
        await call(
          () => custom.getNamespacedCustomObject({ ...backups(namespace), name }) as Promise<BackupObject>,
        ),
      );
    },
    async readVeleroServerSignals(namespace) {
      type Bsl = {
        metadata?: { name?: string };
        spec?: { validationFrequency?: string };
        status?: { lastValidationTime?: string };
      };
      const bsls = await call(
        () =>
          custom.listNamespacedCustomObject({
            ...VELERO,
            namespace,
            plural: "backupstoragelocations",
          }) as Promise<{ items?: Bsl[] }>,
      );
      // no BackupStorageLocation CRD: Velero is not installed in this cluster
      if (!bsls.ok && !isNotFound(bsls.error)) return bsls;
      const deployments = await call(() =>
        apps.listNamespacedDeployment({ namespace, labelSelector: "component=velero" }),
      );
      if (!deployments.ok) return deployments;
      const pods: PodLike[] = [];
      for (const labelSelector of ["component=velero", "deploy=velero", "name=velero"]) {
        const r = await call(() => core.listNamespacedPod({ namespace, labelSelector }));
        if (!r.ok) return r;
        for (const p of r.value.items)
          if (!pods.some((x) => x.metadata?.name === p.metadata?.name))
            pods.push(wire<PodLike>(p, "V1Pod", "v1", "Pod"));
      }
      return {
        ok: true,
        value: {
          storageLocations: (bsls.ok ? (bsls.value.items ?? []) : []).map((b) => ({
            name: b.metadata?.name ?? "",
            ...(b.status?.lastValidationTime ? { lastValidationTime: b.status.lastValidationTime } : {}),
            ...(b.spec?.validationFrequency !== undefined
              ? { validationFrequency: b.spec.validationFrequency }
              : {}),
          })),
          deployments: deployments.value.items.map((d) => ({
            name: d.metadata?.name ?? "",
            replicas: d.spec?.replicas ?? 1,
            availableReplicas: d.status?.availableReplicas ?? 0,
          })),
          pods: pods.map((p) => ({
            name: p.metadata?.name ?? "",
            ...(p.status?.phase ? { phase: p.status.phase } : {}),
          })),
        },
      };
    },
    async listBackups(namespace) {
      const r = await call(
        () => custom.listNamespacedCustomObject(backups(namespace)) as Promise<{ items?: BackupObject[] }>,
      );
      return mapOk(r, (l) => l.items ?? []);
    },
    async createBackup(backup) {
      const body = { ...backup, apiVersion: "velero.io/v1", kind: "Backup" };
      return call(
        () =>
          custom.createNamespacedCustomObject({
            ...backups(backup.metadata.namespace),
            body,
          }) as Promise<BackupObject>,
      );
    },
    async replaceBackup(backup) {
      const { namespace, name } = backup.metadata;
      return call(
        () =>
          custom.replaceNamespacedCustomObject({
            ...backups(namespace),
            name,
            body: backup,
          }) as Promise<BackupObject>,
      );
    },
    async patchBackupStatus(namespace, name, status, resourceVersion) {
      const body = statusPatch(status, resourceVersion);
      return call(
        () =>
          custom.patchNamespacedCustomObject(
            { ...backups(namespace), name, body },
            mergePatch(),
          ) as Promise<BackupObject>,
      );
    },
    async patchBackupMetadata(namespace, name, metadata) {
      return call(
        () =>
          custom.patchNamespacedCustomObject(
            { ...backups(namespace), name, body: { metadata } },
            mergePatch(),
          ) as Promise<BackupObject>,
      );
    },

    async listSchedules(namespace) {
      const r = await call(
        () =>
          custom.listNamespacedCustomObject(schedules(namespace)) as Promise<{ items?: ScheduleObject[] }>,
      );
      return mapOk(r, (l) => l.items ?? []);
    },
    async patchScheduleStatus(namespace, name, status, resourceVersion) {
      const body = statusPatch(status, resourceVersion);
      return call(
        () =>
          custom.patchNamespacedCustomObject(
            { ...schedules(namespace), name, body },
            mergePatch(),
          ) as Promise<ScheduleObject>,
      );
    },

    async createVolumeSnapshot(namespace, name, pvcName, snapshotClass, labels) {
      const body = {
        apiVersion: `${SNAPSHOTS.group}/${SNAPSHOTS.version}`,
        kind: "VolumeSnapshot",
        metadata: { name, namespace, labels },
        spec: { volumeSnapshotClassName: snapshotClass, source: { persistentVolumeClaimName: pvcName } },
      };
      const r = await call(() => custom.createNamespacedCustomObject({ ...SNAPSHOTS, namespace, body }));
      return mapOk(r, () => ({ namespace, name }));
    },
    async getVolumeSnapshotState(namespace, name) {
      const r = await call(
        () =>
          custom.getNamespacedCustomObject({ ...SNAPSHOTS, namespace, name }) as Promise<{
            status?: { readyToUse?: boolean; error?: { message?: string } };
          }>,
      );
      return mapOk(r, (vs) => {
        const error = vs.status?.error?.message;
        return error
          ? { readyToUse: vs.status?.readyToUse === true, error }
          : { readyToUse: vs.status?.readyToUse === true };
      });
    },

    async listVolumeSnapshots(labelSelector) {
      const r = await call(
        () =>
          custom.listClusterCustomObject({ ...SNAPSHOTS, labelSelector }) as Promise<{
            items?: Array<{ metadata?: { namespace?: string; name?: string; deletionTimestamp?: string } }>;
          }>,
      );
      return mapOk(r, (l) =>
        (l.items ?? []).map((vs) => ({
          namespace: vs.metadata?.namespace ?? "",
          name: vs.metadata?.name ?? "",
          deleting: Boolean(vs.metadata?.deletionTimestamp),
        })),
      );
    },
    async deleteVolumeSnapshot(namespace, name) {
      const r = await call(() => custom.deleteNamespacedCustomObject({ ...SNAPSHOTS, namespace, name }));
      if (!r.ok && isNotFound(r.error)) return { ok: true, value: undefined };
      return mapOk(r, () => undefined);
    },
    async deleteBackup(namespace, name, uid) {
      const r = await call(() =>
        custom.deleteNamespacedCustomObject({
          ...backups(namespace),
          name,
          body: { preconditions: { uid } },
        }),
      );
      if (!r.ok && isNotFound(r.error)) return { ok: true, value: undefined };
      return mapOk(r, () => undefined);
    },

    async createEvent(involved, type, reason, message) {
      const now = new Date();
      const body: CoreV1Event = {
        metadata: {
          name: `${involved.name}.${randomBytes(8).toString("hex")}`,
          namespace: involved.namespace,
        },
        involvedObject: {
          apiVersion: involved.apiVersion,
          kind: involved.kind,
          namespace: involved.namespace,
          name: involved.name,
          uid: involved.uid,
        },
        type,
        reason,
        // Events are for humans: keep the message short (events.k8s.io caps the note at 1 KiB).
        message: message.length > 1000 ? `${message.slice(0, 997)}...` : message,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: "hookguard-agent" },
        reportingComponent: "hookguard-agent",
        reportingInstance: "",
      };
      const r = await withRetry(() => core.createNamespacedEvent({ namespace: involved.namespace, body }), {
        ...retry,
        attempts: 2,
      });
      if (!r.ok)
        log.warn(
          {
            namespace: involved.namespace,
            kind: involved.kind,
            reason,
            code: r.error.code,
            err: r.error.message,
          },
          "could not record event",
        );
    },
  };
}
