// Which pods are the Velero server, and whether the one that was running is still the same process.
// Pure: the companion's thaw guard feeds it the pods of the Velero namespace (docs/thaw-guard.md).
//
// `velero install` labels the server pod `component=velero, deploy=velero`; Velero's Helm chart
// labels it `name=velero`. The node-agent DaemonSet's pods also carry `component=velero` (with
// `name=node-agent`), so `component=velero` alone is not enough: it counts only with a container
// named `velero`, the name both installs give the server's container.

/** The fields read here; a Pod from a list or a watch event fits. */
export interface ServerPodLike {
  metadata?: { name?: string; uid?: string; labels?: Record<string, string>; deletionTimestamp?: unknown };
  spec?: { containers?: Array<{ name: string }> };
  status?: {
    phase?: string;
    containerStatuses?: Array<{
      name: string;
      restartCount?: number;
      containerID?: string;
      state?: { running?: unknown; waiting?: unknown; terminated?: unknown };
    }>;
  };
}

/** The failureReason Velero writes on the Backups it finds InProgress when its server starts. */
export const SERVER_START_FAILURE_REASON =
  'found a backup with status "InProgress" during the server starting, mark it as "Failed"';

export function isVeleroServerPod(pod: ServerPodLike): boolean {
  const labels = pod.metadata?.labels ?? {};
  if (labels.deploy === "velero" || labels.name === "velero") return true;
  return labels.component === "velero" && (pod.spec?.containers ?? []).some((c) => c.name === "velero");
}

/** The server container's status: the container named `velero`, else the pod's first. */
function serverContainer(pod: ServerPodLike) {
  const statuses = pod.status?.containerStatuses ?? [];
  return statuses.find((c) => c.name === "velero") ?? statuses[0];
}

/**
 * The running server process of a pod, as a key that changes when the process does: pod UID plus
 * the container's restart count and ID. Undefined when the server container is not running now.
 */
export function runningIncarnation(pod: ServerPodLike): string | undefined {
  if (!isVeleroServerPod(pod) || !pod.metadata?.uid) return undefined;
  if (pod.status?.phase !== "Running") return undefined;
  const c = serverContainer(pod);
  if (!c?.state?.running) return undefined;
  return `${pod.metadata.uid}/${c.restartCount ?? 0}/${c.containerID ?? ""}`;
}

/** The running server processes among `pods` (any namespace filtering is the caller's). */
export function runningIncarnations(pods: Iterable<ServerPodLike>): Set<string> {
  const out = new Set<string>();
  for (const p of pods) {
    const i = runningIncarnation(p);
    if (i) out.add(i);
  }
  return out;
}
