// Velero's backup log (the gunzipped `<backup>-logs.gz` object) -> typed entries -> hook events.
// Pure: no I/O, never throws. Both of Velero's `--log-format`s are read, line by line, and a log may
// even mix them (it never does, but a line is judged on its own so one odd line costs one line):
// - text: logrus' TextFormatter: `time=… level=… msg=…` then the other keys sorted, a value bare
//   when every character is in [A-Za-z0-9-._/@^+], otherwise Go-quoted (strconv escapes, not JSON);
// - json: one object per line, the error under `error.message` instead of `error`.
// What each Velero version writes on its hook lines is in docs/velero-backup-log.md.

export type LogFormat = "text" | "json";

export interface LogEntry {
  /** 1-based line number in the log */
  line: number;
  format: LogFormat;
  time?: string;
  /** logrus level name: debug, info, warning, error, fatal, panic */
  level: string;
  msg: string;
  /** every other key; text values are strings, JSON values keep their JSON type */
  fields: Record<string, unknown>;
}

export interface ParsedLog {
  entries: LogEntry[];
  /** non-empty lines that are neither a logrus text entry nor a JSON entry (skipped) */
  garbageLines: number;
  /** first few garbage line numbers, for a log message */
  garbageSamples: number[];
}

const MAX_GARBAGE_SAMPLES = 5;

export function parseBackupLog(text: string): ParsedLog {
  const out: ParsedLog = { entries: [], garbageLines: 0, garbageSamples: [] };
  if (typeof text !== "string") return out;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.endsWith("\r") ? lines[i]!.slice(0, -1) : lines[i]!;
    if (raw.trim() === "") continue;
    const entry = raw.trimStart().startsWith("{") ? parseJsonLine(raw, i + 1) : parseTextLine(raw, i + 1);
    if (entry) out.entries.push(entry);
    else {
      out.garbageLines++;
      if (out.garbageSamples.length < MAX_GARBAGE_SAMPLES) out.garbageSamples.push(i + 1);
    }
  }
  return out;
}

function parseJsonLine(raw: string, line: number): LogEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const { time, level, msg, ...fields } = value as Record<string, unknown>;
  if (typeof level !== "string" || typeof msg !== "string") return undefined;
  return { line, format: "json", level, msg, fields, ...(typeof time === "string" ? { time } : {}) };
}

// Keys are whatever logrus was given; Velero's are plain words with dots (error.file).
const KEY = /^[A-Za-z0-9_.\-/@^+]+$/;

/** `key=value` pairs of a logrus text line; undefined when the line is not one. */
export function splitTextFields(raw: string): Record<string, string> | undefined {
  const fields: Record<string, string> = {};
  let i = 0;
  const n = raw.length;
  while (i < n) {
    while (i < n && raw[i] === " ") i++;
    if (i >= n) break;
    const eq = raw.indexOf("=", i);
    if (eq < 0) return undefined;
    const key = raw.slice(i, eq);
    if (!KEY.test(key)) return undefined;
    i = eq + 1;
    let value: string;
    if (raw[i] === '"') {
      const q = readGoQuoted(raw, i);
      if (!q) return undefined;
      value = q.value;
      i = q.end;
      if (i < n && raw[i] !== " ") return undefined;
    } else {
      const sp = raw.indexOf(" ", i);
      const end = sp < 0 ? n : sp;
      value = raw.slice(i, end);
      i = end;
    }
    fields[key] = value;
  }
  return fields;
}

function parseTextLine(raw: string, line: number): LogEntry | undefined {
  const all = splitTextFields(raw);
  if (!all) return undefined;
  const { time, level, msg, ...fields } = all;
  if (level === undefined || msg === undefined) return undefined;
  return { line, format: "text", level, msg, fields, ...(time !== undefined ? { time } : {}) };
}

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 7,
  b: 8,
  f: 12,
  n: 10,
  r: 13,
  t: 9,
  v: 11,
  "\\": 92,
  '"': 34,
  "'": 39,
};

/**
 * A Go `%q` string starting at `start` (the opening quote): strconv escapes, `\xNN` and octal bytes
 * (which may form UTF-8 together), `\uNNNN`, `\UNNNNNNNN`. undefined when unterminated or malformed.
 */
export function readGoQuoted(s: string, start: number): { value: string; end: number } | undefined {
  // most values have no escapes: one slice, no byte juggling
  const close = s.indexOf('"', start + 1);
  if (close < 0) return undefined;
  const backslash = s.indexOf("\\", start + 1);
  if (backslash < 0 || backslash > close) return { value: s.slice(start + 1, close), end: close + 1 };

  const parts: Buffer[] = [];
  let i = start + 1;
  let plainFrom = i;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '"') {
      parts.push(Buffer.from(s.slice(plainFrom, i), "utf8"));
      return { value: Buffer.concat(parts).toString("utf8"), end: i + 1 };
    }
    if (c !== "\\") {
      i++;
      continue;
    }
    parts.push(Buffer.from(s.slice(plainFrom, i), "utf8"));
    const e = s[i + 1];
    if (e === undefined) return undefined;
    if (Object.hasOwn(SIMPLE_ESCAPES, e)) {
      parts.push(Buffer.of(SIMPLE_ESCAPES[e]!));
      i += 2;
    } else if (e === "x") {
      const hex = s.slice(i + 2, i + 4);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      parts.push(Buffer.of(parseInt(hex, 16)));
      i += 4;
    } else if (e === "u" || e === "U") {
      const len = e === "u" ? 4 : 8;
      const hex = s.slice(i + 2, i + 2 + len);
      if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) return undefined;
      parts.push(Buffer.from(String.fromCodePoint(cp), "utf8"));
      i += 2 + len;
    } else if (e >= "0" && e <= "7") {
      // bytes as three octal digits (at most \377)
      const oct = s.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 255) return undefined;
      parts.push(Buffer.of(parseInt(oct, 8)));
      i += 4;
    } else {
      return undefined;
    }
    plainFrom = i;
  }
  return undefined;
}

// ------------------------------------------------------------------------------- hook events

export type HookPhase = "pre" | "post";
export type HookSourceName = "annotation" | "spec";

/** The pod a ≤1.14 hook line names (`name=… namespace=… resource=pods`). 1.15+ lines name none. */
export interface LogPodRef {
  namespace: string;
  name: string;
}

/** What `running exec hook`, `stdout:`, `stderr:` and the pod-phase line say about the hook. */
export interface LoggedHook {
  phase: HookPhase;
  source: HookSourceName;
  /** spec entry name; "" for annotation hooks (logged as `<from-annotation>`) */
  name: string;
  /** the container after Velero defaulted it to the pod's first container */
  container: string;
  /**
   * The command as Go prints a []string, without the brackets: argv joined by single spaces.
   * The text format loses argv boundaries, so this (not argv) is what hooks are matched on.
   */
  commandText: string;
  /** argv, when the log kept it (JSON format) */
  argv?: string[];
  /** Velero's effective on-error as logged (an unset value is logged as Fail) */
  onError: string;
  /** Go duration text, e.g. "30s", "2m30s" ("" when the line had none) */
  timeout: string;
}

interface EventBase {
  line: number;
  time?: string;
  /** ≤1.14 lines only */
  pod?: LogPodRef;
}

export type HookEvent =
  | (EventBase & { kind: "start"; hook: LoggedHook })
  | (EventBase & { kind: "output"; stream: "stdout" | "stderr"; text: string; hook: LoggedHook })
  /** the pod was Succeeded/Failed: not executed, counted attempted but not failed (Velero 1.13+) */
  | (EventBase & { kind: "pod-phase-skip"; podPhase: string; hook: LoggedHook })
  /** `Error executing hook`: carries phase and source only (plus the pod on ≤1.14) */
  | (EventBase & { kind: "error"; phase: HookPhase; source: HookSourceName; error: string })
  /** `Error running pre|post hooks for pod`: an on-error Fail hook stopped this pod's phase */
  | (EventBase & { kind: "pod-failed"; phase: HookPhase; podName: string; error: string })
  /** `failed to wait PVBs processed for the ItemBlock`: no post hook of that block ran */
  | (EventBase & { kind: "post-hooks-not-run"; error: string });

export interface HookEventsResult {
  events: HookEvent[];
  /** hook lines whose fields could not be read (missing phase/source...): skipped, counted */
  unreadable: number;
  garbageLines: number;
}

const asString = (v: unknown): string | undefined =>
  typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : undefined;

function phaseOf(v: unknown): HookPhase | undefined {
  return v === "pre" || v === "post" ? v : undefined;
}

/** `backupSpec` (≤1.12) and `spec` (1.13+) are the same thing. */
function sourceOf(v: unknown): HookSourceName | undefined {
  if (v === "annotation") return "annotation";
  if (v === "spec" || v === "backupSpec") return "spec";
  return undefined;
}

/** text `[a b c]` (Go slice print) or a JSON array. */
function commandOf(v: unknown): { commandText: string; argv?: string[] } | undefined {
  if (Array.isArray(v)) {
    const argv = v.map((x) => (typeof x === "string" ? x : JSON.stringify(x)));
    return { commandText: argv.join(" "), argv };
  }
  if (typeof v === "string") {
    const m = /^\[([\s\S]*)\]$/.exec(v);
    return { commandText: m ? m[1]! : v };
  }
  return undefined;
}

/** text `{30s}` (struct print of metav1.Duration) or JSON `"30s"`. */
function timeoutOf(v: unknown): string {
  const s = asString(v) ?? "";
  const m = /^\{(.*)\}$/.exec(s);
  return m ? m[1]! : s;
}

function loggedHook(f: Record<string, unknown>): LoggedHook | undefined {
  const phase = phaseOf(f.hookPhase);
  const source = sourceOf(f.hookSource);
  const command = commandOf(f.hookCommand);
  if (!phase || !source || !command) return undefined;
  const rawName = asString(f.hookName) ?? "";
  return {
    phase,
    source,
    name: rawName === "<from-annotation>" ? "" : rawName,
    container: asString(f.hookContainer) ?? "",
    ...command,
    onError: asString(f.hookOnError) ?? "",
    timeout: timeoutOf(f.hookTimeout),
  };
}

function podOf(f: Record<string, unknown>): LogPodRef | undefined {
  const name = asString(f.name);
  const namespace = asString(f.namespace);
  const resource = asString(f.resource);
  if (!name || !namespace || (resource !== undefined && resource !== "pods")) return undefined;
  return { namespace, name };
}

/** Text mode keeps the error under `error`, JSON mode under `error.message`. */
function errorOf(f: Record<string, unknown>): string {
  return asString(f["error.message"]) ?? asString(f.error) ?? "";
}

const POD_PHASE_SKIP = /^Pod entered phase (\S+) before some post-backup exec hooks ran$/;
// v1.15.0 only logged "post  hooks" with two spaces
const POD_FAILED = /^Error running (pre|post)\s+hooks for pod$/;

/** The hook events of a parsed log, in log order. */
export function extractHookEvents(log: ParsedLog): HookEventsResult {
  const result: HookEventsResult = { events: [], unreadable: 0, garbageLines: log.garbageLines };
  for (const e of log.entries) {
    const base: EventBase = { line: e.line, ...(e.time !== undefined ? { time: e.time } : {}) };
    const pod = podOf(e.fields);
    if (pod) base.pod = pod;
    const msg = e.msg;
    if (
      msg === "running exec hook" ||
      msg.startsWith("stdout: ") ||
      msg.startsWith("stderr: ") ||
      msg === "stdout:" ||
      msg === "stderr:" ||
      POD_PHASE_SKIP.test(msg)
    ) {
      // a user's own log line could start with "stdout: " too: only lines with hook fields count
      if (e.fields.hookPhase === undefined && msg !== "running exec hook") continue;
      const hook = loggedHook(e.fields);
      if (!hook) {
        result.unreadable++;
        continue;
      }
      if (msg === "running exec hook") result.events.push({ ...base, kind: "start", hook });
      else if (msg.startsWith("stdout:") || msg.startsWith("stderr:")) {
        result.events.push({
          ...base,
          kind: "output",
          stream: msg.startsWith("stdout:") ? "stdout" : "stderr",
          text: msg.slice(8),
          hook,
        });
      } else
        result.events.push({
          ...base,
          kind: "pod-phase-skip",
          podPhase: POD_PHASE_SKIP.exec(msg)![1]!,
          hook,
        });
      continue;
    }
    if (msg === "Error executing hook") {
      const phase = phaseOf(e.fields.hookPhase);
      const source = sourceOf(e.fields.hookSource);
      if (!phase || !source) {
        result.unreadable++;
        continue;
      }
      result.events.push({ ...base, kind: "error", phase, source, error: errorOf(e.fields) });
      continue;
    }
    const failed = POD_FAILED.exec(msg);
    if (failed) {
      const podName = asString(e.fields.name) ?? "";
      // this line names the pod (no namespace) on every version; it is not a ≤1.14 pod ref
      delete base.pod;
      result.events.push({
        ...base,
        kind: "pod-failed",
        phase: failed[1] as HookPhase,
        podName,
        error: errorOf(e.fields),
      });
      continue;
    }
    if (msg === "failed to wait PVBs processed for the ItemBlock") {
      delete base.pod;
      result.events.push({ ...base, kind: "post-hooks-not-run", error: errorOf(e.fields) });
    }
  }
  return result;
}
