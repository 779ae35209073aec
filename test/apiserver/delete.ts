// DELETE and DELETE-collection: preconditions, admission, finalizers, graceful pod deletion, the
// namespace controller's cleanup, and the real answer (the object for pods, namespaces and
// services; a Success Status for the rest).
import {
  admissionAttrs,
  dryRun,
  mustGet,
  NAMESPACES,
  options,
  type Call,
  type RestDeps,
} from "./rest-common.js";
import { readBody, sendJson } from "./http-util.js";
import { withKind } from "./list-watch.js";
import { groupVersion, RESOURCES, type ResourceDef } from "./resources.js";
import {
  checkFieldSelector,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from "./selectors.js";
import { badRequest, conflict, success } from "./status.js";

function deleteOptions(text: string): any {
  if (text.trim() === "") return {};
  try {
    const o = JSON.parse(text);
    return o && typeof o === "object" ? o : {};
  } catch (e) {
    throw badRequest(`error decoding DeleteOptions: ${(e as Error).message}`);
  }
}

export async function remove(
  deps: RestDeps,
  c: Call,
  ns: string | undefined,
  name: string,
  body?: any,
): Promise<void> {
  const out = await deleteOne(deps, c, ns, name, body ?? deleteOptions(await readBody(c.req)));
  sendJson(c.res, 200, out, c.warnings);
}

async function deleteOne(
  deps: RestDeps,
  c: Call,
  ns: string | undefined,
  name: string,
  opts: any,
): Promise<any> {
  const { r, query } = c;
  const old = mustGet(deps, r, ns, name);
  const isDry = dryRun(query, opts);
  const pre = opts.preconditions ?? {};
  if (pre.uid && pre.uid !== old.metadata.uid) {
    throw conflict(
      r,
      name,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`,
    );
  }
  if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
    throw conflict(
      r,
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
    );
  }
  const dOpts = options("DeleteOptions", query, stripKind(opts));
  const a = admissionAttrs(c, "DELETE", name, ns, null, withKind(r, old), isDry, dOpts);
  await deps.admission.mutate(a);
  await deps.admission.validate(a);
  if (isDry)
    return returnsObject(r)
      ? withKind(r, old)
      : success({ name, ...(r.group ? { group: r.group } : {}), kind: r.plural, uid: old.metadata.uid });

  const finalizers: string[] = old.metadata.finalizers ?? [];
  const graceful =
    r.kind === "Pod" &&
    deps.gracefulPodDeletion() &&
    !!old.spec?.nodeName &&
    Number(opts.gracePeriodSeconds ?? old.spec?.terminationGracePeriodSeconds ?? 30) > 0;
  if (finalizers.length > 0 || graceful || r.kind === "Namespace") {
    if (old.metadata.deletionTimestamp) return withKind(r, old);
    const grace = graceful
      ? Number(opts.gracePeriodSeconds ?? old.spec?.terminationGracePeriodSeconds ?? 30)
      : 0;
    old.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000)
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z");
    old.metadata.deletionGracePeriodSeconds = grace;
    if (r.kind === "Namespace") old.status = { ...(old.status ?? {}), phase: "Terminating" };
    const marked = deps.store.write(r, old, "MODIFIED");
    if (r.kind === "Namespace") setImmediate(() => finishNamespace(deps, name));
    return withKind(r, marked);
  }
  const last = deps.store.remove(r, ns, name);
  return returnsObject(r)
    ? withKind(r, last)
    : success({ name, ...(r.group ? { group: r.group } : {}), kind: r.plural, uid: old.metadata.uid });
}

/** The namespace controller: delete everything in it, then the namespace unless finalizers hold it. */
function finishNamespace(deps: RestDeps, name: string): void {
  for (const r of RESOURCES)
    if (r.namespaced && !r.createOnly)
      for (const o of deps.store.list(r, name)) deps.store.remove(r, name, o.metadata.name);
  const ns = deps.store.get(NAMESPACES, undefined, name);
  if (ns && (ns.metadata.finalizers ?? []).length === 0) deps.store.remove(NAMESPACES, undefined, name);
}

/** Registries with ReturnDeletedObject (pods, namespaces) answer with the object, others with a Status. */
function returnsObject(r: ResourceDef): boolean {
  return r.kind === "Pod" || r.kind === "Namespace" || r.kind === "Service";
}

function stripKind(o: any): any {
  const { kind: _k, apiVersion: _a, ...rest } = o ?? {};
  return rest;
}

export async function deleteCollection(deps: RestDeps, c: Call, ns: string | undefined): Promise<void> {
  const opts = deleteOptions(await readBody(c.req));
  const { r } = c;
  const sel = new URLSearchParams(c.query);
  const listed: any[] = [];
  const items = deps.store.list(r, ns);
  const labels = parseLabelSelector(sel.get("labelSelector"));
  const fields = parseFieldSelector(sel.get("fieldSelector"));
  checkFieldSelector(r.kind, fields);
  for (const o of items) {
    if (!matchesLabels(labels, o.metadata.labels) || !matchesFields(r.kind, fields, o)) continue;
    await deleteOne(deps, c, ns, o.metadata.name, opts);
    listed.push(withKind(r, o));
  }
  sendJson(
    c.res,
    200,
    {
      apiVersion: groupVersion(r),
      kind: `${r.kind}List`,
      metadata: { resourceVersion: String(deps.store.resourceVersion) },
      items: listed,
    },
    c.warnings,
  );
}
