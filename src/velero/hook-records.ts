// Velero-run hooks, as the companion reports them: the hook events of a backup log paired into one
// record per hook execution, then attributed to a pod. Pure: no I/O.
//
// Pairing. Velero runs one pod's hooks of a phase one after another in one goroutine and writes, per
// executed hook: `running exec hook` (all hook fields), then `stdout:` and `stderr:` (same fields)
// when the exec stream returned, then `Error executing hook` (phase and source only) if it failed.
// A timed-out hook writes no stdout/stderr, only `Error executing hook` "timed out after D". A hook
// rejected before exec (no such container, empty command) writes only the error line.
// - `stdout:` belongs to the oldest started, not yet returned execution with identical hook fields
//   (and the same pod on ≤1.14 logs); `stderr:` to the one whose stdout came last.
// - `Error executing hook` "timed out after D" belongs to the oldest execution of that phase and
//   source that has not returned and whose timeout is D; any other error to the execution of that
//   phase and source that returned last; a "no such container"/"command is required" error to none
//   (the hook never started: a record of its own, without command).
// - An execution that returned and got no error succeeded; one that never returned and got no error
//   has no result in the log and is reported failed, saying so.
// Limits: with one ItemBlock worker (Velero's default) hooks never overlap in the log: each starts
// after the previous one's last line, so a returned hook is finished when the next one starts and
// every pairing is exact. With `--item-block-worker-count` > 1 blocks run hooks concurrently and the
// log shows a hook starting while another has not returned; then a returned hook stays a candidate
// for a later error of its phase and source, and an error with several candidates is given to the
// one that returned last and marked `pairing: "ambiguous"` (two hooks may have swapped results).
// Concurrency that never shows as an overlap (hooks too quick to interleave) is not detected.
//
// Attribution. ≤1.14 lines carry `name`/`namespace`: the record names that pod. 1.15+ lines carry no
// pod: the record goes to the one pod in the Backup's scope whose resolved hooks (the domain module's
// precedence rules) hold a hook with that phase, source, name, container and command; with none or
// several, the record is unattributed. `Error running pre|post hooks for pod` (name only) narrows the
// candidates of the failure it follows.
import {
  resolvePodHooks,
  type ExecHook,
  type HookSource,
  type Phase,
  type PodLike,
  type ResourceHookSpec,
} from "../domain/index.js";
import type { HookEvent, LoggedHook, LogPodRef } from "./log-parse.js";

export type CompanionHookResult = "succeeded" | "failed" | "skipped";

export interface CompanionHookRecord {
  phase: Phase;
  source: HookSource;
  /** spec entry name; "" for an annotation hook; undefined when the log did not say (hook rejected before exec) */
  name?: string;
  container?: string;
  /** argv joined by spaces, as Velero's log prints it */
  commandText?: string;
  argv?: string[];
  onError?: string;
  timeout?: string;
  result: CompanionHookResult;
  error?: string;
  stdout?: string;
  stderr?: string;
  /** "" when unattributed */
  namespace: string;
  pod: string;
  attribution: "log" | "scope" | "unattributed";
  /** unattributed: how many pods in scope hold a matching hook (0 = none, >1 = several) */
  candidates?: number;
  /** "ambiguous" when concurrent ItemBlocks made the result pairing a guess (see the header) */
  pairing: "exact" | "ambiguous";
  /** line of the log where the record starts */
  line: number;
}

const MAX_OUTPUT = 4096;
const cap = (s: string): string => (s.length > MAX_OUTPUT ? `${s.slice(0, MAX_OUTPUT)}…[truncated]` : s);

export interface Execution {
  hook?: LoggedHook;
  phase: Phase;
  source: HookSource;
  pod?: LogPodRef;
  startLine: number;
  /** line of the execution's latest line (start, stdout, stderr) */
  lastLine: number;
  returnedLine?: number;
  stdout?: string;
  stderr?: string;
  result?: CompanionHookResult;
  error?: string;
  ambiguous: boolean;
  podNameHint?: string;
}

const samePod = (a?: LogPodRef, b?: LogPodRef): boolean =>
  a?.namespace === b?.namespace && a?.name === b?.name;

function sameHook(a: LoggedHook, b: LoggedHook): boolean {
  return (
    a.phase === b.phase &&
    a.source === b.source &&
    a.name === b.name &&
    a.container === b.container &&
    a.commandText === b.commandText &&
    a.onError === b.onError &&
    a.timeout === b.timeout
  );
}

// Errors Velero's executor returns before it starts the exec (no `running exec hook` line).
const REJECTED_BEFORE_EXEC = /^(no such container: |need at least 1 container$|command is required$)/;
const TIMED_OUT = /^timed out after (\S+)$/;

export interface Paired {
  executions: Execution[];
  /** a hook started while another had started and not returned: ItemBlocks ran concurrently */
  overlapped: boolean;
}

/**
 * Pairs the events into executions, in log order (see the header for the rules). `sequential`:
 * the log is known to hold no overlapping executions, so a hook that returned is finished (and
 * succeeded, if no error came) as soon as the next hook starts.
 */
export function pairHookEvents(events: HookEvent[], sequential = false): Paired {
  const execs: Execution[] = [];
  let overlapped = false;
  const fromHook = (hook: LoggedHook, line: number, pod?: LogPodRef): Execution => ({
    hook,
    phase: hook.phase,
    source: hook.source,
    ...(pod ? { pod } : {}),
    startLine: line,
    lastLine: line,
    ambiguous: false,
  });
  for (const ev of events) {
    switch (ev.kind) {
      case "start":
        for (const e of execs) {
          if (e.result !== undefined || !e.hook) continue;
          if (e.returnedLine === undefined) overlapped = true;
          else if (sequential) e.result = "succeeded";
        }
        execs.push(fromHook(ev.hook, ev.line, ev.pod));
        break;
      case "output": {
        const text = cap(ev.text);
        if (ev.stream === "stdout") {
          let x = execs.find(
            (e) =>
              e.hook &&
              e.returnedLine === undefined &&
              e.result === undefined &&
              sameHook(e.hook, ev.hook) &&
              samePod(e.pod, ev.pod),
          );
          if (!x) {
            x = fromHook(ev.hook, ev.line, ev.pod); // its start line is missing: keep what we know
            execs.push(x);
          }
          x.returnedLine = ev.line;
          x.lastLine = ev.line;
          x.stdout = text;
        } else {
          const open = execs.filter(
            (e) =>
              e.hook &&
              e.returnedLine !== undefined &&
              e.stderr === undefined &&
              e.result === undefined &&
              sameHook(e.hook, ev.hook) &&
              samePod(e.pod, ev.pod),
          );
          let x = open.at(-1);
          if (!x) {
            x = fromHook(ev.hook, ev.line, ev.pod);
            x.returnedLine = ev.line;
            execs.push(x);
          }
          x.lastLine = ev.line;
          x.stderr = text;
        }
        break;
      }
      case "pod-phase-skip": {
        const x = fromHook(ev.hook, ev.line, ev.pod);
        x.result = "skipped";
        x.error = `pod phase ${ev.podPhase}: not executed`;
        execs.push(x);
        break;
      }
      case "error": {
        const x = pairError(execs, ev);
        x.result = "failed";
        x.error = ev.error || "Error executing hook (no error text in the log)";
        x.lastLine = ev.line;
        break;
      }
      case "pod-failed": {
        // names the pod whose Fail hook just failed in this phase: the latest such failure
        const x = [...execs]
          .reverse()
          .find(
            (e) => e.result === "failed" && e.phase === ev.phase && !e.pod && e.podNameHint === undefined,
          );
        if (x && ev.podName) x.podNameHint = ev.podName;
        break;
      }
      case "post-hooks-not-run":
        break;
    }
  }
  return { executions: execs, overlapped };
}

function pairError(execs: Execution[], ev: Extract<HookEvent, { kind: "error" }>): Execution {
  const standalone = (): Execution => {
    const x: Execution = {
      phase: ev.phase,
      source: ev.source,
      startLine: ev.line,
      lastLine: ev.line,
      ambiguous: false,
    };
    if (ev.pod) x.pod = ev.pod;
    execs.push(x);
    return x;
  };
  if (REJECTED_BEFORE_EXEC.test(ev.error)) return standalone();
  const open = execs.filter(
    (e) =>
      e.hook &&
      e.result === undefined &&
      e.phase === ev.phase &&
      e.source === ev.source &&
      (!ev.pod || samePod(e.pod, ev.pod)),
  );
  const timeout = TIMED_OUT.exec(ev.error);
  let candidates: Execution[];
  if (timeout) {
    const waiting = open.filter((e) => e.returnedLine === undefined);
    const sameTimeout = waiting.filter((e) => e.hook!.timeout === timeout[1]);
    candidates = sameTimeout.length > 0 ? sameTimeout : waiting;
  } else {
    const returned = open.filter((e) => e.returnedLine !== undefined).sort((a, b) => b.lastLine - a.lastLine);
    candidates = returned.length > 0 ? returned : open.filter((e) => e.returnedLine === undefined);
  }
  const chosen = candidates[0];
  if (!chosen) return standalone();
  // several executions could own this error (concurrent ItemBlocks): the choice is a guess
  if (candidates.length > 1) chosen.ambiguous = true;
  return chosen;
}

// ------------------------------------------------------------------------------- attribution

export interface ScopeInput {
  /** the Backup's parsed spec hooks (domain `parseBackupHooks(...).resources`) */
  specs: ResourceHookSpec[];
  /** the live pods in the Backup's scope */
  pods: PodLike[];
}

interface PodHooks {
  pod: PodLike;
  hooks: Record<Phase, ExecHook[]>;
}

function resolveAll(scope: ScopeInput): PodHooks[] {
  return scope.pods.map((pod) => ({
    pod,
    hooks: {
      pre: resolvePodHooks(pod, scope.specs, "pre").hooks,
      post: resolvePodHooks(pod, scope.specs, "post").hooks,
    },
  }));
}

function matches(h: ExecHook, x: Execution, rejectedContainer: string | undefined): boolean {
  if (h.source !== x.source) return false;
  if (x.hook) {
    return (
      (x.source === "annotation" || h.name === x.hook.name) &&
      h.container === x.hook.container &&
      h.argv.join(" ") === x.hook.commandText
    );
  }
  // a hook rejected before exec: only phase and source are known, and the container it named
  return rejectedContainer === undefined || h.containerAsWritten === rejectedContainer;
}

function candidatePods(all: PodHooks[], x: Execution): PodLike[] {
  const rejected = x.hook ? undefined : /^no such container: "(.*)"$/.exec(x.error ?? "")?.[1];
  let pods = all.filter((p) => p.hooks[x.phase].some((h) => matches(h, x, rejected))).map((p) => p.pod);
  if (x.podNameHint !== undefined) pods = pods.filter((p) => p.metadata?.name === x.podNameHint);
  return pods;
}

/** One record per hook execution in the log, attributed to a pod where the rules allow. */
export function buildHookRecords(events: HookEvent[], scope: ScopeInput): CompanionHookRecord[] {
  // A log without overlapping hooks came from one ItemBlock worker: pair it again knowing that.
  const first = pairHookEvents(events);
  const execs = first.overlapped ? first.executions : pairHookEvents(events, true).executions;
  const resolved = resolveAll(scope);
  return execs.map((x) => {
    const base = {
      phase: x.phase,
      source: x.source,
      ...(x.hook
        ? {
            name: x.hook.name,
            container: x.hook.container,
            commandText: x.hook.commandText,
            ...(x.hook.argv ? { argv: x.hook.argv } : {}),
            onError: x.hook.onError,
            timeout: x.hook.timeout,
          }
        : {}),
      ...recordResult(x),
      ...(x.stdout !== undefined ? { stdout: x.stdout } : {}),
      ...(x.stderr !== undefined ? { stderr: x.stderr } : {}),
      pairing: x.ambiguous ? ("ambiguous" as const) : ("exact" as const),
      line: x.startLine,
    };
    if (x.pod) return { ...base, namespace: x.pod.namespace, pod: x.pod.name, attribution: "log" as const };
    const pods = candidatePods(resolved, x);
    if (pods.length === 1) {
      return {
        ...base,
        namespace: pods[0]!.metadata?.namespace ?? "",
        pod: pods[0]!.metadata?.name ?? "",
        attribution: "scope" as const,
      };
    }
    return { ...base, namespace: "", pod: "", attribution: "unattributed" as const, candidates: pods.length };
  });
}

function recordResult(x: Execution): { result: CompanionHookResult; error?: string } {
  if (x.result) return { result: x.result, ...(x.error !== undefined ? { error: x.error } : {}) };
  if (x.returnedLine !== undefined) return { result: "succeeded" };
  return {
    result: "failed",
    error: "the backup log has no result for this hook (no output and no error line)",
  };
}
