// What the REST handlers share: their dependencies, the per-request context, and the small
// helpers for lookups, dry-run, options objects and admission attributes.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AdmissionAttributes, AdmissionChain, Operation } from "./admission-types.js";
import type { UserInfo } from "./authn.js";
import type { Policy } from "./authz.js";
import type { WatchHub } from "./list-watch.js";
import type { RequestInfo } from "./request-info.js";
import { RESOURCES, type ResourceDef } from "./resources.js";
import { badRequest, notFound } from "./status.js";
import type { ObjectStore } from "./store.js";

export interface RestDeps {
  store: ObjectStore;
  admission: AdmissionChain;
  watches: WatchHub;
  policy: Policy;
  /** Answers a SubjectAccessReview body (authorization.k8s.io/v1). */
  reviewAccess(body: any): any;
  /** Pods on a node are deleted gracefully (deletionTimestamp first) when this returns true. */
  gracefulPodDeletion(): boolean;
  /** pods/exec requested without a WebSocket upgrade. */
  execWithoutUpgrade(
    req: IncomingMessage,
    res: ServerResponse,
    namespace: string,
    pod: string,
    user: UserInfo,
  ): Promise<void>;
}

export interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  info: RequestInfo;
  r: ResourceDef;
  user: UserInfo;
  query: URLSearchParams;
  warnings: string[];
}

export const NAMESPACES = RESOURCES.find((r) => r.kind === "Namespace")!;

export function mustGet(deps: RestDeps, r: ResourceDef, ns: string | undefined, name: string): any {
  const o = deps.store.get(r, ns, name);
  if (!o) throw notFound(r, name);
  return o;
}

export function dryRun(query: URLSearchParams, body?: any): boolean {
  const values = [...query.getAll("dryRun"), ...(Array.isArray(body?.dryRun) ? body.dryRun : [])];
  for (const v of values) if (v !== "All") throw badRequest(`Invalid value: "${v}": supported values: "All"`);
  return values.length > 0;
}

export function options(
  kind: "CreateOptions" | "UpdateOptions" | "PatchOptions" | "DeleteOptions",
  query: URLSearchParams,
  extra: Record<string, unknown> = {},
): any {
  const o: Record<string, unknown> = { kind, apiVersion: "meta.k8s.io/v1" };
  if (query.getAll("dryRun").length > 0) o.dryRun = query.getAll("dryRun");
  if (kind !== "DeleteOptions") {
    const fm = query.get("fieldManager");
    if (fm) o.fieldManager = fm;
    const fv = query.get("fieldValidation");
    if (fv) o.fieldValidation = fv;
  }
  return { ...o, ...extra };
}

export function admissionAttrs(
  c: Call,
  operation: Operation,
  name: string,
  ns: string | undefined,
  object: any,
  oldObject: any,
  isDry: boolean,
  opts: any,
): AdmissionAttributes {
  return {
    resource: c.r,
    subresource: c.info.subresource,
    operation,
    name,
    namespace: ns,
    object,
    oldObject,
    user: c.user,
    dryRun: isDry,
    options: opts,
    warningSink: c.warnings,
  };
}
