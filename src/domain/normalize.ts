// What the mutating webhook writes so each phase's effective hook is explicit on the pod:
// on-error (hookguard defaults to Fail where Velero behaves like Continue), timeout, container,
// and a single-word command in its JSON-array form. Invalid values are never rewritten.
import type { ExecHook, Phase, PodLike } from "./types.js";
import { HOOK_ANNOTATIONS, parsePodHooks } from "./annotations.js";
import { podView } from "./pod-view.js";

function phaseEdits(phase: Phase, hook: ExecHook | undefined, pod: PodLike): Array<{ key: string; value: string }> {
  if (!hook || hook.legacy) return []; // legacy hooks keep their keys: a warning already says to rename them
  const problems = [...hook.blockers, ...hook.warnings];
  if (problems.some((f) => f.severity === "error")) return [];
  const keys = HOOK_ANNOTATIONS[phase];
  const a = pod.metadata?.annotations ?? {};
  const edits: Array<{ key: string; value: string }> = [];
  const command = a[keys.command]!;
  if (!/\s/.test(command) && !command.startsWith("[")) edits.push({ key: keys.command, value: JSON.stringify([command]) });
  if (!a[keys.container] && hook.container) edits.push({ key: keys.container, value: hook.container });
  if (a[keys.onError] === undefined) edits.push({ key: keys.onError, value: "Fail" });
  if (a[keys.timeout] === undefined) edits.push({ key: keys.timeout, value: "30s" });
  return edits;
}

/** Annotation key/values to set; [] when nothing to change. Applying them makes a second call return []. */
export function normalizePodHooks(input: PodLike): Array<{ key: string; value: string }> {
  const pod = podView(input, "").pod;
  const parsed = parsePodHooks(pod);
  return [...phaseEdits("pre", parsed.pre, pod), ...phaseEdits("post", parsed.post, pod)];
}
