// Which pods, PVCs and PVs a Backup takes, by Velero's related-items rules (its collector, then the
// built-in pod and PVC ItemBlockActions, then itemInclusionChecks on every pulled-in item):
// - the backup's label selector decides only which items START the walk;
// - a pod pulls in every PVC it mounts, whatever that PVC's labels;
// - a Bound PVC pulls in its PV and every Running pod of its namespace that mounts it, whatever
//   their labels;
// - every item, starting or pulled in, is still refused when it is being deleted or labelled
//   velero.io/exclude-from-backup=true (itemInclusionChecks does not look at the selector);
// - the walk continues from every pulled-in item (a pulled-in pod brings its other PVCs).
// The namespace and resource filters are applied by the caller: candidates are only the objects of
// included resources in included namespaces (PVs: all of them; they are reached only through PVCs).
import type { ObjectMeta, PodLike, PvcLike, PvLike } from "./types.js";

export const EXCLUDE_LABEL = "velero.io/exclude-from-backup";

export interface Candidates {
  pods: PodLike[];
  pvcs: PvcLike[];
  pvs: PvLike[];
}

/** Why an item is in the backup. `by` names the item that pulled it in (`pods/ns/name`...). */
export type Inclusion =
  | { reason: "selected" }
  | { reason: "mounted by pod"; by: string }
  | { reason: "bound to PVC"; by: string }
  | { reason: "Running pod mounting PVC"; by: string };

export interface RelatedSelection {
  /** Pods that start the walk (they matched the selector), in candidate order. */
  pods: PodLike[];
  /** Every PVC taken, selected or pulled in, in candidate order. */
  pvcs: PvcLike[];
  /** Every PV taken (always pulled in by a PVC), in candidate order. */
  pvs: PvLike[];
  /** Pods pulled in by a PVC (they did not match the selector), in candidate order. */
  extraPods: PodLike[];
  /** Per item key (`pods/ns/name`, `persistentvolumeclaims/ns/name`, `persistentvolumes/name`). */
  why: Map<string, Inclusion>;
}

/** Velero's itemInclusionChecks, less the namespace/resource filters the caller applied. */
export function excludedFromBackup(meta: ObjectMeta | undefined): boolean {
  return Boolean(meta?.deletionTimestamp) || meta?.labels?.[EXCLUDE_LABEL] === "true";
}

/** kube.IsPodRunning; pods without status (templates, tests) are treated as running. */
export function isPodRunning(pod: PodLike): boolean {
  const phase = pod.status?.phase;
  return (phase === undefined || phase === "Running") && !pod.metadata?.deletionTimestamp;
}

export function isPvcBound(pvc: PvcLike): boolean {
  const phase = pvc.status?.phase;
  return phase === undefined || phase === "Bound";
}

/** The PVC names a pod mounts, each once, in volume order. */
export function podClaimNames(pod: PodLike): string[] {
  const names: string[] = [];
  const volumes: unknown = pod.spec?.volumes;
  if (!Array.isArray(volumes)) return names;
  for (const v of volumes as NonNullable<NonNullable<PodLike["spec"]>["volumes"]>) {
    const claim = v?.persistentVolumeClaim?.claimName;
    if (typeof claim === "string" && claim && !names.includes(claim)) names.push(claim);
  }
  return names;
}

export const podKey = (p: PodLike): string => `pods/${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}`;
export const pvcKey = (c: PvcLike): string =>
  `persistentvolumeclaims/${c.metadata?.namespace ?? ""}/${c.metadata?.name ?? ""}`;
export const pvKey = (v: PvLike): string => `persistentvolumes/${v.metadata?.name ?? ""}`;

type Labels = Record<string, string> | undefined;

/** Walks from the selected items through their related items; `startsWalk` is the label selector. */
export function selectRelatedItems(c: Candidates, startsWalk: (labels: Labels) => boolean): RelatedSelection {
  const why = new Map<string, Inclusion>();
  const pvcByKey = new Map(c.pvcs.map((x) => [pvcKey(x), x]));
  const pvByName = new Map(c.pvs.map((x) => [x.metadata?.name ?? "", x]));
  const pvByClaim = new Map(
    c.pvs.flatMap((x) =>
      x.spec?.claimRef?.name
        ? [[`${x.spec.claimRef.namespace ?? ""}/${x.spec.claimRef.name}`, x] as const]
        : [],
    ),
  );
  // Running pods of a namespace by the claim they mount: the PVC action's "pods mounting it".
  const podsByClaim = new Map<string, PodLike[]>();
  for (const p of c.pods) {
    for (const claim of podClaimNames(p)) {
      const k = `persistentvolumeclaims/${p.metadata?.namespace ?? ""}/${claim}`;
      podsByClaim.set(k, [...(podsByClaim.get(k) ?? []), p]);
    }
  }

  type Next =
    | { key: string; kind: "pod"; item: PodLike }
    | { key: string; kind: "pvc"; item: PvcLike }
    | { key: string; kind: "pv"; item: PvLike };
  const queue: Next[] = [];
  const take = (n: Next, inclusion: Inclusion): void => {
    if (why.has(n.key) || excludedFromBackup(n.item.metadata)) return;
    why.set(n.key, inclusion);
    queue.push(n);
  };
  for (const p of c.pods)
    if (startsWalk(p.metadata?.labels))
      take({ key: podKey(p), kind: "pod", item: p }, { reason: "selected" });
  for (const x of c.pvcs)
    if (startsWalk(x.metadata?.labels))
      take({ key: pvcKey(x), kind: "pvc", item: x }, { reason: "selected" });

  while (queue.length > 0) {
    const n = queue.shift()!;
    if (n.kind === "pod") {
      for (const claim of podClaimNames(n.item)) {
        const pvc = pvcByKey.get(`persistentvolumeclaims/${n.item.metadata?.namespace ?? ""}/${claim}`);
        if (pvc) take({ key: pvcKey(pvc), kind: "pvc", item: pvc }, { reason: "mounted by pod", by: n.key });
      }
    } else if (n.kind === "pvc" && isPvcBound(n.item)) {
      const name = n.item.spec?.volumeName;
      const pv =
        (name ? pvByName.get(name) : undefined) ??
        pvByClaim.get(`${n.item.metadata?.namespace ?? ""}/${n.item.metadata?.name ?? ""}`);
      if (pv) take({ key: pvKey(pv), kind: "pv", item: pv }, { reason: "bound to PVC", by: n.key });
      for (const p of podsByClaim.get(n.key) ?? []) {
        if (isPodRunning(p))
          take({ key: podKey(p), kind: "pod", item: p }, { reason: "Running pod mounting PVC", by: n.key });
      }
    }
  }

  const has = (key: string, selected?: boolean): boolean => {
    const w = why.get(key);
    return w !== undefined && (selected === undefined || (w.reason === "selected") === selected);
  };
  return {
    pods: c.pods.filter((p) => has(podKey(p), true)),
    pvcs: c.pvcs.filter((x) => has(pvcKey(x))),
    pvs: c.pvs.filter((x) => has(pvKey(x))),
    extraPods: c.pods.filter((p) => has(podKey(p), false)),
    why,
  };
}

/** "mounted by pod ns/db-0" — for `backup plan`. */
export function describeInclusion(i: Inclusion): string {
  if (i.reason === "selected") return "selected";
  const by = i.by.replace(/^(pods|persistentvolumeclaims|persistentvolumes)\//, "");
  return `${i.reason} ${by}`;
}
