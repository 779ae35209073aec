// What the API server and kubelet decide from the pod object before anything runs: which container
// (pkg/registry/core/pod/strategy.go validateContainer/streamLocation), whether the pod has a node,
// whether the container is running (kubelet GetExec -> findContainer lists running containers
// only), and the container's environment and working directory.
import { badRequest, notFoundPod, type HttpStatusBody } from "./status.js";

export interface ContainerSpecLike {
  name: string;
  image?: string;
  workingDir?: string;
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
}

export type ContainerKind = "init" | "regular" | "ephemeral";

export interface ResolvedTarget {
  pod: any;
  container: ContainerSpecLike;
  kind: ContainerKind;
  podUid: string;
}

export type TargetResult = { ok: true; target: ResolvedTarget } | { ok: false; status: HttpStatusBody };

function list(x: unknown): ContainerSpecLike[] {
  return Array.isArray(x) ? (x as ContainerSpecLike[]).filter((c) => c && typeof c.name === "string") : [];
}

/** podutil.VisitContainers order: init containers, containers, ephemeral containers. */
function allContainers(pod: any): Array<{ c: ContainerSpecLike; kind: ContainerKind }> {
  const spec = pod?.spec ?? {};
  return [
    ...list(spec.initContainers).map((c) => ({ c, kind: "init" as const })),
    ...list(spec.containers).map((c) => ({ c, kind: "regular" as const })),
    ...list(spec.ephemeralContainers).map((c) => ({ c, kind: "ephemeral" as const })),
  ];
}

export function resolveTarget(pod: any, podName: string, namespace: string, requested: string): TargetResult {
  if (!pod) return { ok: false, status: notFoundPod(podName) };
  const regular = list(pod?.spec?.containers);
  const everything = allContainers(pod);
  let chosen: { c: ContainerSpecLike; kind: ContainerKind } | undefined;
  if (requested === "") {
    if (regular.length === 1) chosen = { c: regular[0] as ContainerSpecLike, kind: "regular" };
    else if (regular.length === 0)
      return { ok: false, status: badRequest(`a container name must be specified for pod ${podName}`) };
    else {
      // Go's %s of a []string: "[a b c]".
      const names = everything.map((e) => e.c.name).join(" ");
      return {
        ok: false,
        status: badRequest(
          `a container name must be specified for pod ${podName}, choose one of: [${names}]`,
        ),
      };
    }
  } else {
    chosen = everything.find((e) => e.c.name === requested);
    if (!chosen)
      return { ok: false, status: badRequest(`container ${requested} is not valid for pod ${podName}`) };
  }
  if (typeof pod?.spec?.nodeName !== "string" || pod.spec.nodeName === "") {
    return { ok: false, status: badRequest(`pod ${podName} does not have a host assigned`) };
  }
  const uid =
    typeof pod?.metadata?.uid === "string" && pod.metadata.uid !== ""
      ? pod.metadata.uid
      : `${namespace}/${podName}`;
  return { ok: true, target: { pod, container: chosen.c, kind: chosen.kind, podUid: uid } };
}

/**
 * Whether the kubelet would find the container among its running containers. A pod object that
 * carries no container statuses at all (hand-written test pods) counts as running when its phase is
 * Running; otherwise the container's own status must say running.
 */
export function containerIsRunning(t: ResolvedTarget): boolean {
  const status = t.pod?.status ?? {};
  const key =
    t.kind === "init"
      ? "initContainerStatuses"
      : t.kind === "ephemeral"
        ? "ephemeralContainerStatuses"
        : "containerStatuses";
  const statuses: any[] | undefined = Array.isArray(status[key]) ? status[key] : undefined;
  const anyStatuses = ["initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"].some(
    (k) => Array.isArray(status[k]) && status[k].length > 0,
  );
  if (!anyStatuses) return status.phase === "Running";
  const own = statuses?.find((s) => s?.name === t.container.name);
  return own?.state?.running !== undefined && own?.state?.running !== null;
}

export const CONTAINER_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The exec'd process environment, as containerd builds it: the image's defaults (our images set
 * only PATH), HOSTNAME, HOME, TERM for a tty, then the container's `env` with literal values.
 * Deliberately not modelled: `valueFrom` (secrets, config maps, field refs) is ignored, `$(VAR)`
 * references are not expanded, and no service-link variables (KUBERNETES_SERVICE_HOST, ...) are added.
 */
export function containerEnv(t: ResolvedTarget, podName: string, tty: boolean): Record<string, string> {
  const hostname =
    typeof t.pod?.spec?.hostname === "string" && t.pod.spec.hostname !== "" ? t.pod.spec.hostname : podName;
  const env: Record<string, string> = { PATH: CONTAINER_DEFAULT_PATH, HOSTNAME: hostname.slice(0, 63) };
  if (tty) env.TERM = "xterm";
  for (const e of t.container.env ?? []) {
    if (!e || typeof e.name !== "string" || e.name === "") continue;
    if (e.valueFrom !== undefined && e.value === undefined) continue;
    env[e.name] = typeof e.value === "string" ? e.value : "";
  }
  // containerd adds HOME for the process user when the image and spec leave it unset.
  env.HOME ??= "/root";
  return env;
}

export function containerWorkingDir(t: ResolvedTarget): string {
  const wd = t.container.workingDir;
  return typeof wd === "string" && wd.startsWith("/") ? wd : "/";
}
