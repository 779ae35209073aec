// Which namespaces a CREATE/UPDATE lets hooks run in *because of this request*: the input of the
// confused-deputy check. A request that does not add or change a hook needs no check (removing one
// never grants anything), so routine updates by users without exec rights keep working.
import { ALL_HOOK_ANNOTATION_KEYS, THAW_GUARD_ANNOTATION, podTemplateOf } from "../domain/index.js";
import type { KindInfo } from "./kinds.js";
import { isObject } from "../domain/index.js";

export interface ExecScope {
  /** Namespaces to check; "" means every namespace. */
  namespaces: string[];
  /** What is being set, for the denial message. */
  what: string;
}

export function hookExecScope(
  info: KindInfo,
  obj: unknown,
  old: unknown,
  requestNamespace: string,
): ExecScope | undefined {
  return info.hooks === "annotations"
    ? annotationScope(obj, old, requestNamespace)
    : specScope(info, obj, old);
}

function annotationsOf(obj: unknown): Record<string, string> {
  const template = obj === undefined ? undefined : podTemplateOf(obj);
  const annotations = template?.pod.metadata?.annotations;
  return isObject(annotations) ? annotations : {};
}

function annotationScope(obj: unknown, old: unknown, requestNamespace: string): ExecScope | undefined {
  const now = annotationsOf(obj);
  const before = annotationsOf(old);
  const changed = ALL_HOOK_ANNOTATION_KEYS.filter(
    (key) => now[key] !== undefined && now[key] !== before[key],
  );
  // Opting in to the thaw guard lets hookguard exec the pod's post hooks at times Velero would not
  // (after Velero was interrupted): it grants exec like a hook does. Opting out grants nothing.
  if (now[THAW_GUARD_ANNOTATION] === "enabled" && before[THAW_GUARD_ANNOTATION] !== "enabled")
    changed.push(THAW_GUARD_ANNOTATION);
  if (changed.length === 0) return undefined;
  const meta = isObject(obj) && isObject(obj.metadata) ? obj.metadata : {};
  const namespace = requestNamespace || (typeof meta.namespace === "string" ? meta.namespace : "");
  const template = podTemplateOf(obj);
  const where = template?.pathPrefix
    ? `the pod template's ${changed[0]} annotation`
    : `the ${changed[0]} annotation`;
  return { namespaces: [namespace], what: `setting a hook (${where})` };
}

function at(obj: unknown, path: readonly string[]): Record<string, unknown> {
  let node: unknown = obj;
  for (const step of path) node = isObject(node) ? node[step] : undefined;
  return isObject(node) ? node : {};
}

const GLOB_CHARS = /[*?[\]{}\\]/;

/** A namespace list as concrete names, or undefined when it is unrestricted or holds a pattern. */
function concrete(list: unknown): string[] | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const names = list.filter((n): n is string => typeof n === "string");
  return names.length === list.length && !names.some((n) => GLOB_CHARS.test(n)) ? names : undefined;
}

function specScope(info: KindInfo, obj: unknown, old: unknown): ExecScope | undefined {
  const spec = at(obj, info.path);
  const resources = Array.isArray(at(spec, ["hooks"]).resources)
    ? (at(spec, ["hooks"]).resources as unknown[])
    : [];
  const oldResources = at(at(old, info.path), ["hooks"]).resources;
  // An entry counts as changed unless an identical entry existed before (order changes are harmless).
  const previous = new Set(Array.isArray(oldResources) ? oldResources.map((r) => JSON.stringify(r)) : []);
  const changed = resources.filter((r) => !previous.has(JSON.stringify(r)));
  if (changed.length === 0) return undefined;
  // Hooks run where both the hook's and the backup's includedNamespaces reach; a pattern or an empty
  // list means "everywhere" at that level, so the check falls back to the other level, then cluster-wide.
  const backupLevel = concrete(spec.includedNamespaces);
  const namespaces = new Set<string>();
  for (const entry of changed) {
    const own = isObject(entry) ? concrete(entry.includedNamespaces) : undefined;
    for (const ns of own ?? backupLevel ?? [""]) namespaces.add(ns);
  }
  const path = [...info.path, "hooks"].join(".");
  return { namespaces: [...namespaces].sort(), what: `setting ${path} on a ${info.kind}` };
}
