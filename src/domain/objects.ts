// Dispatch on apiVersion/kind: which objects carry hooks and where their pod template lives.
import type { Finding, PodLike, ResourceHookSpec } from "./types.js";
import { parsePodHooks } from "./annotations.js";
import { parseBackupHooks } from "./backup-spec.js";
import { error, warning } from "./findings.js";
import { parseSchedule } from "./schedule.js";
import { matchNamespace, resourceIncluded } from "./selection.js";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Workload kinds with `spec.template` (a pod template) and their API groups. */
const TEMPLATE_KINDS: Record<string, readonly string[]> = {
  Deployment: ["apps/v1", "apps/v1beta1", "apps/v1beta2", "extensions/v1beta1"],
  StatefulSet: ["apps/v1", "apps/v1beta1", "apps/v1beta2"],
  DaemonSet: ["apps/v1", "apps/v1beta2", "extensions/v1beta1"],
  ReplicaSet: ["apps/v1", "apps/v1beta2", "extensions/v1beta1"],
  ReplicationController: ["v1"],
  Job: ["batch/v1"],
};

/** The pod (template) inside a Pod or workload, with the path prefix of its fields. */
export function podTemplateOf(obj: unknown): { pod: PodLike; pathPrefix: string } | undefined {
  if (!isObject(obj)) return undefined;
  const kind = obj.kind;
  const apiVersion = String(obj.apiVersion ?? "");
  const spec = isObject(obj.spec) ? obj.spec : undefined;
  if (kind === "Pod" && apiVersion === "v1") return { pod: obj as PodLike, pathPrefix: "" };
  if (typeof kind === "string" && TEMPLATE_KINDS[kind]?.includes(apiVersion)) {
    const template = spec && isObject(spec.template) ? spec.template : {};
    return { pod: template as PodLike, pathPrefix: "spec.template." };
  }
  if (kind === "CronJob" && (apiVersion === "batch/v1" || apiVersion === "batch/v1beta1")) {
    const jobTemplate = spec && isObject(spec.jobTemplate) ? spec.jobTemplate : {};
    const jobSpec = isObject(jobTemplate.spec) ? jobTemplate.spec : {};
    const template = isObject(jobSpec.template) ? jobSpec.template : {};
    return { pod: template as PodLike, pathPrefix: "spec.jobTemplate.spec.template." };
  }
  return undefined;
}

/** Hook findings for any object hookguard understands; handled=false for every other kind. */
export function validateObject(obj: unknown): { handled: boolean; kind?: string; findings: Finding[] } {
  if (!isObject(obj)) return { handled: false, findings: [] };
  const kind = typeof obj.kind === "string" ? obj.kind : undefined;
  const template = podTemplateOf(obj);
  if (template) {
    return { handled: true, kind: kind!, findings: parsePodHooks(template.pod, { pathPrefix: template.pathPrefix }).findings };
  }
  if (obj.apiVersion === "velero.io/v1" && (kind === "Backup" || kind === "Schedule")) {
    const spec = isObject(obj.spec) ? obj.spec : {};
    const backupSpec = kind === "Backup" ? spec : isObject(spec.template) ? spec.template : {};
    const prefix = kind === "Backup" ? "spec." : "spec.template.";
    const parsed = parseBackupHooks(backupSpec.hooks, { pathPrefix: `${prefix}hooks` });
    const findings = [...parsed.findings, ...unreachableHooks(backupSpec, parsed.resources, prefix)];
    if (kind === "Schedule") {
      // the same grammar the agent (and Velero) runs the Schedule by
      const sched = parseSchedule(spec.schedule);
      if (!sched.ok) findings.unshift(error("invalid-schedule", "spec.schedule", sched.error));
    }
    return { handled: true, kind, findings };
  }
  return { handled: false, ...(kind ? { kind } : {}), findings: [] };
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/**
 * Hooks the Backup itself makes unreachable: only pods in the backup get hooks, so a backup that
 * excludes pods, or a hook limited to namespaces the backup does not include, never runs.
 */
function unreachableHooks(backupSpec: Record<string, unknown>, resources: ResourceHookSpec[], prefix: string): Finding[] {
  const withHooks = resources.filter((r) => r.pre.length + r.post.length > 0);
  if (withHooks.length === 0) return [];
  const included = strings(backupSpec.includedResources);
  const excluded = strings(backupSpec.excludedResources);
  if (!resourceIncluded("pods", included, excluded)) {
    const field = resourceIncluded("pods", included, []) ? "excludedResources" : "includedResources";
    return [warning("backup-excludes-pods", `${prefix}${field}`, `this backup does not include pods, so none of its hooks run`)];
  }
  const backupIncluded = strings(backupSpec.includedNamespaces);
  const backupExcluded = strings(backupSpec.excludedNamespaces);
  const out: Finding[] = [];
  for (const r of withHooks) {
    // only literal namespaces can be compared; a glob may match namespaces created later
    const literal = r.includedNamespaces.filter((ns) => !/[*?[\]{}\\]/.test(ns));
    if (literal.length === 0 || literal.length !== r.includedNamespaces.length) continue;
    if (literal.some((ns) => matchNamespace(ns, backupIncluded, backupExcluded))) continue;
    out.push(warning("hook-namespaces-not-in-backup", `${prefix}hooks.resources[${r.index}].includedNamespaces`, `none of these namespaces is in the backup, so the hook never runs`));
  }
  return out;
}
