// The backup log as Velero writes it: logrus v1.9.3's TextFormatter (not a TTY: no colours, RFC3339
// time, keys time/level/msg then the other keys sorted bytewise, a value bare only when every
// character is in [A-Za-z0-9-._/@^+], else Go-quoted) or JSONFormatter (one object per line, keys
// sorted, HTML-escaped), Velero's hooks (logSource, error.file/error.function for errors that carry a
// pkg/errors stack) and the log counter that fills status.errors/warnings and the results file.
import { goQuote } from "./go-format.js";

export type Level = "debug" | "info" | "warning" | "error";
export type LogFormat = "text" | "json";

/** A value whose text (fmt.Sprint) and JSON renderings differ, e.g. []string or metav1.Duration. */
export class GoValue {
  constructor(
    readonly text: string,
    readonly json: unknown,
  ) {}
}

/** An error as Velero logs it: pkg/errors errors carry the location they were created at. */
export interface GoError {
  message: string;
  /** error.file / error.function, for errors built with github.com/pkg/errors. */
  origin?: { file: string; function: string };
}

export type FieldValue = string | number | boolean | GoValue;
export type Fields = Record<string, FieldValue>;

export interface LogEntry {
  time: Date;
  level: Level;
  msg: string;
  fields: Fields;
}

/** RFC3339 in UTC, second precision, like time.RFC3339 for a container in UTC. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function textValue(v: FieldValue): string {
  const s = v instanceof GoValue ? v.text : String(v);
  return s === "" || /^[A-Za-z0-9\-._/@^+]+$/.test(s) ? s : goQuote(s);
}

export function formatText(e: LogEntry): string {
  const parts = [`time=${textValue(rfc3339(e.time))}`, `level=${e.level}`];
  if (e.msg !== "") parts.push(`msg=${textValue(e.msg)}`);
  for (const k of Object.keys(e.fields).sort(byteOrder)) parts.push(`${k}=${textValue(e.fields[k]!)}`);
  return parts.join(" ");
}

/** Go's encoding/json with SetEscapeHTML(true): <, >, & and U+2028/U+2029 are escaped too. */
function goJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

export function formatJson(e: LogEntry): string {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.fields)) data[k] = v instanceof GoValue ? v.json : v;
  // prefixFieldClashes: a field named like a fixed key is kept as fields.<key>.
  for (const k of ["time", "msg", "level"]) {
    if (k in data) {
      data[`fields.${k}`] = data[k];
      delete data[k];
    }
  }
  data.time = rfc3339(e.time);
  data.msg = e.msg;
  data.level = e.level;
  const keys = Object.keys(data).sort(byteOrder);
  return `{${keys.map((k) => `${goJson(k)}:${goJson(data[k])}`).join(",")}}`;
}

function byteOrder(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}

/** results.Result as JSON: every key omitempty. */
export interface Result {
  velero?: string[];
  cluster?: string[];
  namespaces?: Record<string, string[]>;
}

/**
 * One backup's logger: every entry gets backup=<ns>/<name> and logSource; warnings and errors are
 * counted and collected into Velero's results, exactly as its LogHook does.
 */
export class BackupLog {
  readonly lines: string[] = [];
  readonly counts = { warning: 0, error: 0 };
  readonly results: { warnings: Result; errors: Result } = { warnings: {}, errors: {} };

  constructor(
    private readonly format: LogFormat,
    private readonly base: Fields,
    private readonly echo: (line: string) => void = () => undefined,
  ) {}

  /** The key logrus.ErrorKey has in this format. */
  get errorKey(): string {
    return this.format === "json" ? "error.message" : "error";
  }

  log(level: Level, msg: string, logSource: string, fields: Fields = {}, err?: GoError): void {
    const all: Fields = { ...this.base, ...fields };
    if (err) {
      all[this.errorKey] = err.message;
      if (err.origin) {
        all["error.file"] = err.origin.file;
        all["error.function"] = err.origin.function;
      }
    }
    all.logSource = logSource;
    const entry: LogEntry = { time: new Date(), level, msg, fields: all };
    if (level === "warning" || level === "error") this.count(entry);
    const line = this.format === "json" ? formatJson(entry) : formatText(entry);
    this.lines.push(line);
    this.echo(line);
  }

  private count(e: LogEntry): void {
    const bucket = e.level === "warning" ? "warning" : "error";
    this.counts[bucket]++;
    const f = e.fields;
    let text = "";
    if ("resource" in f) text += ` resource: /${plain(f.resource!)}`;
    if ("name" in f) text += ` name: /${plain(f.name!)}`;
    text += ` message: /${e.msg}`;
    if ("error" in f) text += ` error: /${plain(f.error!)}`;
    if ("error.message" in f) text += ` error: /${plain(f["error.message"]!)}`;
    const r = bucket === "warning" ? this.results.warnings : this.results.errors;
    if ("namespace" in f) {
      const ns = plain(f.namespace!);
      if (ns === "") (r.cluster ??= []).push(text);
      else ((r.namespaces ??= {})[ns] ??= []).push(text);
    } else (r.velero ??= []).push(text);
  }

  text(): string {
    return this.lines.map((l) => `${l}\n`).join("");
  }
}

function plain(v: FieldValue): string {
  return v instanceof GoValue ? v.text : String(v);
}

/** The results file: {"errors": Result, "warnings": Result} encoded by Go (keys sorted, HTML-escaped). */
export function resultsJson(results: { warnings: Result; errors: Result }): string {
  const sortResult = (r: Result): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    if (r.cluster?.length) out.cluster = r.cluster;
    if (r.namespaces && Object.keys(r.namespaces).length > 0) {
      out.namespaces = Object.fromEntries(
        Object.keys(r.namespaces)
          .sort(byteOrder)
          .map((k) => [k, r.namespaces![k]]),
      );
    }
    if (r.velero?.length) out.velero = r.velero;
    return out;
  };
  return `${goJson({ errors: sortResult(results.errors), warnings: sortResult(results.warnings) })}\n`;
}
