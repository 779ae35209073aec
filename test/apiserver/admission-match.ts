// Which webhooks a request reaches: rules (groups, versions, resources incl. subresources and
// wildcards, operations, scope), namespaceSelector, objectSelector and matchConditions — in the real
// dispatcher's order. A matchCondition error fails closed with failurePolicy Fail (403, like the real
// server) and skips the webhook with Ignore.
import type { AdmissionAttributes } from "./admission-types.js";
import { CelError, evaluateCel } from "./cel-subset.js";
import { RESOURCES } from "./resources.js";
import { matchesSelectorObject } from "./selectors.js";
import { forbidden, internalError } from "./status.js";
import type { ObjectStore } from "./store.js";

const NAMESPACES = RESOURCES.find((r) => r.kind === "Namespace")!;

function listHas(list: unknown, v: string): boolean {
  return Array.isArray(list) && (list.includes("*") || list.includes(v));
}

function resourceMatches(patterns: unknown, resource: string, sub: string): boolean {
  return (Array.isArray(patterns) ? patterns : []).some((p) => {
    const [pr, ps] = String(p).split("/") as [string, string | undefined];
    if (ps === undefined) return sub === "" && (pr === "*" || pr === resource);
    return (pr === "*" || pr === resource) && (ps === "*" || ps === sub);
  });
}

export function ruleMatches(rule: any, a: AdmissionAttributes): boolean {
  if (!listHas(rule.operations, a.operation)) return false;
  if (!listHas(rule.apiGroups, a.resource.group)) return false;
  if (!listHas(rule.apiVersions, a.resource.version)) return false;
  if (!resourceMatches(rule.resources, a.resource.plural, a.subresource)) return false;
  const scope = rule.scope ?? "*";
  if (scope === "Cluster" && a.namespace !== undefined) return false;
  if (scope === "Namespaced" && (a.namespace === undefined || a.resource.kind === "Namespace")) return false;
  return true;
}

function labelsOf(o: any): Record<string, string> | undefined {
  return o?.metadata?.labels;
}

/** false: skip the webhook; true: call it. Throws ApiError when a matchCondition fails closed. */
export function shouldCall(store: ObjectStore, wh: any, a: AdmissionAttributes): boolean {
  if (!(Array.isArray(wh.rules) ? wh.rules : []).some((r: any) => r && ruleMatches(r, a))) return false;
  try {
    if (a.resource.kind === "Namespace") {
      const nsObj = a.object ?? a.oldObject;
      if (!matchesSelectorObject(wh.namespaceSelector, labelsOf(nsObj))) return false;
    } else if (a.namespace !== undefined) {
      const ns = store.get(NAMESPACES, undefined, a.namespace);
      if (!matchesSelectorObject(wh.namespaceSelector, labelsOf(ns))) return false;
    }
    const objOk =
      matchesSelectorObject(wh.objectSelector, labelsOf(a.object)) ||
      (a.oldObject !== null && matchesSelectorObject(wh.objectSelector, labelsOf(a.oldObject)));
    if (!objOk) return false;
  } catch (e) {
    // An invalid selector in a stored configuration: the real dispatcher fails the request with it.
    throw internalError((e as Error).message);
  }
  const conditions: any[] = Array.isArray(wh.matchConditions) ? wh.matchConditions : [];
  if (conditions.length === 0) return true;
  const env = celEnv(a);
  const errors: string[] = [];
  for (const mc of conditions) {
    try {
      if (!evaluateCel(String(mc.expression ?? ""), env)) return false;
    } catch (e) {
      if (!(e instanceof CelError)) throw e;
      errors.push(`expression '${mc.expression}' resulted in error: ${e.message}`);
    }
  }
  if (errors.length === 0) return true;
  if ((wh.failurePolicy ?? "Fail") === "Ignore") return false;
  const gr = a.resource.group ? `${a.resource.plural}.${a.resource.group}` : a.resource.plural;
  const msg = errors.length === 1 ? errors[0]! : `[${errors.join(", ")}]`;
  // apierrors.NewForbidden(resource, name, err), as the dispatcher returns for failed match conditions.
  throw forbidden(`${gr} "${a.name}" is forbidden: ${msg}`, {
    name: a.name,
    ...(a.resource.group ? { group: a.resource.group } : {}),
    kind: a.resource.plural,
  });
}

/** The CEL variables of an admission matchCondition: object, oldObject, request. */
export function celEnv(a: AdmissionAttributes): Record<string, unknown> {
  return {
    object: a.object ?? null,
    oldObject: a.oldObject ?? null,
    request: {
      kind: { group: a.resource.group, version: a.resource.version, kind: a.kind ?? a.resource.kind },
      resource: { group: a.resource.group, version: a.resource.version, resource: a.resource.plural },
      subResource: a.subresource,
      requestKind: { group: a.resource.group, version: a.resource.version, kind: a.kind ?? a.resource.kind },
      requestResource: { group: a.resource.group, version: a.resource.version, resource: a.resource.plural },
      name: a.name,
      namespace: a.namespace ?? "",
      operation: a.operation,
      userInfo: {
        username: a.user.username,
        uid: a.user.uid,
        groups: a.user.groups,
        ...(a.user.extra ? { extra: a.user.extra } : {}),
      },
      dryRun: a.dryRun,
    },
  };
}
