// Whether one resolved hook may be executed on a pod as it is now: the one rule the agent applies
// right before each exec and `backup plan` shows ahead of time, so plan never promises a hook the
// agent would refuse. Checked in this order: the hook's own blockers (Velero validates container and
// command before the pod phase), the pod's existence, its phase, then the hook container's state.
import type { ExecHook, PodLike } from "./types.js";

export type HookGate =
  | { kind: "run" }
  /** not executed; counted attempted, not failed (Velero's Succeeded/Failed pod rule) */
  | { kind: "skip"; reason: string }
  /** not executed; recorded as a failed hook with this error */
  | { kind: "fail"; reason: string };

export function hookGate(pod: PodLike | undefined, hook: Pick<ExecHook, "blockers" | "container">): HookGate {
  if (hook.blockers.length > 0)
    return { kind: "fail", reason: hook.blockers.map((f) => f.message).join("; ") };
  if (!pod) return { kind: "fail", reason: "pod no longer exists" };
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed")
    return { kind: "skip", reason: `Pod entered phase ${phase} before some post-backup exec hooks ran` };
  // Safer than Velero (which execs and gets a kubelet error): no exec into a pod that cannot run it.
  if (phase === "Pending")
    return {
      kind: "fail",
      reason: `pod is Pending: container ${JSON.stringify(hook.container)} is not running`,
    };
  const status = pod.status?.containerStatuses?.find((c) => c.name === hook.container);
  if (status && !status.state?.running)
    return { kind: "fail", reason: `container ${JSON.stringify(hook.container)} is not running` };
  return { kind: "run" };
}
