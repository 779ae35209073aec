// Pod hook annotations -> typed hooks + findings. Mirrors Velero's getPodExecHookFromAnnotations
// (internal/hook/item_hook_handler.go) but reports every value Velero would silently drop.
import type {
  ContainerLike,
  ExecHook,
  Finding,
  OnError,
  Phase,
  PodHooksResult,
  PodLike,
  RawAnnotationHook,
} from "./types.js";
import { checkCommandAnnotation } from "./command.js";
import { nanosToMillis, parseGoDuration } from "./duration.js";
import {
  annotationPath,
  closest,
  error,
  q,
  shortValue,
  warning,
  whitespaceFix,
  withinEditDistance,
} from "./findings.js";
import { riskyCommandFindings } from "./risky-commands.js";
import { podView } from "./pod-view.js";
import { checkThawGuardAnnotation } from "./thaw-guard.js";

export const DEFAULT_TIMEOUT_MS = 30_000;

export const BACKUP_HOOK_FIELDS = ["container", "command", "on-error", "timeout"] as const;
export type BackupHookField = (typeof BACKUP_HOOK_FIELDS)[number];

export const PRE_HOOK_PREFIX = "pre.hook.backup.velero.io/";
export const POST_HOOK_PREFIX = "post.hook.backup.velero.io/";
/** Legacy un-phased keys: honoured for the pre phase only, when the pre command is absent/empty. */
export const LEGACY_HOOK_PREFIX = "hook.backup.velero.io/";
export const RESTORE_EXEC_PREFIX = "post.hook.restore.velero.io/";
export const RESTORE_INIT_PREFIX = "init.hook.restore.velero.io/";
export const RESTORE_EXEC_FIELDS = [
  "container",
  "command",
  "on-error",
  "exec-timeout",
  "wait-timeout",
  "wait-for-ready",
] as const;
export const RESTORE_INIT_FIELDS = ["container-image", "container-name", "command"] as const;

export type HookKeySet = Phase | "legacy";
const PREFIX: Record<HookKeySet, string> = {
  pre: PRE_HOOK_PREFIX,
  post: POST_HOOK_PREFIX,
  legacy: LEGACY_HOOK_PREFIX,
};

/** The annotation key for one field of one phase, e.g. hookAnnotationKey("pre", "timeout"). */
export function hookAnnotationKey(set: HookKeySet, field: BackupHookField): string {
  return PREFIX[set] + field;
}

/** All backup hook keys by phase and field, e.g. HOOK_ANNOTATIONS.pre.command. */
export const HOOK_ANNOTATIONS = {
  pre: keysOf("pre"),
  post: keysOf("post"),
  legacy: keysOf("legacy"),
} as const;
function keysOf(set: HookKeySet): { container: string; command: string; onError: string; timeout: string } {
  return {
    container: hookAnnotationKey(set, "container"),
    command: hookAnnotationKey(set, "command"),
    onError: hookAnnotationKey(set, "on-error"),
    timeout: hookAnnotationKey(set, "timeout"),
  };
}

const KEY_SETS: Array<{ prefix: string; fields: readonly string[] }> = [
  { prefix: PRE_HOOK_PREFIX, fields: BACKUP_HOOK_FIELDS },
  { prefix: POST_HOOK_PREFIX, fields: BACKUP_HOOK_FIELDS },
  { prefix: LEGACY_HOOK_PREFIX, fields: BACKUP_HOOK_FIELDS },
  { prefix: RESTORE_EXEC_PREFIX, fields: RESTORE_EXEC_FIELDS },
  { prefix: RESTORE_INIT_PREFIX, fields: RESTORE_INIT_FIELDS },
];
/** The prefixes of every hook annotation key Velero reads. */
export const HOOK_KEY_PREFIXES: readonly string[] = KEY_SETS.map((s) => s.prefix);
/** Every annotation key Velero reads for hooks. */
export const ALL_HOOK_ANNOTATION_KEYS: readonly string[] = KEY_SETS.flatMap((s) =>
  s.fields.map((f) => s.prefix + f),
);

export interface ParsePodHooksOptions {
  /** Prepended to field paths: "" for a Pod, "spec.template." for a Deployment. */
  pathPrefix?: string;
}

interface PhaseContext {
  pod: PodLike;
  prefix: string;
  phase: Phase;
  set: HookKeySet;
  raw: RawAnnotationHook;
}

function readRaw(annotations: Record<string, string>, set: HookKeySet): RawAnnotationHook {
  const raw: RawAnnotationHook = {};
  const k = HOOK_ANNOTATIONS[set];
  if (annotations[k.container] !== undefined) raw.container = annotations[k.container];
  if (annotations[k.command] !== undefined) raw.command = annotations[k.command];
  if (annotations[k.onError] !== undefined) raw.onError = annotations[k.onError];
  if (annotations[k.timeout] !== undefined) raw.timeout = annotations[k.timeout];
  return raw;
}

export function isValidOnError(value: string | undefined): value is OnError {
  return value === "Fail" || value === "Continue";
}

/** on-error check shared with spec hooks and restore annotations. */
export function onErrorFinding(value: string, path: string, field = "on-error"): Finding {
  const trimmed = value.trim();
  const match = ["Fail", "Continue"].find((v) => v.toLowerCase() === trimmed.toLowerCase());
  if (match === trimmed)
    return error("on-error-invalid", path, `${field} ${shortValue(value)} ${whitespaceFix(value)}`);
  const hint = match ? `values are case-sensitive; did you mean ${q(match)}?` : `use "Fail" or "Continue"`;
  return error("on-error-invalid", path, `${field} ${shortValue(value)} is not valid: ${hint}`);
}

function durationHint(value: string): string {
  const t = value.trim();
  if (/^\d+$/.test(t)) return `${t}s`;
  const days = /^(\d+)\s*d(ays?)?$/i.exec(t);
  if (days) return `${Number(days[1]) * 24}h`;
  const words = /^(\d+)\s*(seconds?|secs?|minutes?|mins?|hours?|hrs?)$/i.exec(t);
  if (words) return `${words[1]}${words[2]![0]!.toLowerCase()}`;
  return "30s";
}

export interface DurationCheck {
  /** nanoseconds when the value is a valid Go duration */
  ns?: number;
  findings: Finding[];
}

/** Go duration check for annotation and spec timeouts: invalid/negative are errors, 0 a warning. */
export function checkTimeout(value: string, path: string, field = "timeout"): DurationCheck {
  const parsed = parseGoDuration(value);
  if (!parsed.ok && value.trim() !== value && parseGoDuration(value.trim()).ok) {
    return {
      findings: [error("timeout-invalid", path, `${field} ${shortValue(value)} ${whitespaceFix(value)}`)],
    };
  }
  if (!parsed.ok) {
    return {
      findings: [
        error(
          "timeout-invalid",
          path,
          `${field} ${shortValue(value)} is not a Go duration${parsed.error.length <= 90 ? ` (${parsed.error})` : ""}; write e.g. ${q(durationHint(value))}`,
        ),
      ],
    };
  }
  if (parsed.value < 0) {
    return {
      ns: parsed.value,
      findings: [
        error(
          "timeout-negative",
          path,
          `${field} ${shortValue(value)} is negative: Velero then never times out; use e.g. "30s"`,
        ),
      ],
    };
  }
  if (parsed.value === 0) {
    return {
      ns: 0,
      findings: [
        warning(
          "timeout-zero",
          path,
          `${field} ${shortValue(value)} means the 30s default; write "30s" or drop it`,
        ),
      ],
    };
  }
  return { ns: parsed.value, findings: [] };
}

export function findContainer(pod: PodLike, name: string): ContainerLike | undefined {
  return (
    pod.spec?.containers?.find((c) => c.name === name) ??
    pod.spec?.initContainers?.find((c) => c.name === name)
  );
}

/** Container existence check: regular containers and native sidecars qualify, plain init containers do not. */
export function checkContainer(pod: PodLike, name: string, path: string): Finding | undefined {
  const containers = pod.spec?.containers ?? [];
  if (containers.length === 0 || containers.some((c) => c.name === name)) return undefined;
  const init = pod.spec?.initContainers?.find((c) => c.name === name);
  if (init?.restartPolicy === "Always") return undefined;
  if (init) {
    return error(
      "container-init",
      path,
      `container ${q(name)} is a plain init container; hooks run only in spec.containers or native sidecars`,
    );
  }
  if (name.trim() !== name && containers.some((c) => c.name === name.trim())) {
    return error("container-not-found", path, `container ${q(name)} ${whitespaceFix(name)}`);
  }
  const names = containers.map((c) => c.name).join(", ");
  const guess = closest(
    name,
    containers.map((c) => c.name),
  );
  const hint = guess ? `did you mean ${q(guess)}?` : `use one of: ${names}`;
  return error(
    "container-not-found",
    path,
    `container ${q(name)} is not in this pod (Velero: no such container); ${hint}`,
  );
}

function isPrivileged(c: ContainerLike | undefined): boolean {
  if (!c) return true; // unknown container: nothing to say
  if (c.securityContext?.privileged === true) return true;
  return (c.securityContext?.capabilities?.add ?? []).some(
    (cap) => cap === "SYS_ADMIN" || cap === "CAP_SYS_ADMIN" || cap === "ALL",
  );
}

export function fsfreezeFinding(
  argv: string[],
  container: ContainerLike | undefined,
  path: string,
): Finding | undefined {
  if (!argv.some((a) => /(^|[\s/;&|'"])fsfreeze(\s|$|[;&|'"])/.test(a)) || isPrivileged(container))
    return undefined;
  return warning(
    "fsfreeze-unprivileged",
    path,
    `fsfreeze fails in ${q(container!.name)} (not privileged); run it privileged or with SYS_ADMIN`,
  );
}

function buildHook(ctx: PhaseContext): { hook: ExecHook; findings: Finding[] } {
  const { pod, prefix, phase, set, raw } = ctx;
  const keys = HOOK_ANNOTATIONS[set];
  const commandPath = annotationPath(prefix, keys.command);
  const cmd = checkCommandAnnotation(raw.command!, commandPath);
  const blockers = [...cmd.blockers];
  const warnings = [...cmd.warnings];

  const containerAsWritten = raw.container ?? "";
  const container = containerAsWritten || (pod.spec?.containers?.[0]?.name ?? "");
  const containerProblem = containerAsWritten
    ? checkContainer(pod, containerAsWritten, annotationPath(prefix, keys.container))
    : undefined;
  if (containerProblem) blockers.push(containerProblem);
  else {
    const fsfreeze = fsfreezeFinding(cmd.argv, findContainer(pod, container), commandPath);
    if (fsfreeze) warnings.push(fsfreeze);
  }

  let onError: OnError = "Fail"; // hookguard's documented choice; Velero behaves like Continue here
  const onErrorExplicit = isValidOnError(raw.onError);
  if (onErrorExplicit) onError = raw.onError as OnError;
  else if (raw.onError !== undefined)
    warnings.push(onErrorFinding(raw.onError, annotationPath(prefix, keys.onError)));

  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (raw.timeout === "") {
    warnings.push(
      warning(
        "timeout-empty",
        annotationPath(prefix, keys.timeout),
        `timeout is empty, so the 30s default applies; write "30s" or drop it`,
      ),
    );
  } else if (raw.timeout !== undefined) {
    const t = checkTimeout(raw.timeout, annotationPath(prefix, keys.timeout));
    warnings.push(...t.findings);
    if (t.ns !== undefined && t.ns > 0) timeoutMs = nanosToMillis(t.ns);
  }

  const hook: ExecHook = {
    phase,
    source: "annotation",
    name: "",
    index: 0,
    resourceIndex: -1,
    containerAsWritten,
    container,
    argv: cmd.argv,
    onError,
    onErrorExplicit,
    timeoutMs,
    legacy: set === "legacy",
    blockers,
    warnings,
  };
  // Advice about what the command achieves stays out of hook.warnings: the agent counts those as
  // configuration warnings of the Backup, and these hooks run exactly as written.
  const advice = containerProblem
    ? []
    : riskyCommandFindings(cmd.argv, findContainer(pod, container), commandPath);
  return { hook, findings: [...blockers, ...warnings, ...advice] };
}

/** Warnings for container/on-error/timeout (and an empty command) of a key set that defines no hook. */
function ignoredKeys(prefix: string, set: HookKeySet, raw: RawAnnotationHook, why: string): Finding[] {
  const keys = HOOK_ANNOTATIONS[set];
  const out: Finding[] = [];
  if (raw.command === "") {
    out.push(
      warning(
        "command-empty",
        annotationPath(prefix, keys.command),
        `command is empty, so no ${set === "post" ? "post" : "pre"} hook is defined; set it or drop it`,
      ),
    );
  }
  const pairs: Array<[string | undefined, string]> = [
    [raw.container, keys.container],
    [raw.onError, keys.onError],
    [raw.timeout, keys.timeout],
  ];
  for (const [value, key] of pairs) {
    if (value !== undefined) out.push(warning("ignored-without-command", annotationPath(prefix, key), why));
  }
  return out;
}

const hasAny = (raw: RawAnnotationHook): boolean => Object.keys(raw).length > 0;

function parsePre(
  pod: PodLike,
  prefix: string,
  pre: RawAnnotationHook,
  legacy: RawAnnotationHook,
): { hook?: ExecHook; findings: Finding[] } {
  const findings: Finding[] = [];
  if (pre.command) {
    const built = buildHook({ pod, prefix, phase: "pre", set: "pre", raw: pre });
    for (const key of Object.values(HOOK_ANNOTATIONS.legacy)) {
      if (pod.metadata?.annotations?.[key] !== undefined) {
        findings.push(
          warning(
            "legacy-with-pre",
            annotationPath(prefix, key),
            `legacy key ignored: pre.hook.backup.velero.io/command is set; drop it`,
          ),
        );
      }
    }
    return { hook: built.hook, findings: [...built.findings, ...findings] };
  }
  if (legacy.command) {
    const built = buildHook({ pod, prefix, phase: "pre", set: "legacy", raw: legacy });
    findings.push(
      warning(
        "legacy-keys",
        annotationPath(prefix, HOOK_ANNOTATIONS.legacy.command),
        `legacy key (pre phase only); rename to pre.hook.backup.velero.io/*`,
      ),
      ...ignoredKeys(
        prefix,
        "pre",
        pre,
        "ignored: legacy hook.backup.velero.io keys define the pre hook; drop it",
      ),
    );
    return { hook: built.hook, findings: [...built.findings, ...findings] };
  }
  findings.push(
    ...ignoredKeys(
      prefix,
      "pre",
      pre,
      "ignored: no pre.hook.backup.velero.io/command; add it or drop this key",
    ),
  );
  if (hasAny(legacy))
    findings.push(
      ...ignoredKeys(
        prefix,
        "legacy",
        legacy,
        "ignored: no hook.backup.velero.io/command; add it or drop this key",
      ),
    );
  return { findings };
}

/**
 * Effective pre/post annotation hooks of a pod or pod template, with findings. A phase has a hook
 * iff its command value is non-empty; legacy keys count for pre only, when the pre command is empty.
 */
export function parsePodHooks(input: PodLike, opts: ParsePodHooksOptions = {}): PodHooksResult {
  const prefix = opts.pathPrefix ?? "";
  const { pod, findings: shapeFindings } = podView(input, prefix);
  const annotations = pod.metadata!.annotations!;
  const raw = {
    pre: readRaw(annotations, "pre"),
    post: readRaw(annotations, "post"),
    legacy: readRaw(annotations, "legacy"),
  };
  const result: PodHooksResult = { raw, findings: [...shapeFindings] };

  const pre = parsePre(pod, prefix, raw.pre, raw.legacy);
  if (pre.hook) result.pre = pre.hook;
  result.findings.push(...pre.findings);

  if (raw.post.command) {
    const built = buildHook({ pod, prefix, phase: "post", set: "post", raw: raw.post });
    result.post = built.hook;
    result.findings.push(...built.findings);
  } else {
    result.findings.push(
      ...ignoredKeys(
        prefix,
        "post",
        raw.post,
        "ignored: no post.hook.backup.velero.io/command; add it or drop this key",
      ),
    );
  }
  result.findings.push(
    ...checkRestoreAnnotations(pod, prefix),
    ...unknownKeys(annotations, prefix),
    ...checkThawGuardAnnotation(annotations, prefix),
  );
  return result;
}

const VALID_KEYS = new Set(ALL_HOOK_ANNOTATION_KEYS);
const DOMAINS = KEY_SETS.map((s) => s.prefix.slice(0, -1));

/** Keys under a hook prefix (or a misspelt one) that Velero does not read: a silent no-op otherwise. */
function unknownKeys(annotations: Record<string, string>, prefix: string): Finding[] {
  const out: Finding[] = [];
  for (const key of Object.keys(annotations)) {
    if (VALID_KEYS.has(key)) continue;
    if (key === RESTORE_INIT_PREFIX + "timeout") {
      out.push(
        warning(
          "restore-init-timeout-unused",
          annotationPath(prefix, key),
          `Velero defines this key but never reads it; drop it`,
        ),
      );
      continue;
    }
    const slash = key.indexOf("/");
    const domain = slash < 0 ? key : key.slice(0, slash);
    const underPrefix = KEY_SETS.some((s) => key.startsWith(s.prefix));
    const nearPrefix = slash > 0 && DOMAINS.some((d) => withinEditDistance(d, domain, 2));
    if (!underPrefix && !nearPrefix) continue;
    const guess = closest(key, ALL_HOOK_ANNOTATION_KEYS);
    const hint = guess ? `did you mean ${q(guess)}?` : `valid keys end in ${BACKUP_HOOK_FIELDS.join(", ")}`;
    out.push(
      error(
        "unknown-key",
        annotationPath(prefix, key),
        `unknown hook annotation key, ignored by Velero; ${hint}`,
      ),
    );
  }
  return out;
}

const RESTORE_KEYS = ALL_HOOK_ANNOTATION_KEYS.filter(
  (k) => k.startsWith(RESTORE_EXEC_PREFIX) || k.startsWith(RESTORE_INIT_PREFIX),
);
const ex = (field: string): string => RESTORE_EXEC_PREFIX + field;
const init = (field: string): string => RESTORE_INIT_PREFIX + field;

// Go strconv.ParseBool
const GO_BOOLS = new Set(["1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"]);

/** Restore hook annotations: same command parser, durations, Go ParseBool booleans. */
export function checkRestoreAnnotations(pod: PodLike, prefix: string): Finding[] {
  const a = pod.metadata?.annotations ?? {};
  // Most pods have no restore hooks; this is on the webhook's hot path.
  if (!RESTORE_KEYS.some((key) => a[key] !== undefined)) return [];
  const out: Finding[] = [];
  const command = a[ex("command")];
  if (command) {
    const cmd = checkCommandAnnotation(command, annotationPath(prefix, ex("command")));
    out.push(...cmd.blockers, ...cmd.warnings);
    const container = a[ex("container")];
    if (container) {
      const f = checkContainer(pod, container, annotationPath(prefix, ex("container")));
      if (f) out.push(f);
    }
    const onError = a[ex("on-error")];
    if (onError !== undefined && !isValidOnError(onError))
      out.push(onErrorFinding(onError, annotationPath(prefix, ex("on-error"))));
    for (const field of ["exec-timeout", "wait-timeout"]) {
      const v = a[ex(field)];
      if (v !== undefined && v !== "")
        out.push(...checkTimeout(v, annotationPath(prefix, ex(field)), field).findings);
    }
    const ready = a[ex("wait-for-ready")];
    if (ready !== undefined && ready !== "" && !GO_BOOLS.has(ready)) {
      out.push(
        error(
          "bool-invalid",
          annotationPath(prefix, ex("wait-for-ready")),
          `wait-for-ready ${shortValue(ready)} is not a boolean; use "true" or "false"`,
        ),
      );
    }
  } else {
    for (const field of RESTORE_EXEC_FIELDS) {
      if (a[ex(field)] === undefined) continue;
      if (field === "command")
        out.push(
          warning(
            "command-empty",
            annotationPath(prefix, ex(field)),
            `command is empty, so no restore exec hook is defined`,
          ),
        );
      else
        out.push(
          warning(
            "ignored-without-command",
            annotationPath(prefix, ex(field)),
            `ignored: no post.hook.restore.velero.io/command; add it or drop this key`,
          ),
        );
    }
  }
  if (a[init("container-image")]) {
    const initCommand = a[init("command")];
    if (initCommand) {
      const cmd = checkCommandAnnotation(initCommand, annotationPath(prefix, init("command")));
      out.push(...cmd.blockers, ...cmd.warnings.filter((w) => w.code !== "fsfreeze-unprivileged"));
    }
  } else {
    for (const field of RESTORE_INIT_FIELDS) {
      if (a[init(field)] === undefined) continue;
      out.push(
        warning(
          "ignored-without-command",
          annotationPath(prefix, init(field)),
          `ignored: no init.hook.restore.velero.io/container-image; add it or drop it`,
        ),
      );
    }
  }
  return out;
}
