// Server-side field validation (the fieldValidation query parameter, which kubectl sets to Strict):
// unknown fields at the top level and in metadata are refused (Strict, 400) or reported as warnings
// (Warn, the server default) with the real texts. The double knows no schemas below that level, so
// an unknown field inside spec passes: a documented limit, not a silent claim of validation.
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
  if (obj.metadata && typeof obj.metadata === "object") for (const k of Object.keys(obj.metadata)) if (!META.has(k)) out.push(`metadata.${k}`);
  return out;
}

/** Applies the request's fieldValidation directive (Strict | Warn | Ignore; Warn when absent). */
export function validateFields(r: ResourceDef, obj: any, query: URLSearchParams, warnings: string[]): void {
  const directive = query.get("fieldValidation") ?? "Warn";
  if (!["Strict", "Warn", "Ignore"].includes(directive)) {
    throw badRequest(`fieldValidation parameter unsupported: ${directive}. Supported values: Ignore, Warn, Strict`);
  }
  if (directive === "Ignore") return;
  const unknown = unknownFields(r, obj);
  if (unknown.length === 0) return;
  if (directive === "Strict") {
    throw badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(", ")}`);
  }
  for (const f of unknown) warnings.push(`unknown field "${f}"`);
  // Warn drops the unknown fields, as decoding into the typed object does.
  for (const f of unknown) {
    if (f.startsWith("metadata.")) delete obj.metadata[f.slice("metadata.".length)];
    else delete obj[f];
  }
}
