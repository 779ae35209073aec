// What the mutating webhook writes so each phase's effective hook is explicit on the pod:
// on-error (hookguard defaults to Fail where Velero behaves like Continue), timeout and container,
// each only where the key is absent. A value the user wrote is never replaced: GitOps tools (Argo
// CD, Flux) compare the live object with what is in git, and a rewritten value would show as drift
// forever. Where a present value could be made explicit (a plain single-word command, an empty
// container), the result says so as a warning instead. Invalid values are never touched.
import type { ExecHook, Finding, Phase, PodLike } from "./types.js";
import { HOOK_ANNOTATIONS, parsePodHooks } from "./annotations.js";
import { annotationPath, q, warning } from "./findings.js";
import { podView } from "./pod-view.js";

export interface Normalization {
  /** Annotation key/values to add; [] when nothing is missing. */
  edits: Array<{ key: string; value: string }>;
  /** Present values left as written that the user could make explicit. */
  warnings: Finding[];
}

function phaseEdits(
  phase: Phase,
  hook: ExecHook | undefined,
  pod: PodLike,
  prefix: string,
  out: Normalization,
): void {
  if (!hook || hook.legacy) return; // legacy hooks keep their keys: a warning already says to rename them
  const problems = [...hook.blockers, ...hook.warnings];
  if (problems.some((f) => f.severity === "error")) return;
  const keys = HOOK_ANNOTATIONS[phase];
  const a = pod.metadata?.annotations ?? {};
  const command = a[keys.command]!;
  if (!/\s/.test(command) && !command.startsWith("[")) {
    out.warnings.push(
      warning(
        "command-not-array",
        annotationPath(prefix, keys.command),
        `left as written; write ${JSON.stringify([command])} to make the argv explicit`,
      ),
    );
  }
  if (a[keys.container] === "" && hook.container) {
    out.warnings.push(
      warning(
        "container-empty",
        annotationPath(prefix, keys.container),
        `empty, so ${q(hook.container)} runs it; write that or drop the key`,
      ),
    );
  } else if (a[keys.container] === undefined && hook.container)
    out.edits.push({ key: keys.container, value: hook.container });
  if (a[keys.onError] === undefined) out.edits.push({ key: keys.onError, value: "Fail" });
  if (a[keys.timeout] === undefined) out.edits.push({ key: keys.timeout, value: "30s" });
}

/** What to add (applying it makes a second call add nothing) and what is left as written. */
export function normalizePodHooks(input: PodLike, pathPrefix = ""): Normalization {
  const pod = podView(input, "").pod;
  const parsed = parsePodHooks(pod);
  const out: Normalization = { edits: [], warnings: [] };
  phaseEdits("pre", parsed.pre, pod, pathPrefix, out);
  phaseEdits("post", parsed.post, pod, pathPrefix, out);
  return out;
}
