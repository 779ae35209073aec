// The REST handlers for resource requests, in the real server's order of steps: authorize, decode,
// default, mutating admission, system fields and validation (422), validating admission, then the
// store (409 AlreadyExists / Conflict). Writes end in the store; watchers and the kubelet and
// snapshot doubles see them through store events. Deletes are in delete.ts.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { UserInfo } from "./authn.js";
import { forbiddenError } from "./authz.js";
import { validateFields } from "./field-validation.js";
import { decodeBody } from "./decode-body.js";
import { deleteCollection, remove } from "./delete.js";
import { readBody, readBodyBuffer, sendJson } from "./http-util.js";
import { serveList, withKind } from "./list-watch.js";
import { applyPatch } from "./patch.js";
import type { RequestInfo } from "./request-info.js";
import { findResource, groupVersion, qualifiedName, type ResourceDef } from "./resources.js";
import {
  admissionAttrs,
  dryRun,
  mustGet,
  NAMESPACES,
  options,
  type Call,
  type RestDeps,
} from "./rest-common.js";
import { createReview } from "./sar.js";
import {
  alreadyExists,
  badRequest,
  conflict,
  forbidden,
  invalid,
  methodNotAllowed,
  namespaceNotFound,
  notFoundPath,
  OPTIMISTIC_LOCK_MESSAGE,
} from "./status.js";
import { toTable, wantsTable } from "./table.js";
import {
  applyDefaults,
  prepareForCreate,
  prepareForUpdate,
  resolveName,
  sameContent,
  validateObject,
  validateUpdate,
} from "./write-rules.js";

export type { RestDeps };

export async function handleResourceRequest(
  deps: RestDeps,
  req: IncomingMessage,
  res: ServerResponse,
  info: RequestInfo,
  user: UserInfo,
  query: URLSearchParams,
  warnings: string[],
): Promise<void> {
  const r = findResource(info.group, info.version, info.resource);
  if (!r) throw notFoundPath();
  if (info.subresource && !(r.subresources as string[]).includes(info.subresource)) throw notFoundPath();
  if (!r.namespaced && info.namespace !== undefined && r.kind !== "Namespace") throw notFoundPath();
  if (r.namespaced && info.namespace === undefined && info.verb !== "list" && info.verb !== "watch")
    throw notFoundPath();

  const ns = r.namespaced ? info.namespace : undefined;
  const attrs = {
    user: user.username,
    groups: user.groups,
    verb: info.verb,
    group: r.group,
    resource: r.plural,
    subresource: info.subresource || undefined,
    namespace: ns,
    name: info.name,
  };
  // The bootstrap role system:basic-user lets every authenticated user ask about themselves.
  const selfReview = r.kind === "SelfSubjectAccessReview" && info.verb === "create";
  if (!selfReview && !deps.policy.allows(attrs)) throw forbiddenError(attrs, user);

  const call: Call = { req, res, info, r, user, query, warnings };
  if (r.createOnly) {
    if (info.verb !== "create" || info.name) throw methodNotAllowed();
    return createReview(deps, call);
  }
  if (info.subresource === "exec") {
    if (info.verb !== "get" && info.verb !== "create") throw methodNotAllowed();
    return deps.execWithoutUpgrade(req, res, ns!, info.name!, user);
  }
  switch (info.verb) {
    case "get": {
      const o = mustGet(deps, r, ns, info.name!);
      if (wantsTable(req.headers.accept) && !info.subresource)
        return sendJson(res, 200, toTable(r, [o], o.metadata.resourceVersion), warnings);
      return sendJson(res, 200, withKind(r, o), warnings);
    }
    case "list":
      return serveList(req, res, deps.store, r, ns, query);
    case "watch":
      return deps.watches.serve(req, res, r, ns, query);
    case "create":
      if (info.name && !info.subresource) throw methodNotAllowed();
      if (info.subresource) throw methodNotAllowed();
      return create(deps, call, ns);
    case "update":
      if (!info.name) throw methodNotAllowed();
      return update(deps, call, ns, info.name!, decodeBody(req, r, await readBodyBuffer(req)));
    case "patch":
      if (!info.name) throw methodNotAllowed();
      return patch(deps, call, ns, info.name!);
    case "delete":
      if (info.subresource) throw methodNotAllowed();
      return remove(deps, call, ns, info.name!);
    case "deletecollection":
      return deleteCollection(deps, call, ns);
    default:
      throw methodNotAllowed();
  }
}

function checkNamespace(r: ResourceDef, obj: any, ns: string | undefined): void {
  if (!r.namespaced) {
    delete obj.metadata.namespace;
    return;
  }
  if (obj.metadata.namespace === undefined || obj.metadata.namespace === "") obj.metadata.namespace = ns;
  else if (obj.metadata.namespace !== ns)
    throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
}

async function create(deps: RestDeps, c: Call, ns: string | undefined): Promise<void> {
  const { r, query } = c;
  let obj = decodeBody(c.req, r, await readBodyBuffer(c.req));
  validateFields(r, obj, query, c.warnings);
  const isDry = dryRun(query);
  checkNamespace(r, obj, ns);
  if (r.namespaced) {
    const nsObj = deps.store.get(NAMESPACES, undefined, ns!);
    if (!nsObj) throw namespaceNotFound(ns!);
    if (nsObj.metadata.deletionTimestamp) {
      throw forbidden(
        `${qualifiedName(r)} "${obj.metadata.name ?? ""}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
        {
          ...(obj.metadata.name ? { name: obj.metadata.name } : {}),
          ...(r.group ? { group: r.group } : {}),
          kind: r.plural,
          causes: [
            {
              reason: "NamespaceTerminating",
              message: `namespace ${ns} is being terminated`,
              field: "metadata.namespace",
            },
          ],
        },
      );
    }
  }
  applyDefaults(r, obj);
  const opts = options("CreateOptions", query);
  const mutated = await deps.admission.mutate(
    admissionAttrs(c, "CREATE", obj.metadata.name ?? "", ns, obj, null, isDry, opts),
  );
  obj = mutated.object;
  checkNamespace(r, obj, ns);
  const nameErr = resolveName(r, obj);
  if (nameErr) throw nameErr;
  prepareForCreate(r, obj);
  const bad = validateObject(r, obj);
  if (bad) throw bad;
  await deps.admission.validate(admissionAttrs(c, "CREATE", obj.metadata.name, ns, obj, null, isDry, opts));
  if (deps.store.get(r, ns, obj.metadata.name)) throw alreadyExists(r, obj.metadata.name);
  const out = isDry ? obj : deps.store.write(r, obj, "ADDED");
  sendJson(c.res, 201, withKind(r, out), c.warnings);
}

async function update(
  deps: RestDeps,
  c: Call,
  ns: string | undefined,
  name: string,
  body: any,
  patchOpts?: any,
): Promise<void> {
  const { r, query } = c;
  const old = mustGet(deps, r, ns, name);
  const isDry = dryRun(query);
  validateFields(r, body, query, c.warnings);
  if (body.metadata.name !== undefined && body.metadata.name !== name) {
    throw badRequest(
      `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`,
    );
  }
  body.metadata.name = name;
  checkNamespace(r, body, ns);
  if (body.metadata.uid && body.metadata.uid !== old.metadata.uid) {
    throw invalid(r, name, [
      {
        field: "metadata.uid",
        reason: "FieldValueInvalid",
        message: `Invalid value: ${JSON.stringify(body.metadata.uid)}: field is immutable`,
      },
    ]);
  }
  applyDefaults(r, body);
  const opts = patchOpts ?? options("UpdateOptions", query);
  const mutated = await deps.admission.mutate(
    admissionAttrs(c, "UPDATE", name, ns, withKind(r, body), withKind(r, old), isDry, opts),
  );
  let next = mutated.object;
  const rv = next.metadata?.resourceVersion;
  if (rv === undefined || rv === "") {
    if (!r.builtin) {
      throw invalid(r, name, [
        {
          field: "metadata.resourceVersion",
          reason: "FieldValueInvalid",
          message: "Invalid value: 0x0: must be specified for an update",
        },
      ]);
    }
  } else if (String(rv) !== old.metadata.resourceVersion) {
    throw conflict(r, name, OPTIMISTIC_LOCK_MESSAGE);
  }
  next = prepareForUpdate(r, next, old, c.info.subresource);
  const bad =
    validateObject(r, next) ?? (c.info.subresource === "" ? validateUpdate(r, next, old) : undefined);
  if (bad) throw bad;
  await deps.admission.validate(
    admissionAttrs(c, "UPDATE", name, ns, withKind(r, next), withKind(r, old), isDry, opts),
  );
  next.metadata.resourceVersion = old.metadata.resourceVersion;
  let out: any;
  if (sameContent(next, old) || isDry) out = isDry ? next : old;
  else out = deps.store.write(r, next, "MODIFIED");
  // The last finalizer removed from an object being deleted completes the deletion.
  if (!isDry && out.metadata.deletionTimestamp && (out.metadata.finalizers ?? []).length === 0)
    deps.store.remove(r, ns, name);
  sendJson(c.res, 200, withKind(r, out), c.warnings);
}

async function patch(deps: RestDeps, c: Call, ns: string | undefined, name: string): Promise<void> {
  const { r, req, query } = c;
  const text = await readBody(req);
  const old = mustGet(deps, r, ns, name);
  const patched = applyPatch(r, String(req.headers["content-type"] ?? ""), withKind(r, old), text);
  if (patched === null || typeof patched !== "object" || Array.isArray(patched))
    throw badRequest("the patch produced a non-object document");
  patched.metadata ??= {};
  if (typeof patched.metadata !== "object" || Array.isArray(patched.metadata))
    throw badRequest("metadata must be an object");
  if (patched.apiVersion !== groupVersion(r) || patched.kind !== r.kind)
    throw badRequest("the patch changed apiVersion or kind");
  // A patch without resourceVersion applies to whatever is current (no precondition).
  if (patched.metadata.resourceVersion === undefined || patched.metadata.resourceVersion === "")
    patched.metadata.resourceVersion = old.metadata.resourceVersion;
  return update(deps, c, ns, name, patched, options("PatchOptions", query));
}
