// `hookguard lint --cluster`: the same checks as `hookguard lint`, on the live objects of a cluster
// (read through src/kube). A live object has no file or line, so a finding is located by
// `KIND NAMESPACE/NAME`; the rest of the line, the JSON keys and the exit codes are lint's.
import { validateObject } from "../domain/index.js";
import { auditCluster, type ClusterAuditTarget } from "../kube/hook-objects.js";
import type { LintFinding } from "./lint.js";
import { isObject } from "../domain/index.js";

export type ClusterFinding = Omit<LintFinding, "file" | "line">;

export interface ClusterReport {
  context: string;
  /** undefined: all namespaces. */
  namespace: string | undefined;
  findings: ClusterFinding[];
  /** Kinds that could not be listed (exit status 2: the audit is incomplete). */
  problems: Array<{ file: string; message: string }>;
  notes: string[];
  objectsChecked: number;
}

export async function lintCluster(
  target: ClusterAuditTarget,
): Promise<{ ok: true; value: ClusterReport } | { ok: false; error: string }> {
  const audit = await auditCluster(target);
  if (!audit.ok) return audit;
  const { context, namespace, objects, problems, notes } = audit.value;
  const report: ClusterReport = {
    context,
    namespace,
    findings: [],
    problems: problems.map((message) => ({ file: "cluster", message })),
    notes,
    objectsChecked: 0,
  };
  for (const obj of objects) {
    const result = validateObject(obj);
    if (!result.handled) continue;
    report.objectsChecked++;
    const meta = isObject(obj.metadata) ? obj.metadata : {};
    for (const f of result.findings) {
      report.findings.push({
        kind: result.kind ?? "",
        namespace: typeof meta.namespace === "string" ? meta.namespace : "",
        name: typeof meta.name === "string" ? meta.name : "",
        severity: f.severity,
        path: f.path,
        message: f.message,
        code: f.code,
      });
    }
  }
  return { ok: true, value: report };
}

/** lint's line without `FILE:LINE: `, so `grep ': error: '`-style filters need only `error: `. */
export function formatClusterText(f: ClusterFinding): string {
  const who = f.namespace ? `${f.namespace}/${f.name}` : f.name;
  return `${f.severity}: ${f.kind} ${who}: ${f.path}: ${f.message}`;
}

export function formatClusterJson(report: ClusterReport): string {
  const findings = report.findings.map(({ kind, namespace, name, severity, path, message, code }) => ({
    kind,
    namespace,
    name,
    severity,
    path,
    message,
    code,
  }));
  return JSON.stringify({
    context: report.context,
    namespace: report.namespace ?? null,
    findings,
    errorCount: findings.filter((f) => f.severity === "error").length,
    warningCount: findings.filter((f) => f.severity === "warning").length,
  });
}
