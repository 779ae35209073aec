// The thaw guard's rule, in one place: which pods' post hooks hookguard may run itself when Velero
// was interrupted between a pod's pre and post hooks (the companion agent), and the opt-in
// annotation's validation (the webhook and `hookguard lint`, through parsePodHooks).
//
// hookguard cannot know whether Velero ran a pod's pre hook before it died (the backup log is lost
// with the process). So it only runs post hooks that are safe either way:
// - a recognised thaw, `fsfreeze --unfreeze <path>` / `fsfreeze -u <path>` as the exact argv: on a
//   path that is not frozen it fails with "Invalid argument" and changes nothing; or
// - any post hook of a pod that opts in with `hookguard.io/thaw-guard: enabled`: its owner promises
//   the post hooks are idempotent and harmless on a pod that was never frozen.
// `hookguard.io/thaw-guard: disabled` keeps the guard away from a pod even with a recognised thaw.
import type { ExecHook, Finding, PodLike, ResourceHookSpec } from "./types.js";
import { annotationPath, error, q, shortValue } from "./findings.js";
import { resolvePodHooks } from "./resolve.js";

export const THAW_GUARD_ANNOTATION = "hookguard.io/thaw-guard";
export const THAW_GUARD_VALUES = ["enabled", "disabled"] as const;
export type ThawGuardSetting = (typeof THAW_GUARD_VALUES)[number];

/** The annotation's value check: anything but `enabled`/`disabled` is an error (never a silent no). */
export function checkThawGuardAnnotation(
  annotations: Record<string, string> | undefined,
  prefix: string,
): Finding[] {
  const value = annotations?.[THAW_GUARD_ANNOTATION];
  if (value === undefined || (THAW_GUARD_VALUES as readonly string[]).includes(value)) return [];
  const match = THAW_GUARD_VALUES.find((v) => v === value.trim().toLowerCase());
  const hint = match ? `did you mean ${q(match)}?` : `use "enabled" or "disabled"`;
  return [
    error(
      "thaw-guard-invalid",
      annotationPath(prefix, THAW_GUARD_ANNOTATION),
      `thaw-guard ${shortValue(value)} is not valid: ${hint}`,
    ),
  ];
}

/** The pod's setting; undefined when absent or invalid (an invalid value never opts in). */
export function thawGuardSetting(pod: PodLike): ThawGuardSetting | undefined {
  const v = pod.metadata?.annotations?.[THAW_GUARD_ANNOTATION];
  return (THAW_GUARD_VALUES as readonly string[]).includes(v ?? "") ? (v as ThawGuardSetting) : undefined;
}

/** The path of a recognised thaw (`fsfreeze --unfreeze <path>` or `-u`, exact argv), else undefined. */
export function recognisedThawPath(argv: readonly string[]): string | undefined {
  if (argv.length !== 3) return undefined;
  const [cmd, flag, path] = argv as [string, string, string];
  const base = cmd.slice(cmd.lastIndexOf("/") + 1);
  if (base !== "fsfreeze" || (flag !== "--unfreeze" && flag !== "-u")) return undefined;
  return path.startsWith("-") || path === "" ? undefined : path;
}

/**
 * A recognised thaw that failed only because its path was not frozen: util-linux fsfreeze exits 1
 * with "<path>: unfreeze failed: Invalid argument" (the kernel's EINVAL). Recorded as skipped.
 */
export function isNotFrozenFailure(argv: readonly string[], exitCode: number, stderr: string): boolean {
  return (
    recognisedThawPath(argv) !== undefined &&
    exitCode === 1 &&
    /unfreeze failed: Invalid argument/.test(stderr)
  );
}

export type ThawEligibility =
  /** no pre hook: Velero froze nothing through this pod's hooks; nothing to say */
  | { kind: "none" }
  /** may run: these post hooks, in order */
  | { kind: "eligible"; basis: "fsfreeze" | "opt-in"; post: ExecHook[] }
  /** must not run; `post` are the hooks a person should run by hand (may be empty) */
  | { kind: "not-eligible"; reason: string; post: ExecHook[] };

const shown = (h: ExecHook): string =>
  `${h.source === "annotation" ? "<from-annotation>" : h.name} (${JSON.stringify(h.argv)} in container ${h.container || "?"})`;

/**
 * Whether the thaw guard may run this pod's post hooks: its hooks resolve (Velero's rules: the
 * annotation wins per phase, spec selectors, legacy keys for pre) to a pre and a post hook, and every
 * post hook is a recognised thaw or the pod opted in. `specs` are the Backup's parsed spec hooks.
 */
export function thawEligibility(pod: PodLike, specs: ResourceHookSpec[]): ThawEligibility {
  const pre = resolvePodHooks(pod, specs, "pre").hooks;
  if (pre.length === 0) return { kind: "none" };
  const post = resolvePodHooks(pod, specs, "post").hooks;
  if (post.length === 0)
    return {
      kind: "not-eligible",
      reason: "the pod has a pre hook but no post hook: nothing to run; check what the pre hook left behind",
      post,
    };
  const setting = thawGuardSetting(pod);
  if (setting === "disabled")
    return { kind: "not-eligible", reason: `the pod has ${THAW_GUARD_ANNOTATION}: disabled`, post };
  const blocked = post.find((h) => h.blockers.length > 0);
  if (blocked)
    return {
      kind: "not-eligible",
      reason: `post hook ${shown(blocked)} cannot run: ${blocked.blockers.map((b) => b.message).join("; ")}`,
      post,
    };
  if (post.every((h) => recognisedThawPath(h.argv) !== undefined))
    return { kind: "eligible", basis: "fsfreeze", post };
  if (setting === "enabled") return { kind: "eligible", basis: "opt-in", post };
  const other = post.find((h) => recognisedThawPath(h.argv) === undefined)!;
  return {
    kind: "not-eligible",
    reason: `post hook ${shown(other)} is not a recognised thaw (fsfreeze --unfreeze <path>) and the pod does not opt in with ${THAW_GUARD_ANNOTATION}: enabled`,
    post,
  };
}
