// Which pods, PVCs and PVs a Backup covers: the candidates of Velero's collector (namespaces by glob
// include/exclude, resources by include/exclude with shortcuts), then the domain's related-items walk
// (selectRelatedItems): labelSelector / orLabelSelectors decide only where the walk starts; a pod
// pulls in its PVCs, a Bound PVC its PV and the Running pods mounting it, whatever their labels; items
// being deleted or labelled velero.io/exclude-from-backup=true are never taken.
import {
  matchLabelSelector,
  matchNamespace,
  resourceIncluded,
  selectRelatedItems,
} from "../../domain/index.js";
import type {
  LabelSelector,
  ObjectMeta,
  PodLike,
  PvcLike,
  PvLike,
  RelatedSelection,
  Result,
} from "../../domain/index.js";
import type { AgentCluster } from "../ports.js";
import type { BackupSpec } from "../../velero/types.js";

export type Collected = RelatedSelection;

/** The backup's label filter as one predicate; an invalid selector is an error for the whole backup. */
export function labelFilter(
  spec: BackupSpec,
): Result<(labels: Record<string, string> | undefined) => boolean, string> {
  const ors = (spec.orLabelSelectors ?? []) as LabelSelector[];
  const selectors: LabelSelector[] =
    ors.length > 0 ? ors : spec.labelSelector ? [spec.labelSelector as LabelSelector] : [];
  // validate once up front, against no labels, so a bad operator fails the backup before any hook
  for (const sel of selectors) {
    const probe = matchLabelSelector(sel, {});
    if (!probe.ok) return { ok: false, error: `invalid label selector: ${probe.error}` };
  }
  if (selectors.length === 0) return { ok: true, value: () => true };
  return {
    ok: true,
    value: (labels) =>
      selectors.some((sel) => {
        const r = matchLabelSelector(sel, labels);
        return r.ok && r.value;
      }),
  };
}

export async function collectItems(
  cluster: AgentCluster,
  spec: BackupSpec,
): Promise<Result<Collected, string>> {
  const labels = labelFilter(spec);
  if (!labels.ok) return labels;
  const incNs = spec.includedNamespaces ?? [];
  const excNs = spec.excludedNamespaces ?? [];
  const incR = spec.includedResources ?? [];
  const excR = spec.excludedResources ?? [];
  const wantPods = resourceIncluded("pods", incR, excR);
  const wantPvcs = resourceIncluded("persistentvolumeclaims", incR, excR);
  const wantPvs = resourceIncluded("persistentvolumes", incR, excR);
  const none = selectRelatedItems({ pods: [], pvcs: [], pvs: [] }, labels.value);

  const nsList = await cluster.listNamespaces();
  if (!nsList.ok) return { ok: false, error: `listing namespaces: ${nsList.error.message}` };
  const namespaces = new Set(nsList.value.filter((ns) => matchNamespace(ns, incNs, excNs)));
  if (namespaces.size === 0) return { ok: true, value: none };
  const inScope = (meta: ObjectMeta | undefined): boolean => namespaces.has(meta?.namespace ?? "");

  const allPods = wantPods ? await cluster.listPods() : { ok: true as const, value: [] as PodLike[] };
  if (!allPods.ok) return { ok: false, error: `listing pods: ${allPods.error.message}` };
  const allPvcs = wantPvcs ? await cluster.listPvcs() : { ok: true as const, value: [] as PvcLike[] };
  if (!allPvcs.ok) return { ok: false, error: `listing persistentvolumeclaims: ${allPvcs.error.message}` };
  const pods = allPods.value.filter((p) => inScope(p.metadata));
  const pvcs = allPvcs.value.filter((c) => inScope(c.metadata));

  let pvs: PvLike[] = [];
  if (wantPvs && pvcs.length > 0) {
    const allPvs = await cluster.listPvs();
    if (!allPvs.ok) return { ok: false, error: `listing persistentvolumes: ${allPvs.error.message}` };
    pvs = allPvs.value;
  }
  return { ok: true, value: selectRelatedItems({ pods, pvcs, pvs }, labels.value) };
}
