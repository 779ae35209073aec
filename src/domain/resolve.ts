// Which hooks run for one pod and phase (Velero HandleHooks, item_hook_handler.go L219-304):
// an annotation hook wins per pod per phase; otherwise applicable spec hooks in spec order.
import type { ExecHook, HookSource, Phase, PodLike, ResourceHookSpec } from "./types.js";
import { checkContainer, findContainer, fsfreezeFinding, parsePodHooks } from "./annotations.js";
import { podView } from "./pod-view.js";
import { whyNotApplicable } from "./selection.js";

export interface ResolvedPodHooks {
  source: HookSource | "none";
  hooks: ExecHook[];
  skipped: Array<{ reason: string; hookName?: string; source: HookSource }>;
}

/** A spec hook bound to one pod: container defaulted to the pod's first container and checked. */
function bindSpecHook(hook: ExecHook, pod: PodLike): ExecHook {
  const bound: ExecHook = {
    ...hook,
    blockers: [...hook.blockers],
    warnings: [...hook.warnings],
    argv: [...hook.argv],
  };
  const path = `spec.hooks.resources[${hook.resourceIndex}].${hook.phase}[${hook.index}].exec`;
  if (!hook.containerAsWritten) bound.container = pod.spec?.containers?.[0]?.name ?? "";
  const problem = hook.containerAsWritten
    ? checkContainer(pod, hook.containerAsWritten, `${path}.container`)
    : undefined;
  if (problem) bound.blockers.push(problem);
  else {
    const fsfreeze = fsfreezeFinding(bound.argv, findContainer(pod, bound.container), `${path}.command`);
    if (fsfreeze) bound.warnings.push(fsfreeze);
  }
  return bound;
}

export function resolvePodHooks(input: PodLike, specs: ResourceHookSpec[], phase: Phase): ResolvedPodHooks {
  const pod = podView(input, "").pod;
  const skipped: ResolvedPodHooks["skipped"] = [];
  const target = { namespace: pod.metadata?.namespace ?? "default", labels: pod.metadata?.labels ?? {} };
  const annotation = parsePodHooks(pod)[phase];
  const applicable: ResourceHookSpec[] = [];
  for (const spec of specs) {
    const why = whyNotApplicable(spec, target);
    if (why === null) applicable.push(spec);
    else if (spec[phase].length > 0) skipped.push({ reason: why, hookName: spec.name, source: "spec" });
  }
  if (annotation) {
    for (const spec of applicable) {
      for (const hook of spec[phase]) {
        skipped.push({
          reason: `the pod's ${phase} annotation hook overrides spec hooks for this phase`,
          hookName: hook.name,
          source: "spec",
        });
      }
    }
    return { source: "annotation", hooks: [annotation], skipped };
  }
  const hooks = applicable.flatMap((spec) => spec[phase].map((hook) => bindSpecHook(hook, pod)));
  return { source: hooks.length > 0 ? "spec" : "none", hooks, skipped };
}
