// `hookguard lint`: parse sources (multi-document YAML, JSON, List kinds), run the domain's
// validateObject on every object, and attach file, line and object identity to each finding.
import { LineCounter, parseAllDocuments } from "yaml";
import { validateObject } from "../domain/index.js";
import type { Severity } from "../domain/index.js";
import type { InputProblem, LintSource } from "./inputs.js";
import { lineOf, type PathSegment } from "./locate.js";
import { isObject } from "../domain/index.js";

export interface LintFinding {
  file: string;
  line: number;
  kind: string;
  namespace: string;
  name: string;
  severity: Severity;
  path: string;
  message: string;
  code: string;
}

export interface LintReport {
  findings: LintFinding[];
  /** Unparseable sources (exit status 2). */
  problems: InputProblem[];
  objectsChecked: number;
}

function identity(obj: Record<string, unknown>): { namespace: string; name: string } {
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  return {
    namespace: typeof meta.namespace === "string" ? meta.namespace : "",
    name:
      typeof meta.name === "string"
        ? meta.name
        : typeof meta.generateName === "string"
          ? `${meta.generateName}*`
          : "",
  };
}

/** Lints one source; YAML syntax errors make it a problem (no partial findings for that file). */
export function lintSource(source: LintSource): LintReport {
  const counter = new LineCounter();
  const docs = parseAllDocuments(source.text, { lineCounter: counter, prettyErrors: false });
  const report: LintReport = { findings: [], problems: [], objectsChecked: 0 };
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const where = `line ${counter.linePos(err.pos[0]).line}: `;
      report.problems.push({
        file: source.file,
        message: `invalid YAML/JSON: ${where}${err.message.split("\n")[0]}`,
      });
      return { findings: [], problems: report.problems, objectsChecked: 0 };
    }
  }
  for (const doc of docs) {
    let value: unknown;
    try {
      value = doc.toJS(); // throws on alias bombs (maxAliasCount) and similar resource-exhaustion input
    } catch (err) {
      report.problems.push({
        file: source.file,
        message: `invalid YAML/JSON: ${err instanceof Error ? err.message : String(err)}`,
      });
      return { findings: [], problems: report.problems, objectsChecked: 0 };
    }
    if (!isObject(value)) continue;
    const objects: Array<{ obj: unknown; base: PathSegment[] }> =
      typeof value.kind === "string" && value.kind.endsWith("List") && Array.isArray(value.items)
        ? value.items.map((obj, i) => ({ obj, base: ["items", i] }))
        : [{ obj: value, base: [] }];
    const docLine = doc.contents?.range ? counter.linePos(doc.contents.range[0]).line : 1;
    for (const { obj, base } of objects) {
      const result = validateObject(obj);
      if (!result.handled || !isObject(obj)) continue;
      report.objectsChecked++;
      const id = identity(obj);
      for (const f of result.findings) {
        report.findings.push({
          file: source.file,
          line: lineOf(doc, counter, base, f.path) ?? docLine,
          kind: result.kind ?? "",
          ...id,
          severity: f.severity,
          path: f.path,
          message: f.message,
          code: f.code,
        });
      }
    }
  }
  report.findings.sort((a, b) => a.line - b.line);
  return report;
}

export function lintSources(sources: LintSource[]): LintReport {
  const all: LintReport = { findings: [], problems: [], objectsChecked: 0 };
  for (const source of sources) {
    const r = lintSource(source);
    all.findings.push(...r.findings);
    all.problems.push(...r.problems);
    all.objectsChecked += r.objectsChecked;
  }
  return all;
}

export function formatText(f: LintFinding): string {
  const who = f.namespace ? `${f.namespace}/${f.name}` : f.name;
  return `${f.file}:${f.line}: ${f.severity}: ${f.kind} ${who}: ${f.path}: ${f.message}`;
}

export function formatJson(report: LintReport): string {
  const findings = report.findings.map(
    ({ file, line, kind, namespace, name, severity, path, message, code }) => ({
      file,
      line,
      kind,
      namespace,
      name,
      severity,
      path,
      message,
      code,
    }),
  );
  return JSON.stringify({
    findings,
    errorCount: findings.filter((f) => f.severity === "error").length,
    warningCount: findings.filter((f) => f.severity === "warning").length,
  });
}

/** 0 clean, 1 errors (or warnings with --strict), 2 unreadable/unparseable input (or cluster kinds). */
export function exitCodeOf(
  report: Pick<LintReport, "problems"> & { findings: Array<{ severity: Severity }> },
  strict: boolean,
): 0 | 1 | 2 {
  if (report.problems.length > 0) return 2;
  if (report.findings.some((f) => f.severity === "error" || strict)) return 1;
  return 0;
}
