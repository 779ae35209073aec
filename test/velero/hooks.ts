// Velero's backup hook rules, written here from Velero's behaviour (not from src/domain, which is
// deliberately stricter): annotation hooks win over spec hooks per pod and phase, legacy keys for
// pre only, on-error copied only when exactly Continue/Fail (absent behaves like Continue: only a
// literal Fail stops anything), a command is a JSON argv only when it starts with `[` and parses,
// timeout 0 -> 30s and negative -> no timeout, and the HookTracker's counting.
import { formatGoDuration, goQuote, parseGoDuration } from "./go-format.js";
import { GoValue, type BackupLog, type Fields, type GoError } from "./logrus.js";
import { EXEC_ERROR_ORIGINS, execErrorOrigin, type VeleroVersion } from "./versions.js";

export type Phase = "pre" | "post";

export interface ExecHook {
  container: string;
  command: string[];
  onError: string;
  /** nanoseconds; 0 = default (30s), negative = no timeout */
  timeoutNs: number;
}

export interface SpecHook {
  exec?: { container?: string; command?: string[]; onError?: string; timeout?: string };
}

export interface ResourceHook {
  name: string;
  includedNamespaces?: string[] | null;
  excludedNamespaces?: string[] | null;
  includedResources?: string[] | null;
  excludedResources?: string[] | null;
  labelSelector?: LabelSelector | null;
  pre?: SpecHook[] | null;
  post?: SpecHook[] | null;
}

export interface LabelSelector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] | null }> | null;
}

const KEYS = {
  container: "hook.backup.velero.io/container",
  command: "hook.backup.velero.io/command",
  onError: "hook.backup.velero.io/on-error",
  timeout: "hook.backup.velero.io/timeout",
};

/** parseStringToCommand: JSON argv only if the first byte is `[` and it decodes as []string. */
export function parseCommand(value: string): string[] {
  if (value[0] !== "[") return [value];
  try {
    const v = JSON.parse(value);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
  } catch {
    // falls through: the whole string is one argv element
  }
  return [value];
}

/** getPodExecHookFromAnnotations for one key prefix ("pre", "post" or "" for the legacy keys). */
export function hookFromAnnotations(
  annotations: Record<string, string>,
  prefix: "pre" | "post" | "",
  warn: (msg: string) => void,
): ExecHook | undefined {
  const get = (k: string): string => annotations[prefix ? `${prefix}.${k}` : k] ?? "";
  const command = get(KEYS.command);
  if (command === "") return undefined;
  const onError = get(KEYS.onError);
  let timeoutNs = 0;
  const t = get(KEYS.timeout);
  if (t !== "") {
    const d = parseGoDuration(t);
    if (d.ok) timeoutNs = d.ns;
    else warn(`Unable to parse provided timeout ${t}, using default: ${d.error}`);
  }
  return {
    container: get(KEYS.container),
    command: parseCommand(command),
    onError: onError === "Continue" || onError === "Fail" ? onError : "",
    timeoutNs,
  };
}

// ---- selectors (namespaces/resources include-exclude with globs, label selectors) ----

/** gobwas/glob without separators: * any run, ? one char, [..] classes, {a,b} alternatives. */
export function globMatch(pattern: string, s: string): boolean {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) return false;
      let body = pattern.slice(i + 1, end);
      if (body.startsWith("!")) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, "\\\\")}]`;
      i = end;
    } else if (c === "{") {
      const end = pattern.indexOf("}", i + 1);
      if (end < 0) return false;
      re += `(?:${pattern
        .slice(i + 1, end)
        .split(",")
        .map(escapeRe)
        .join("|")})`;
      i = end;
    } else if (c === "\\" && i + 1 < pattern.length) re += escapeRe(pattern[++i]!);
    else re += escapeRe(c);
  }
  try {
    return new RegExp(`^${re}$`, "s").test(s);
  } catch {
    return false;
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** IncludesExcludes.ShouldInclude: an exclude match wins; empty includes or `*` include all. */
export function shouldInclude(
  includes: string[] | null | undefined,
  excludes: string[] | null | undefined,
  s: string,
  ignoreStarExclude = false,
): boolean {
  const ex = (excludes ?? []).filter((p) => !(ignoreStarExclude && p === "*"));
  if (ex.some((p) => globMatch(p, s))) return false;
  const inc = includes ?? [];
  return inc.length === 0 || inc.includes("*") || inc.some((p) => globMatch(p, s));
}

/** Resource names as discovery resolves them for core pods; anything else stays verbatim. */
export function resolveResource(name: string): string {
  return ["pods", "pod", "po"].includes(name.toLowerCase()) ? "pods" : name;
}

export type SelectorResult =
  { ok: true; matches: (labels: Record<string, string>) => boolean } | { ok: false; error: string };

/** metav1.LabelSelectorAsSelector, with its error for an unknown operator. */
export function labelSelector(sel: LabelSelector | null | undefined): SelectorResult {
  if (!sel) return { ok: true, matches: () => true };
  const reqs: Array<(l: Record<string, string>) => boolean> = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push((l) => l[k] === v);
  for (const e of sel.matchExpressions ?? []) {
    const values = e.values ?? [];
    switch (e.operator) {
      case "In":
        reqs.push((l) => e.key in l && values.includes(l[e.key]!));
        break;
      case "NotIn":
        reqs.push((l) => !(e.key in l) || !values.includes(l[e.key]!));
        break;
      case "Exists":
        reqs.push((l) => e.key in l);
        break;
      case "DoesNotExist":
        reqs.push((l) => !(e.key in l));
        break;
      default:
        return { ok: false, error: `"${e.operator}" is not a valid label selector operator` };
    }
  }
  return { ok: true, matches: (l) => reqs.every((r) => r(l)) };
}

export interface CompiledResourceHook {
  name: string;
  applies(namespace: string, labels: Record<string, string>): boolean;
  pre: SpecHook[];
  post: SpecHook[];
}

/** getResourceHooks: run once per backup; an invalid selector fails the whole backup. */
export function compileResourceHooks(
  resources: ResourceHook[] | null | undefined,
): { ok: true; hooks: CompiledResourceHook[] } | { ok: false; error: string } {
  const out: CompiledResourceHook[] = [];
  for (const r of resources ?? []) {
    const sel = labelSelector(r.labelSelector);
    if (!sel.ok) return sel;
    const includedResources = (r.includedResources ?? []).map(resolveResource);
    const excludedResources = (r.excludedResources ?? []).map(resolveResource);
    out.push({
      name: r.name ?? "",
      applies: (ns, labels) =>
        shouldInclude(r.includedNamespaces, r.excludedNamespaces, ns) &&
        shouldInclude(includedResources, excludedResources, "pods", true) &&
        sel.matches(labels),
      pre: r.pre ?? [],
      post: r.post ?? [],
    });
  }
  return { ok: true, hooks: out };
}

/** A spec hook's timeout as the Go decoder reads metav1.Duration; undefined = the Backup cannot be decoded. */
export function specTimeoutNs(t: string | undefined): number | undefined {
  if (t === undefined || t === "") return 0;
  const d = parseGoDuration(t);
  return d.ok ? d.ns : undefined;
}

// ---- HookTracker ----

export class HookTracker {
  private readonly hooks = new Map<string, { recorded: boolean }>();
  private attempted = 0;
  private failed = 0;

  constructor(private readonly withIndex: boolean) {}

  private key(
    ns: string,
    pod: string,
    container: string,
    source: string,
    name: string,
    phase: Phase,
    index: number,
  ): string {
    return JSON.stringify([ns, pod, container, source, name, phase, this.withIndex ? index : 0]);
  }

  add(
    ns: string,
    pod: string,
    container: string,
    source: string,
    name: string,
    phase: Phase,
    index: number,
  ): void {
    const k = this.key(ns, pod, container, source, name, phase, index);
    if (this.hooks.has(k)) return;
    this.hooks.set(k, { recorded: false });
    this.attempted++;
  }

  record(
    ns: string,
    pod: string,
    container: string,
    source: string,
    name: string,
    phase: Phase,
    index: number,
    failed: boolean,
  ): void {
    const h = this.hooks.get(this.key(ns, pod, container, source, name, phase, index));
    if (!h || h.recorded) return;
    h.recorded = true;
    if (failed) this.failed++;
  }

  stat(): { attempted: number; failed: number } {
    return { attempted: this.attempted, failed: this.failed };
  }
}

// ---- running the hooks of one pod and phase (HandleHooks + ExecutePodCommand) ----

export interface ExecOutcome {
  stdout: string;
  stderr: string;
  /** undefined = exit 0 */
  error?: GoError;
}

/** Runs argv in the pod; resolves when the stream ends (never rejects). */
export type PodExec = (
  namespace: string,
  pod: string,
  container: string,
  argv: string[],
) => Promise<ExecOutcome>;

export interface HookContext {
  version: VeleroVersion;
  log: BackupLog;
  tracker: HookTracker;
  exec: PodExec;
  resourceHooks: CompiledResourceHook[];
}

const DEFAULT_TIMEOUT_NS = 30e9;

/** The pod fields of a hook line: Velero <= 1.14 logged hooks with the item's logger. */
function podFields(ctx: HookContext, pod: any): Fields {
  return ctx.version.hookLinesCarryPod
    ? { name: pod.metadata.name, namespace: pod.metadata.namespace, resource: "pods" }
    : {};
}

/** HandleHooks: returns the error that stops the pod (only a literal `Fail`), or undefined. */
export async function handleHooks(ctx: HookContext, pod: any, phase: Phase): Promise<GoError | undefined> {
  const ns: string = pod.metadata.namespace;
  const name: string = pod.metadata.name;
  const annotations: Record<string, string> = pod.metadata.annotations ?? {};
  const base = podFields(ctx, pod);
  const warn = (msg: string): void => ctx.log.log("warning", msg, ctx.version.src.timeoutParse, base);
  const annotationHook =
    hookFromAnnotations(annotations, phase, warn) ??
    (phase === "pre" ? hookFromAnnotations(annotations, "", warn) : undefined);
  if (annotationHook) {
    ctx.tracker.add(ns, name, annotationHook.container, "annotation", "", phase, 0);
    const fields: Fields = { ...base, hookSource: "annotation", hookType: "exec", hookPhase: phase };
    const err = await executePodCommand(ctx, pod, "<from-annotation>", annotationHook, fields);
    if (err) ctx.log.log("error", "Error executing hook", ctx.version.src.annotationHookError, fields, err);
    ctx.tracker.record(ns, name, annotationHook.container, "annotation", "", phase, 0, err !== undefined);
    return err && annotationHook.onError === "Fail" ? err : undefined;
  }
  const labels: Record<string, string> = pod.metadata.labels ?? {};
  let modeFailError: GoError | undefined;
  for (const rh of ctx.resourceHooks) {
    if (!rh.applies(ns, labels)) continue;
    const list = phase === "pre" ? rh.pre : rh.post;
    for (let i = 0; i < list.length; i++) {
      const exec = list[i]?.exec;
      if (!exec) continue;
      const container = exec.container ?? "";
      ctx.tracker.add(ns, name, container, "spec", rh.name, phase, i);
      if (modeFailError) continue;
      const hook: ExecHook = {
        container,
        command: exec.command ?? [],
        onError: exec.onError ?? "",
        timeoutNs: specTimeoutNs(exec.timeout) ?? 0,
      };
      const fields: Fields = { ...base, hookSource: "spec", hookType: "exec", hookPhase: phase };
      const err = await executePodCommand(ctx, pod, rh.name, hook, fields);
      if (err) {
        ctx.log.log("error", "Error executing hook", ctx.version.src.specHookError, fields, err);
        if (exec.onError === "Fail") modeFailError = err;
      }
      ctx.tracker.record(ns, name, container, "spec", rh.name, phase, i, err !== undefined);
    }
  }
  return modeFailError;
}

/** ExecutePodCommand: checks and defaults on a local copy, phase skip, exec with the timer. */
async function executePodCommand(
  ctx: HookContext,
  pod: any,
  hookName: string,
  hook: ExecHook,
  fields: Fields,
): Promise<GoError | undefined> {
  if (hookName === "")
    return {
      message: "hookName is required",
      origin: execErrorOrigin(EXEC_ERROR_ORIGINS.hookNameRequired, "ExecutePodCommand"),
    };
  const containers: Array<{ name: string }> = pod.spec?.containers ?? [];
  let container = hook.container;
  if (container === "") {
    if (containers.length < 1)
      return {
        message: "need at least 1 container",
        origin: execErrorOrigin(EXEC_ERROR_ORIGINS.needContainer, "setDefaultHookContainer"),
      };
    container = containers[0]!.name;
  } else if (!containers.some((c) => c.name === container)) {
    return {
      message: `no such container: ${goQuote(container)}`,
      origin: execErrorOrigin(EXEC_ERROR_ORIGINS.noSuchContainer, "ensureContainerExists"),
    };
  }
  if (hook.command.length === 0)
    return {
      message: "command is required",
      origin: execErrorOrigin(EXEC_ERROR_ORIGINS.commandRequired, "ExecutePodCommand"),
    };
  const onError = hook.onError === "Fail" || hook.onError === "Continue" ? hook.onError : "Fail";
  const timeoutNs = hook.timeoutNs === 0 ? DEFAULT_TIMEOUT_NS : hook.timeoutNs;
  const timeoutText = formatGoDuration(timeoutNs);
  const hookFields: Fields = {
    ...fields,
    hookName,
    hookContainer: container,
    hookCommand: new GoValue(`[${hook.command.join(" ")}]`, hook.command),
    hookOnError: onError,
    hookTimeout: new GoValue(`{${timeoutText}}`, timeoutText),
  };
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") {
    ctx.log.log(
      "info",
      `Pod entered phase ${phase} before some post-backup exec hooks ran`,
      ctx.version.src.podPhaseSkip,
      hookFields,
    );
    return undefined;
  }
  ctx.log.log("info", "running exec hook", ctx.version.src.runningHook, hookFields);
  const run = ctx.exec(pod.metadata.namespace, pod.metadata.name, container, hook.command);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    if (timeoutNs > 0) timer = setTimeout(() => resolve("timeout"), Math.max(1, Math.round(timeoutNs / 1e6)));
  });
  const outcome = await Promise.race([run, timedOut]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    // Velero returns and leaves the stream (and the remote command) running.
    return {
      message: `timed out after ${timeoutText}`,
      origin: execErrorOrigin(EXEC_ERROR_ORIGINS.timedOut, "ExecutePodCommand"),
    };
  }
  ctx.log.log("info", `stdout: ${outcome.stdout}`, ctx.version.src.stdout, hookFields);
  ctx.log.log("info", `stderr: ${outcome.stderr}`, ctx.version.src.stderr, hookFields);
  return outcome.error;
}
