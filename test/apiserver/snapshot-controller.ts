// A snapshot controller double: a new VolumeSnapshot gets a bound VolumeSnapshotContent and, after a
// delay, status.readyToUse=true — or status.error when the test says so, either through the knob
// `failWith(namespace/name → message)` or the annotation `double.hookguard.dev/snapshot-error`.
// As the real controller, it puts its bound-protection finalizer on a bound VolumeSnapshot, so a
// DELETE only sets deletionTimestamp; after `deleteAfterMs` it deletes the content (deletionPolicy
// Delete: the storage's snapshot goes with it) and removes its finalizer, and the object goes once no
// other finalizer holds it.
import { randomUUID } from "node:crypto";
import type { ObjectStore, StoredEvent } from "./store.js";
import { RESOURCES } from "./resources.js";
import { nowTimestamp } from "./write-rules.js";

export interface SnapshotKnobs {
  readyAfterMs: number;
  /** how long the deletion of a bound snapshot's content takes (default: readyAfterMs) */
  deleteAfterMs?: number;
  /** "namespace/name" → error message for snapshots that should fail. */
  failures?: Map<string, string>;
}

export const SNAPSHOT_ERROR_ANNOTATION = "double.hookguard.dev/snapshot-error";
export const BOUND_PROTECTION_FINALIZER = "snapshot.storage.kubernetes.io/volumesnapshot-bound-protection";
const SNAPS = RESOURCES.find((r) => r.kind === "VolumeSnapshot")!;
const CONTENTS = RESOURCES.find((r) => r.kind === "VolumeSnapshotContent")!;

export class SnapshotControllerDouble {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly deleting = new Set<string>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: ObjectStore,
    private readonly knobs: SnapshotKnobs,
  ) {
    this.unsubscribe = store.subscribe((e) => this.onEvent(e));
  }

  stop(): void {
    this.unsubscribe();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private onEvent(e: StoredEvent): void {
    if (e.resource === SNAPS && e.type === "MODIFIED" && e.object.metadata.deletionTimestamp)
      return this.onDeleting(e);
    if (e.resource !== SNAPS || e.type !== "ADDED") return;
    const { namespace, name, uid } = e.object.metadata;
    const t = setTimeout(() => {
      this.timers.delete(t);
      const snap = this.store.get(SNAPS, namespace, name);
      if (!snap || snap.metadata.uid !== uid) return;
      const errorMessage =
        this.knobs.failures?.get(`${namespace}/${name}`) ??
        snap.metadata.annotations?.[SNAPSHOT_ERROR_ANNOTATION];
      const contentName = `snapcontent-${uid}`;
      const now = nowTimestamp();
      if (!this.store.get(CONTENTS, undefined, contentName)) {
        this.store.write(
          CONTENTS,
          {
            apiVersion: "snapshot.storage.k8s.io/v1",
            kind: "VolumeSnapshotContent",
            metadata: { name: contentName, uid: randomUUID(), creationTimestamp: now, generation: 1 },
            spec: {
              deletionPolicy: "Delete",
              driver: "hostpath.csi.k8s.io",
              source: { volumeHandle: `vol-${snap.spec?.source?.persistentVolumeClaimName ?? "unknown"}` },
              volumeSnapshotClassName: snap.spec?.volumeSnapshotClassName ?? "csi-hostpath-snapclass",
              volumeSnapshotRef: {
                apiVersion: "snapshot.storage.k8s.io/v1",
                kind: "VolumeSnapshot",
                name,
                namespace,
                uid,
              },
            },
            status: errorMessage
              ? { readyToUse: false, error: { message: errorMessage, time: now } }
              : {
                  readyToUse: true,
                  creationTime: Date.now() * 1e6,
                  restoreSize: 1073741824,
                  snapshotHandle: `snap-${uid}`,
                },
          },
          "ADDED",
        );
      }
      snap.metadata.finalizers = [
        ...new Set([...(snap.metadata.finalizers ?? []), BOUND_PROTECTION_FINALIZER]),
      ];
      snap.status = errorMessage
        ? {
            boundVolumeSnapshotContentName: contentName,
            readyToUse: false,
            error: { message: errorMessage, time: now },
          }
        : {
            boundVolumeSnapshotContentName: contentName,
            creationTime: now,
            readyToUse: true,
            restoreSize: "1Gi",
          };
      this.store.write(SNAPS, snap, "MODIFIED");
    }, this.knobs.readyAfterMs);
    this.timers.add(t);
  }

  /** A bound VolumeSnapshot being deleted: its content goes first, then the finalizer that held it. */
  private onDeleting(e: StoredEvent): void {
    const { namespace, name, uid } = e.object.metadata;
    if (!(e.object.metadata.finalizers ?? []).includes(BOUND_PROTECTION_FINALIZER)) return;
    const key = `${uid}`;
    if (this.deleting.has(key)) return;
    this.deleting.add(key);
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.deleting.delete(key);
      const snap = this.store.get(SNAPS, namespace, name);
      if (!snap || snap.metadata.uid !== uid) return;
      const contentName = snap.status?.boundVolumeSnapshotContentName;
      const content = contentName ? this.store.get(CONTENTS, undefined, contentName) : undefined;
      if (content && content.spec?.deletionPolicy === "Delete")
        this.store.remove(CONTENTS, undefined, contentName);
      const rest = (snap.metadata.finalizers ?? []).filter((f: string) => f !== BOUND_PROTECTION_FINALIZER);
      if (rest.length === 0) this.store.remove(SNAPS, namespace, name);
      else this.store.write(SNAPS, { ...snap, metadata: { ...snap.metadata, finalizers: rest } }, "MODIFIED");
    }, this.knobs.deleteAfterMs ?? this.knobs.readyAfterMs);
    this.timers.add(t);
  }
}
