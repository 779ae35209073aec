// The mutating handler: makes each pod (template)'s effective hook explicit, through the domain's
// normalizePodHooks, as a JSONPatch against the object exactly as received. It only adds keys that
// are absent, never replaces a value (GitOps tools would show a rewritten value as drift forever);
// what it would have normalised comes back as a warning. Backup and Schedule are
// not mutated (their spec.hooks defaults are Velero's CRD defaults); invalid values are never
// rewritten (the domain returns no edit for them and the validating webhook reports them).
//
// Per-namespace enablement: an AdmissionRequest carries no namespace labels, so the handler cannot
// see `hookguard.io/mutate=enabled` itself. The chart's MutatingWebhookConfiguration selects those
// namespaces with a namespaceSelector (the API server evaluates it before calling us), and this
// handler mutates whatever it receives. `--mutate-all` is documented as the chart switch that drops
// the selector; looking labels up here would cost an API call per request and a watch cache for a
// decision the API server already makes for free.
import { normalizePodHooks, podTemplateOf } from "../domain/index.js";
import { decodeObject } from "./decode.js";
import { lookupKind, handledKindsText } from "./kinds.js";
import { allowed, errored, patched, warningLine, withWarnings, type Response } from "./response.js";
import type { AdmissionRequest, PatchOperation } from "./types.js";

export function mutateRequest(req: AdmissionRequest): Response {
  switch (req.operation) {
    case "DELETE":
    case "CONNECT":
      return allowed();
    case "CREATE":
    case "UPDATE":
      return mutateWrite(req);
    default:
      return errored(400, `unsupported operation ${JSON.stringify(req.operation)}`);
  }
}

function mutateWrite(req: AdmissionRequest): Response {
  const info = lookupKind(req.kind);
  if (!info)
    return errored(
      400,
      `hookguard does not handle ${req.kind.group || "core"}/${req.kind.version} ${req.kind.kind}; it handles ${handledKindsText()}`,
    );
  if (req.subResource || info.hooks !== "annotations") return allowed();
  const obj = decodeObject(req.object, "object", info);
  if (!obj.ok) return errored(400, obj.message);
  const template = podTemplateOf(obj.value);
  if (!template) return allowed();
  const { edits, warnings } = normalizePodHooks(template.pod, template.pathPrefix);
  const res =
    edits.length === 0
      ? allowed()
      : patched(annotationPatch(template.pathPrefix, template.pod.metadata, edits));
  return withWarnings(res, warnings.map(warningLine));
}

/** RFC 6901: `~` → `~0`, `/` → `~1` (annotation keys contain `/`). */
export function escapePointer(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

/**
 * JSONPatch ops setting annotations under the template at `pathPrefix` ("" or "spec.template." ...).
 * A missing metadata or annotations map is created with one `add` holding all values, since
 * adding a member to a missing parent is an error in RFC 6902.
 */
export function annotationPatch(
  pathPrefix: string,
  metadata: { annotations?: Record<string, string> } | undefined,
  edits: Array<{ key: string; value: string }>,
): PatchOperation[] {
  const base = pathPrefix === "" ? "" : `/${pathPrefix.slice(0, -1).split(".").join("/")}`;
  const values = Object.fromEntries(edits.map((e) => [e.key, e.value]));
  if (!metadata) return [{ op: "add", path: `${base}/metadata`, value: { annotations: values } }];
  const current = metadata.annotations;
  if (!current) return [{ op: "add", path: `${base}/metadata/annotations`, value: values }];
  return edits.map((e) => ({
    op: "add",
    path: `${base}/metadata/annotations/${escapePointer(e.key)}`,
    value: e.value,
  }));
}
