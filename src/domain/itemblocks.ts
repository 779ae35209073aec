// ItemBlock grouping (Velero 1.15+, pkg/backup/backup.go L543-645): items in collector order; each
// new item starts a block that pulls in related items depth-first through the built-in
// ItemBlockActions: a pod -> its PVCs; a Bound PVC -> its PV and every Running pod mounting it.
import {
  isPodRunning as isRunning,
  isPvcBound as isBound,
  podClaimNames as claimNames,
} from "./related-items.js";
import type { BlockItem, ItemBlock, PodLike, PvcLike, PvLike } from "./types.js";

export interface ItemBlockInput {
  pods: PodLike[];
  pvcs: PvcLike[];
  pvs: PvLike[];
  /** Pods pulled in by a PVC (Running, outside the backup's selection): selectRelatedItems' extraPods. */
  extraPods?: PodLike[];
}

type Kind = "pod" | "pvc" | "pv";
type Item = PodLike | PvcLike | PvLike;

const nsName = (ns: string | undefined, name: string | undefined): string => `${ns ?? ""}/${name ?? ""}`;

function blockItem(kind: Kind, object: Item): BlockItem {
  const meta = object.metadata;
  if (kind === "pv") return { resource: "persistentvolumes", name: meta?.name ?? "", object };
  return {
    resource: kind === "pod" ? "pods" : "persistentvolumeclaims",
    namespace: meta?.namespace ?? "",
    name: meta?.name ?? "",
    object,
  };
}

/**
 * Relations computed once up front with maps (no quadratic scans): pod -> its collected PVCs (a
 * pulled-in pod too: its other PVCs join the block); Bound PVC -> its PV, then the running pods
 * mounting it (selected pods first, then extra pods).
 */
function relations(input: ItemBlockInput): { kinds: Map<Item, Kind>; related: Map<Item, Item[]> } {
  const kinds = new Map<Item, Kind>();
  const related = new Map<Item, Item[]>();
  const pvcByKey = new Map<string, PvcLike>();
  const pvByName = new Map<string, PvLike>();
  for (const pv of input.pvs) {
    kinds.set(pv, "pv");
    if (pv.metadata?.name) pvByName.set(pv.metadata.name, pv);
  }
  for (const pvc of input.pvcs) {
    kinds.set(pvc, "pvc");
    pvcByKey.set(nsName(pvc.metadata?.namespace, pvc.metadata?.name), pvc);
    const pv = isBound(pvc) && pvc.spec?.volumeName ? pvByName.get(pvc.spec.volumeName) : undefined;
    related.set(pvc, pv ? [pv] : []);
  }
  const addPod = (pod: PodLike): void => {
    kinds.set(pod, "pod");
    const claims: Item[] = [];
    const running = isRunning(pod);
    for (const claim of claimNames(pod)) {
      const pvc = pvcByKey.get(nsName(pod.metadata?.namespace, claim));
      if (!pvc) continue;
      claims.push(pvc);
      if (running && isBound(pvc)) related.get(pvc)!.push(pod);
    }
    related.set(pod, claims);
  };
  for (const pod of input.pods) addPod(pod);
  for (const pod of input.extraPods ?? []) addPod(pod);
  return { kinds, related };
}

export function buildItemBlocks(input: ItemBlockInput): ItemBlock[] {
  const { kinds, related } = relations(input);
  const placed = new Set<Item>();
  const blocks: ItemBlock[] = [];
  const roots: Item[] = [...input.pods, ...input.pvcs, ...input.pvs];
  const stack: Item[] = [];
  for (const root of roots) {
    if (placed.has(root)) continue;
    const block: ItemBlock = { items: [], pods: [] };
    // depth-first pre-order, like Velero's recursive executeItemBlockActions
    placed.add(root);
    stack.push(root);
    while (stack.length > 0) {
      const item = stack.pop()!;
      const kind = kinds.get(item)!;
      block.items.push(blockItem(kind, item));
      if (kind === "pod") block.pods.push(item as PodLike);
      const next = related.get(item);
      if (!next) continue;
      const mark = stack.length;
      for (const n of next) {
        if (placed.has(n)) continue;
        placed.add(n);
        stack.push(n);
      }
      // reverse the newly pushed slice so related items are visited in their order
      for (let i = mark, j = stack.length - 1; i < j; i++, j--) [stack[i], stack[j]] = [stack[j]!, stack[i]!];
    }
    blocks.push(block);
  }
  return blocks;
}
