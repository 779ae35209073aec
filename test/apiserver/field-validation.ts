// Server-side field validation (the fieldValidation query parameter, which kubectl sets to Strict):
// unknown fields at the top level and in metadata are refused (Strict, 400) or reported as warnings
// (Warn, the server default) with the real texts. The double knows no schemas below that level, so
// an unknown field inside spec passes: a documented limit, not a silent claim of validation.
// Custom resources with a structural schema (Velero's kinds) also have their status checked against
// the schema's field list, and pruning drops unknown fields whatever the directive, as the real
// apiextensions server does before anything else sees the object.
import type { ResourceDef } from "./resources.js";
import { badRequest } from "./status.js";

const META = new Set([
  "name",
  "generateName",
  "namespace",
  "selfLink",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "labels",
  "annotations",
  "ownerReferences",
  "finalizers",
  "managedFields",
]);

const TOP: Record<string, string[]> = {
  Secret: ["data", "stringData", "type", "immutable"],
  ConfigMap: ["data", "binaryData", "immutable"],
  Endpoints: ["subsets"],
  Event: [
    "involvedObject",
    "reason",
    "message",
    "source",
    "firstTimestamp",
    "lastTimestamp",
    "count",
    "type",
    "eventTime",
    "series",
    "action",
    "related",
    "reportingComponent",
    "reportingInstance",
  ],
  ValidatingWebhookConfiguration: ["webhooks"],
  MutatingWebhookConfiguration: ["webhooks"],
};

function unknownFields(r: ResourceDef, obj: any): string[] {
  const allowed = new Set(["apiVersion", "kind", "metadata", ...(TOP[r.kind] ?? ["spec", "status"])]);
  const out = Object.keys(obj).filter((k) => !allowed.has(k));
  if (obj.metadata && typeof obj.metadata === "object")
    for (const k of Object.keys(obj.metadata)) if (!META.has(k)) out.push(`metadata.${k}`);
  if (r.schema && obj.status && typeof obj.status === "object" && !Array.isArray(obj.status)) {
    const known = new Set(r.schema.statusFields);
    for (const k of Object.keys(obj.status)) if (!known.has(k)) out.push(`status.${k}`);
  }
  return out;
}

function drop(obj: any, unknown: string[]): void {
  for (const f of unknown) {
    const dot = f.indexOf(".");
    if (dot < 0) delete obj[f];
    else delete obj[f.slice(0, dot)][f.slice(dot + 1)];
  }
}

/** Applies the request's fieldValidation directive (Strict | Warn | Ignore; Warn when absent). */
export function validateFields(r: ResourceDef, obj: any, query: URLSearchParams, warnings: string[]): void {
  const directive = query.get("fieldValidation") ?? "Warn";
  if (!["Strict", "Warn", "Ignore"].includes(directive)) {
    throw badRequest(
      `fieldValidation parameter unsupported: ${directive}. Supported values: Ignore, Warn, Strict`,
    );
  }
  const unknown = unknownFields(r, obj);
  if (unknown.length === 0) return;
  if (directive === "Ignore") {
    // Decoding (typed kinds) or structural pruning (custom resources) drops them silently.
    drop(obj, unknown);
    return;
  }
  if (directive === "Strict") {
    throw badRequest(
      `${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(", ")}`,
    );
  }
  for (const f of unknown) warnings.push(`unknown field "${f}"`);
  // Warn drops the unknown fields, as decoding into the typed object (or pruning) does.
  drop(obj, unknown);
}
