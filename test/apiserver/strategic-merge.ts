// Strategic merge patch for built-in kinds: the subset of apimachinery's strategicpatch that kubectl's
// client-side apply and annotate produce. Lists are merged by their Go `patchMergeKey` (containers,
// volumes, env by name; container ports by containerPort; ...), primitive lists with strategy
// "merge" (finalizers) are unioned; the directives $patch (replace/delete/merge), $retainKeys,
// $setElementOrder/<field> and $deleteFromPrimitiveList/<field> are honoured.
import { ApiError, failure } from "./status.js";

interface ListMeta {
  mergeKey?: string;
  primitiveMerge?: boolean;
}

// Patch metadata from the Go struct tags of core/v1, apps/v1, batch/v1 and meta/v1.
const BY_FIELD: Record<string, ListMeta> = {
  containers: { mergeKey: "name" },
  initContainers: { mergeKey: "name" },
  ephemeralContainers: { mergeKey: "name" },
  volumes: { mergeKey: "name" },
  env: { mergeKey: "name" },
  volumeMounts: { mergeKey: "mountPath" },
  volumeDevices: { mergeKey: "devicePath" },
  imagePullSecrets: { mergeKey: "name" },
  hostAliases: { mergeKey: "ip" },
  resourceClaims: { mergeKey: "name" },
  schedulingGates: { mergeKey: "name" },
  topologySpreadConstraints: { mergeKey: "topologyKey" },
  ownerReferences: { mergeKey: "uid" },
  finalizers: { primitiveMerge: true },
  conditions: { mergeKey: "type" },
  // admissionregistration/v1: webhooks and their matchConditions merge by name.
  webhooks: { mergeKey: "name" },
  matchConditions: { mergeKey: "name" },
  ephemeralContainerStatuses: {},
};

function listMeta(path: string[], field: string): ListMeta {
  if (field === "ports") {
    // Container ports merge by containerPort, Service ports by port.
    return path.some((p) => p === "containers" || p === "initContainers" || p === "ephemeralContainers")
      ? { mergeKey: "containerPort" }
      : { mergeKey: "port" };
  }
  if (field === "conditions" && path.length > 0 && path[path.length - 1] !== "status") return {};
  return BY_FIELD[field] ?? {};
}

function isMap(v: unknown): v is Record<string, any> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function bad(message: string): ApiError {
  return new ApiError(failure(400, "BadRequest", message));
}

export function strategicMerge(original: any, patch: any): any {
  if (!isMap(patch)) throw bad("invalid JSON document");
  return mergeMap(isMap(original) ? structuredClone(original) : {}, patch, []);
}

function mergeMap(
  orig: Record<string, any>,
  patch: Record<string, any>,
  path: string[],
): Record<string, any> {
  const directive = patch.$patch;
  if (directive === "replace") {
    const { $patch: _, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (directive === "delete") return {};
  if (directive !== undefined && directive !== "merge") throw bad(`Unknown patch type: ${String(directive)}`);

  const retainKeys: unknown = patch.$retainKeys;
  const orders: Record<string, unknown[]> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === "$patch" || k === "$retainKeys") continue;
    if (k.startsWith("$setElementOrder/")) {
      orders[k.slice("$setElementOrder/".length)] = Array.isArray(v) ? v : [];
      continue;
    }
    if (k.startsWith("$deleteFromPrimitiveList/")) {
      const field = k.slice("$deleteFromPrimitiveList/".length);
      if (Array.isArray(orig[field]) && Array.isArray(v))
        orig[field] = orig[field].filter((x: unknown) => !v.includes(x));
      continue;
    }
    if (v === null) {
      delete orig[k];
    } else if (isMap(v)) {
      orig[k] = mergeMap(isMap(orig[k]) ? orig[k] : {}, v, [...path, k]);
      if (v.$patch === "delete") delete orig[k];
    } else if (Array.isArray(v)) {
      orig[k] = mergeList(Array.isArray(orig[k]) ? orig[k] : [], v, [...path, k], listMeta(path, k));
    } else {
      orig[k] = v;
    }
  }
  for (const [field, order] of Object.entries(orders)) {
    if (Array.isArray(orig[field])) orig[field] = applyOrder(orig[field], order, listMeta(path, field));
  }
  if (retainKeys !== undefined) {
    if (!Array.isArray(retainKeys)) throw bad("invalid patch: $retainKeys must be a list");
    for (const k of Object.keys(orig)) if (!retainKeys.includes(k)) delete orig[k];
  }
  return orig;
}

function mergeList(orig: any[], patch: any[], path: string[], meta: ListMeta): any[] {
  if (patch.some((e) => isMap(e) && e.$patch === "replace")) {
    return patch.filter((e) => !(isMap(e) && e.$patch === "replace")).map(stripDirectives);
  }
  if (meta.primitiveMerge) {
    const out = [...orig];
    for (const v of patch) if (!out.some((x) => JSON.stringify(x) === JSON.stringify(v))) out.push(v);
    return out;
  }
  const key = meta.mergeKey;
  if (!key) return patch.map(stripDirectives);
  const out = [...orig];
  for (const el of patch) {
    if (!isMap(el)) throw bad(`unable to find api field in struct for the merge key "${key}"`);
    if (!(key in el)) throw bad(`map: ${JSON.stringify(el)} does not contain declared merge key: ${key}`);
    const i = out.findIndex((o) => isMap(o) && o[key] === el[key]);
    if (el.$patch === "delete") {
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if (i >= 0) out[i] = mergeMap(structuredClone(out[i]), el, path);
    else out.push(mergeMap({}, el, path));
  }
  return out;
}

/** $setElementOrder: listed elements first, in the given order; others keep their relative order after. */
function applyOrder(list: any[], order: unknown[], meta: ListMeta): any[] {
  const keyOf = (e: any): unknown =>
    meta.mergeKey && isMap(e) ? e[meta.mergeKey] : isMap(order[0]) && isMap(e) ? undefined : e;
  const orderKeys = order.map((o) => (meta.mergeKey && isMap(o) ? o[meta.mergeKey] : o));
  const ordered: any[] = [];
  for (const k of orderKeys) {
    const found = list.find((e) => keyOf(e) === k);
    if (found !== undefined) ordered.push(found);
  }
  const rest = list.filter((e) => !ordered.includes(e));
  return [...ordered, ...rest];
}

function stripDirectives(v: any): any {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isMap(v)) return v;
  const out: Record<string, any> = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith("$")) out[k] = stripDirectives(x);
  return out;
}
