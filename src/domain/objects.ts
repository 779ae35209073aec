// Dispatch on apiVersion/kind: which objects carry hooks and where their pod template lives.
import type { Finding, PodLike, ResourceHookSpec } from "./types.js";
import { parsePodHooks } from "./annotations.js";
import { parseBackupHooks } from "./backup-spec.js";
import { annotationPath, error, shortValue, warning } from "./findings.js";
import { HOOK_KEY_PREFIXES } from "./annotations.js";
import { globCovers, globMatchesSomeNamespace, globsMeet } from "./glob-overlap.js";
import { parseSchedule } from "./schedule.js";
import { compileGlob, resourceIncluded } from "./selection.js";
import { isObject } from "./json.js";
import { hookedKindOf } from "./kinds.js";
import { THAW_GUARD_ANNOTATION } from "./thaw-guard.js";

/** The pod (template) inside a Pod or workload, with the path prefix of its fields. */
export function podTemplateOf(obj: unknown): { pod: PodLike; pathPrefix: string } | undefined {
  if (!isObject(obj)) return undefined;
  const row = hookedKindOf(obj.kind, obj.apiVersion);
  if (!row || row.hooks !== "annotations") return undefined;
  if (row.path.length === 0) return { pod: obj as PodLike, pathPrefix: "" };
  return { pod: stepInto(obj, row.path) as PodLike, pathPrefix: `${row.path.join(".")}.` };
}

/** The object at `path`; a missing step reads as empty (a workload without a template has no hooks). */
function stepInto(obj: Record<string, unknown>, path: readonly string[]): Record<string, unknown> {
  let at = obj;
  for (const step of path) at = isObject(at[step]) ? at[step] : {};
  return at;
}

/** Hook findings for any object hookguard understands; handled=false for every other kind. */
export function validateObject(obj: unknown): { handled: boolean; kind?: string; findings: Finding[] } {
  if (!isObject(obj)) return { handled: false, findings: [] };
  const kind = typeof obj.kind === "string" ? obj.kind : undefined;
  const template = podTemplateOf(obj);
  if (template) {
    const findings = parsePodHooks(template.pod, { pathPrefix: template.pathPrefix }).findings;
    if (kind === "Pod") return { handled: true, kind, findings };
    return {
      handled: true,
      kind: kind!,
      findings: [...misplacedHooks(obj, template.pathPrefix), ...findings],
    };
  }
  const row = hookedKindOf(kind, obj.apiVersion);
  if (row?.hooks === "spec") {
    const spec = isObject(obj.spec) ? obj.spec : {};
    const backupSpec = stepInto(obj, row.path);
    const prefix = `${row.path.join(".")}.`;
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

/**
 * Hook annotations on a workload's own metadata (or a CronJob's job template metadata): Velero
 * reads hooks from the pods it backs up, never from their owners, so these never run.
 */
function misplacedHooks(obj: Record<string, unknown>, templatePrefix: string): Finding[] {
  const spec = isObject(obj.spec) ? obj.spec : {};
  const jobTemplate = isObject(spec.jobTemplate) ? spec.jobTemplate : undefined;
  const places: Array<{ prefix: string; meta: unknown }> = [{ prefix: "", meta: obj.metadata }];
  if (jobTemplate) places.push({ prefix: "spec.jobTemplate.", meta: jobTemplate.metadata });
  const out: Finding[] = [];
  for (const { prefix, meta } of places) {
    const annotations = isObject(meta) && isObject(meta.annotations) ? meta.annotations : {};
    for (const key of Object.keys(annotations)) {
      if (key === THAW_GUARD_ANNOTATION) {
        out.push(
          error(
            "thaw-guard-on-workload",
            annotationPath(prefix, key),
            `hookguard reads the thaw-guard opt-in from the pods; move it to ${templatePrefix}metadata.annotations`,
          ),
        );
        continue;
      }
      if (!HOOK_KEY_PREFIXES.some((p) => key.startsWith(p))) continue;
      out.push(
        error(
          "hook-on-workload",
          annotationPath(prefix, key),
          `Velero runs only pods' hooks; move it to ${templatePrefix}metadata.annotations`,
        ),
      );
    }
  }
  return out;
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];

/**
 * Hooks the Backup itself makes unreachable: only pods in the backup get hooks, so a backup that
 * excludes pods, or a hook limited to namespaces the backup can never include, never runs.
 */
function unreachableHooks(
  backupSpec: Record<string, unknown>,
  resources: ResourceHookSpec[],
  prefix: string,
): Finding[] {
  const withHooks = resources.filter((r) => r.pre.length + r.post.length > 0);
  if (withHooks.length === 0) return [];
  const included = strings(backupSpec.includedResources);
  const excluded = strings(backupSpec.excludedResources);
  if (!resourceIncluded("pods", included, excluded)) {
    const field = resourceIncluded("pods", included, []) ? "excludedResources" : "includedResources";
    return [
      warning(
        "backup-excludes-pods",
        `${prefix}${field}`,
        `this backup does not include pods, so none of its hooks run`,
      ),
    ];
  }
  const backup = {
    included: strings(backupSpec.includedNamespaces),
    excluded: strings(backupSpec.excludedNamespaces),
  };
  const out: Finding[] = [];
  for (const r of withHooks) {
    if (!hookNamespacesOutsideBackup(r.includedNamespaces, backup)) continue;
    out.push(
      warning(
        "hook-namespaces-not-in-backup",
        `${prefix}hooks.resources[${r.index}].includedNamespaces`,
        outsideMessage(r.includedNamespaces, backup),
      ),
    );
  }
  return out;
}

const list = (patterns: string[]): string => patterns.map((p) => shortValue(p, 20)).join(",");

function outsideMessage(hook: string[], backup: { included: string[]; excluded: string[] }): string {
  const where = [
    ...(backup.included.length > 0 ? [`includes ${list(backup.included)}`] : []),
    ...(backup.excluded.length > 0 ? [`excludes ${list(backup.excluded)}`] : []),
  ].join(", ");
  return `hook namespaces ${list(hook)} are never in the backup (it ${where}), so it never runs; align them`;
}

/**
 * Whether no namespace can be in both the hook's includedNamespaces and the backup, provably (gobwas
 * globs included). Unknowable cases (an invalid or unmatchable pattern, reported elsewhere; a hook
 * for every namespace) are never reported.
 */
function hookNamespacesOutsideBackup(
  hook: string[],
  backup: { included: string[]; excluded: string[] },
): boolean {
  if (hook.length === 0 || hook.includes("*")) return false;
  const all = [...hook, ...backup.included, ...backup.excluded];
  if (all.some((p) => compileGlob(p) === null || globMatchesSomeNamespace(p) !== true)) return false;
  const backupAll = backup.included.length === 0 || backup.included.includes("*");
  const excludedCovers = (pattern: string) => backup.excluded.some((e) => globCovers(e, pattern) === true);
  return hook.every((h) => {
    if (excludedCovers(h)) return true;
    if (backupAll) return false;
    return backup.included.every((b) => globsMeet(h, b) === false || excludedCovers(b));
  });
}
