// Which pods, PVCs and PVs a Backup covers (Velero's collector + itemInclusionChecks): namespaces by
// glob include/exclude, resources by include/exclude (with shortcuts), labelSelector or any of
// orLabelSelectors, and never items being deleted or labelled velero.io/exclude-from-backup=true.
// PVs come in through their bound PVCs. `extraPods` are Running pods that mount a collected PVC
// without matching the selector: Velero's PVC ItemBlockAction pulls those into the block (E46).
import { matchLabelSelector, matchNamespace, resourceIncluded } from "../../domain/index.js";
import type { LabelSelector, ObjectMeta, PodLike, PvcLike, PvLike, Result } from "../../domain/index.js";
import type { AgentCluster } from "../ports.js";
import type { BackupSpec } from "../../velero/types.js";

export interface Collected {
  pods: PodLike[];
  pvcs: PvcLike[];
  pvs: PvLike[];
  extraPods: PodLike[];
}

export const EXCLUDE_LABEL = "velero.io/exclude-from-backup";

function excluded(meta: ObjectMeta | undefined): boolean {
  return Boolean(meta?.deletionTimestamp) || meta?.labels?.[EXCLUDE_LABEL] === "true";
}

/** The backup's label filter as one predicate; an invalid selector is an error for the whole backup. */
export function labelFilter(spec: BackupSpec): Result<(labels: Record<string, string> | undefined) => boolean, string> {
  const ors = (spec.orLabelSelectors ?? []) as LabelSelector[];
  const selectors: LabelSelector[] = ors.length > 0 ? ors : spec.labelSelector ? [spec.labelSelector as LabelSelector] : [];
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

export function podPvcNames(pod: PodLike): string[] {
  return (pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim?.claimName ? [v.persistentVolumeClaim.claimName] : []));
}

export async function collectItems(cluster: AgentCluster, spec: BackupSpec): Promise<Result<Collected, string>> {
  const labels = labelFilter(spec);
  if (!labels.ok) return labels;
  const matches = labels.value;
  const incNs = spec.includedNamespaces ?? [];
  const excNs = spec.excludedNamespaces ?? [];
  const incR = spec.includedResources ?? [];
  const excR = spec.excludedResources ?? [];
  const wantPods = resourceIncluded("pods", incR, excR);
  const wantPvcs = resourceIncluded("persistentvolumeclaims", incR, excR);
  const wantPvs = resourceIncluded("persistentvolumes", incR, excR);

  const nsList = await cluster.listNamespaces();
  if (!nsList.ok) return { ok: false, error: `listing namespaces: ${nsList.error.message}` };
  const namespaces = new Set(nsList.value.filter((ns) => matchNamespace(ns, incNs, excNs)));
  if (namespaces.size === 0) return { ok: true, value: { pods: [], pvcs: [], pvs: [], extraPods: [] } };

  const allPods = wantPods ? await cluster.listPods() : { ok: true as const, value: [] as PodLike[] };
  if (!allPods.ok) return { ok: false, error: `listing pods: ${allPods.error.message}` };
  const allPvcs = wantPvcs ? await cluster.listPvcs() : { ok: true as const, value: [] as PvcLike[] };
  if (!allPvcs.ok) return { ok: false, error: `listing persistentvolumeclaims: ${allPvcs.error.message}` };

  const inScope = (meta: ObjectMeta | undefined): boolean => namespaces.has(meta?.namespace ?? "") && !excluded(meta);
  const pods = allPods.value.filter((p) => inScope(p.metadata) && matches(p.metadata?.labels));
  const pvcs = allPvcs.value.filter((c) => inScope(c.metadata) && matches(c.metadata?.labels));

  const pvcKeys = new Set(pvcs.map((c) => `${c.metadata?.namespace}/${c.metadata?.name}`));
  const podKeys = new Set(pods.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`));
  const extraPods = allPods.value.filter(
    (p) =>
      !podKeys.has(`${p.metadata?.namespace}/${p.metadata?.name}`) &&
      namespaces.has(p.metadata?.namespace ?? "") &&
      !excluded(p.metadata) &&
      p.status?.phase === "Running" &&
      podPvcNames(p).some((c) => pvcKeys.has(`${p.metadata?.namespace}/${c}`)),
  );

  let pvs: PvLike[] = [];
  if (wantPvs && pvcs.length > 0) {
    const allPvs = await cluster.listPvs();
    if (!allPvs.ok) return { ok: false, error: `listing persistentvolumes: ${allPvs.error.message}` };
    const boundNames = new Set(pvcs.map((c) => c.spec?.volumeName).filter((n): n is string => Boolean(n)));
    pvs = allPvs.value.filter((pv) => {
      if (excluded(pv.metadata)) return false;
      const ref = pv.spec?.claimRef;
      return boundNames.has(pv.metadata?.name ?? "") || (ref?.namespace !== undefined && pvcKeys.has(`${ref.namespace}/${ref.name}`));
    });
  }
  return { ok: true, value: { pods, pvcs, pvs, extraPods } };
}
