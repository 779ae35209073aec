// The item step of one block: the items' JSON for the archive, then (snapshotVolumes not false and a
// VolumeSnapshotClass configured) one VolumeSnapshot per PVC of the block, waited for until
// readyToUse within --snapshot-timeout. This is what the fsfreeze example needs between freeze and
// unfreeze. Errors are returned as data; they never stop the block's post hooks.
import type { ItemBlock, PodLike } from "../../domain/index.js";
import { sleep } from "../../util/async.js";
import type { ArchiveItem } from "../store/archive.js";
import type { AgentRunOptions, RunContext } from "../runtime/run-context.js";
import { BACKUP_UID_LABEL } from "./deletion.js";

export interface ItemStepResult {
  items: ArchiveItem[];
  itemsBackedUp: number;
  errors: string[];
}

const SNAPSHOT_GROUP = "snapshot.storage.k8s.io";

export function snapshotName(backup: string, pvc: string): string {
  const name = `${backup}-${pvc}`;
  return name.length <= 253 ? name : name.slice(0, 253);
}

/**
 * `skipPods`: pods whose pre hooks failed in Fail mode; like Velero their manifest is not written.
 * `signal` aborts the step (freeze window expired, or the agent stops).
 */
export async function backUpBlockItems(
  ctx: RunContext,
  opts: AgentRunOptions,
  block: ItemBlock,
  skipPods: Set<PodLike>,
  signal: AbortSignal,
): Promise<ItemStepResult> {
  const out: ItemStepResult = { items: [], itemsBackedUp: 0, errors: [] };
  for (const item of block.items) {
    if (item.resource === "pods" && skipPods.has(item.object as PodLike)) continue;
    out.items.push({
      resource: item.resource,
      group: "",
      ...(item.namespace ? { namespace: item.namespace } : {}),
      name: item.name,
      object: item.object,
    });
    out.itemsBackedUp++;
  }
  const snapshotClass = opts.volumeSnapshotClass;
  if (!snapshotClass || ctx.backup.spec.snapshotVolumes === false) return out;

  const backupName = ctx.backup.metadata.name;
  const pvcs = block.items.filter((i) => i.resource === "persistentvolumeclaims");
  const created: Array<{ namespace: string; name: string; pvc: string }> = [];
  for (const pvc of pvcs) {
    if (signal.aborted) return out;
    const ns = pvc.namespace ?? "";
    const name = snapshotName(backupName, pvc.name);
    // the uid label is how garbage collection finds this Backup's snapshots (and only them)
    const uid = ctx.backup.metadata.uid;
    const r = await ctx.cluster.createVolumeSnapshot(ns, name, pvc.name, snapshotClass, {
      "velero.io/backup-name": backupName,
      ...(uid ? { [BACKUP_UID_LABEL]: uid } : {}),
    });
    if (!r.ok) {
      out.errors.push(
        `creating VolumeSnapshot for persistentvolumeclaim ${ns}/${pvc.name}: ${r.error.message}`,
      );
      continue;
    }
    ctx.backupLog.info("created VolumeSnapshot", {
      namespace: ns,
      persistentVolumeClaim: pvc.name,
      volumeSnapshot: r.value.name,
    });
    created.push({ namespace: r.value.namespace, name: r.value.name, pvc: pvc.name });
  }
  const deadline = Date.now() + opts.snapshotTimeoutMs;
  const poll = opts.snapshotPollMs ?? 500;
  for (const snap of created) {
    for (;;) {
      if (signal.aborted) return out;
      const state = await ctx.cluster.getVolumeSnapshotState(snap.namespace, snap.name);
      if (state.ok && state.value.error) {
        out.errors.push(`VolumeSnapshot ${snap.namespace}/${snap.name}: ${state.value.error}`);
        break;
      }
      if (state.ok && state.value.readyToUse) {
        ctx.backupLog.info("VolumeSnapshot is ready to use", {
          namespace: snap.namespace,
          volumeSnapshot: snap.name,
        });
        out.items.push({
          resource: "volumesnapshots",
          group: SNAPSHOT_GROUP,
          namespace: snap.namespace,
          name: snap.name,
          object: {
            apiVersion: `${SNAPSHOT_GROUP}/v1`,
            kind: "VolumeSnapshot",
            metadata: {
              name: snap.name,
              namespace: snap.namespace,
              labels: { "velero.io/backup-name": backupName },
            },
            spec: { volumeSnapshotClassName: snapshotClass, source: { persistentVolumeClaimName: snap.pvc } },
            status: { readyToUse: true },
          },
        });
        break;
      }
      if (Date.now() >= deadline) {
        out.errors.push(
          `VolumeSnapshot ${snap.namespace}/${snap.name} not ready to use within ${Math.round(opts.snapshotTimeoutMs / 1000)}s (--snapshot-timeout)`,
        );
        break;
      }
      await sleep(Math.min(poll, Math.max(1, deadline - Date.now())), signal);
    }
  }
  return out;
}
