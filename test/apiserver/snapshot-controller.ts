// A snapshot controller double: a new VolumeSnapshot gets a bound VolumeSnapshotContent and, after a
// delay, status.readyToUse=true — or status.error when the test says so, either through the knob
// `failWith(namespace/name → message)` or the annotation `double.hookguard.dev/snapshot-error`.
import { randomUUID } from "node:crypto";
import type { ObjectStore, StoredEvent } from "./store.js";
import { RESOURCES } from "./resources.js";
import { nowTimestamp } from "./write-rules.js";

export interface SnapshotKnobs {
  readyAfterMs: number;
  /** "namespace/name" → error message for snapshots that should fail. */
  failures?: Map<string, string>;
}

export const SNAPSHOT_ERROR_ANNOTATION = "double.hookguard.dev/snapshot-error";
const SNAPS = RESOURCES.find((r) => r.kind === "VolumeSnapshot")!;
const CONTENTS = RESOURCES.find((r) => r.kind === "VolumeSnapshotContent")!;

export class SnapshotControllerDouble {
  private readonly timers = new Set<NodeJS.Timeout>();
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
}
