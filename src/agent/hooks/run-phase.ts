// One pod, one phase: re-read the pod, resolve its hooks through the domain (annotation beats spec,
// per pod and phase), register them all in the tracker, then run them in order under the pod's
// lock. on-error Fail (also the effective value when unset: hookguard follows the documentation,
// not Velero's Continue-like code) stops the remaining hooks, which stay counted as attempted.
import { resolvePodHooks } from "../../domain/index.js";
import type { ExecHook, Phase, PodLike, ResourceHookSpec } from "../../domain/index.js";
import { podRef, type RunContext } from "../runtime/run-context.js";
import { hookRecordBase, runHook } from "./exec-hook.js";
import { podKey } from "../runtime/pod-lock.js";
import type { HookKey } from "./tracker.js";

export interface PodPhaseOutcome {
  /** hooks resolved for this pod and phase */
  hooks: number;
  /** a hook with on-error Fail failed: the pod's remaining hooks did not run */
  failedFail: boolean;
  /** first error of a Fail-mode failure */
  error?: string;
  /** aborted (leadership lost / shutdown) before all hooks ran */
  aborted: boolean;
}

export function trackerKey(ref: { namespace: string; name: string }, hook: ExecHook): HookKey {
  return {
    namespace: ref.namespace,
    pod: ref.name,
    phase: hook.phase,
    source: hook.source,
    name: hook.name,
    containerAsWritten: hook.containerAsWritten,
    index: hook.index,
  };
}

/**
 * Runs `phase` hooks of `collected` (the pod as collected at backup start). The pod is re-read just
 * before its hooks so a pod that finished or was deleted meanwhile is seen as it is now.
 */
export async function runPodPhase(
  ctx: RunContext,
  collected: PodLike,
  phase: Phase,
  specs: ResourceHookSpec[],
): Promise<PodPhaseOutcome> {
  const ref = podRef(collected);
  return ctx.podLocks.run(podKey(ref.namespace, ref.name), async () => {
    if (ctx.signal.aborted) return { hooks: 0, failedFail: false, aborted: true };
    const fresh = await ctx.cluster.getPod(ref.namespace, ref.name);
    let pod: PodLike | undefined;
    let readError: string | undefined;
    if (fresh.ok) pod = fresh.value;
    else readError = `reading pod ${ref.namespace}/${ref.name}: ${fresh.error.message}`;
    // hooks are resolved on the current pod; when it is gone or unreadable, on the collected copy
    // so its hooks are still registered and recorded failed instead of silently vanishing
    const resolved = resolvePodHooks(pod ?? collected, specs, phase);
    const hooks = resolved.hooks;
    for (const hook of hooks) ctx.tracker.add(trackerKey(ref, hook));

    let failedFail = false;
    let error: string | undefined;
    for (const hook of hooks) {
      const key = trackerKey(ref, hook);
      if (failedFail) {
        // Velero: registered, neither executed nor recorded
        ctx.records.push(
          notRun(ref, hook, "not run: an earlier hook of this pod failed with on-error Fail", ctx.recovering),
        );
        ctx.metrics.hookHandled(ref.namespace, hook.phase, hook.source, "skipped");
        continue;
      }
      if (ctx.signal.aborted)
        return { hooks: hooks.length, failedFail, aborted: true, ...(error ? { error } : {}) };
      const effectivePod = readError ? undefined : pod;
      const record = readError
        ? await runHook(ctx, ref, undefined, {
            ...hook,
            blockers: [
              ...hook.blockers,
              { severity: "error", code: "pod-read", path: "", message: readError },
            ],
          })
        : await runHook(ctx, ref, effectivePod, hook);
      ctx.records.push(record);
      const isFailure = record.result === "failed" || record.result === "timed_out";
      ctx.tracker.record(key, isFailure);
      if (isFailure && hook.onError === "Fail") {
        failedFail = true;
        error = record.error;
      }
    }
    if (failedFail) {
      ctx.backupLog.recordError(`Error running ${phase} hooks for pod`, {
        namespace: ref.namespace,
        pod: ref.name,
        error,
      });
    }
    return { hooks: hooks.length, failedFail, aborted: false, ...(error ? { error } : {}) };
  });
}

function notRun(
  ref: { namespace: string; name: string },
  hook: ExecHook,
  error: string,
  recovered?: boolean,
) {
  return { ...hookRecordBase(ref, hook, recovered), result: "not_run" as const, durationMs: 0, error };
}
