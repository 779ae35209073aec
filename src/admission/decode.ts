// Decoding the AdmissionReview envelope and the objects inside it. Every failure is a typed result
// carrying the uid when one could be read, so the HTTP edge can answer with an errored
// AdmissionReview the API server can match to its request (controller-runtime http.go / decode.go).
import { ADMISSION_V1, ADMISSION_V1BETA1, type AdmissionApiVersion, type AdmissionRequest } from "./types.js";
import type { KindInfo } from "./kinds.js";
import { isObject } from "../domain/index.js";

export type DecodedReview =
  | { ok: true; apiVersion: AdmissionApiVersion; request: AdmissionRequest }
  | { ok: false; apiVersion: AdmissionApiVersion; uid?: string; message: string };

/** Parses and checks the envelope. `text` is the raw body (already size-checked). */
export function decodeReview(text: string): DecodedReview {
  let apiVersion: AdmissionApiVersion = ADMISSION_V1;
  if (text.length === 0) return { ok: false, apiVersion, message: "request body is empty" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      apiVersion,
      message: `couldn't decode the AdmissionReview: ${(err as Error).message}`,
    };
  }
  if (!isObject(parsed))
    return {
      ok: false,
      apiVersion,
      message: "couldn't decode the AdmissionReview: the body is not a JSON object",
    };
  if (parsed.apiVersion === ADMISSION_V1BETA1) apiVersion = ADMISSION_V1BETA1;
  const request = isObject(parsed.request) ? parsed.request : undefined;
  const uid = request && typeof request.uid === "string" && request.uid !== "" ? request.uid : undefined;
  const fail = (message: string): DecodedReview => ({
    ok: false,
    apiVersion,
    ...(uid ? { uid } : {}),
    message,
  });
  if (parsed.apiVersion !== ADMISSION_V1 && parsed.apiVersion !== ADMISSION_V1BETA1) {
    return fail(
      `unsupported AdmissionReview apiVersion ${JSON.stringify(parsed.apiVersion ?? null)}; expected ${ADMISSION_V1} or ${ADMISSION_V1BETA1}`,
    );
  }
  if (parsed.kind !== "AdmissionReview")
    return fail(`expected kind "AdmissionReview", got ${JSON.stringify(parsed.kind ?? null)}`);
  if (!request) return fail("the AdmissionReview has no request");
  if (!uid) return fail("request.uid is missing or empty");
  const kind = request.kind;
  if (
    !isObject(kind) ||
    typeof kind.kind !== "string" ||
    typeof kind.version !== "string" ||
    typeof (kind.group ?? "") !== "string"
  ) {
    return fail("request.kind must be an object with group, version and kind strings");
  }
  if (typeof request.operation !== "string") return fail("request.operation is missing");
  if (request.userInfo !== undefined && !isObject(request.userInfo))
    return fail("request.userInfo must be an object");
  if (request.namespace !== undefined && typeof request.namespace !== "string")
    return fail("request.namespace must be a string");
  const resource = isObject(request.resource) ? request.resource : {};
  return {
    ok: true,
    apiVersion,
    request: {
      ...(request as unknown as AdmissionRequest),
      kind: { group: (kind.group as string | undefined) ?? "", version: kind.version, kind: kind.kind },
      resource: {
        group: String(resource.group ?? ""),
        version: String(resource.version ?? ""),
        resource: String(resource.resource ?? ""),
      },
      userInfo: (request.userInfo as AdmissionRequest["userInfo"] | undefined) ?? {},
    },
  };
}

/**
 * The object (or oldObject) of a CREATE/UPDATE, checked against the request's kind and for the
 * structure the domain reads: metadata and annotations maps, spec objects along the pod template or
 * hooks path. Deeper content is the domain's to judge (as findings).
 */
export function decodeObject(
  raw: unknown,
  field: "object" | "oldObject",
  info: KindInfo,
): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  if (raw === undefined || raw === null)
    return { ok: false, message: `request.${field}: there is no content to decode` };
  if (!isObject(raw)) return { ok: false, message: `request.${field} must be a JSON object` };
  if (raw.kind !== info.kind || raw.apiVersion !== info.apiVersion) {
    return {
      ok: false,
      message: `request.${field} is ${JSON.stringify(raw.apiVersion ?? "")} ${JSON.stringify(raw.kind ?? "")}, which does not match the request kind ${info.apiVersion} ${info.kind}`,
    };
  }
  const problem = metadataProblem(raw.metadata, `request.${field}.metadata`) ?? pathProblem(raw, field, info);
  return problem
    ? { ok: false, message: `request.${field} does not match kind ${info.kind}: ${problem}` }
    : { ok: true, value: raw };
}

function metadataProblem(metadata: unknown, path: string): string | undefined {
  if (metadata === undefined) return undefined;
  if (!isObject(metadata)) return `${path} must be an object`;
  const annotations = metadata.annotations;
  if (annotations === undefined || annotations === null) return undefined;
  if (!isObject(annotations)) return `${path}.annotations must be a map of strings`;
  for (const [key, value] of Object.entries(annotations)) {
    if (typeof value !== "string") return `${path}.annotations[${JSON.stringify(key)}] must be a string`;
  }
  return undefined;
}

/** Follows the pod template (or hooks) path; each step, when present, must be an object. */
function pathProblem(obj: Record<string, unknown>, field: string, info: KindInfo): string | undefined {
  const steps = info.hooks === "spec" ? [...info.path, "hooks"] : info.path;
  let node: unknown = obj;
  let path = `request.${field}`;
  for (const step of steps) {
    const next = (node as Record<string, unknown>)[step];
    if (next === undefined || next === null) return undefined;
    path += `.${step}`;
    if (!isObject(next)) return `${path} must be an object`;
    node = next;
  }
  return info.hooks === "annotations" && steps.length > 0
    ? metadataProblem((node as Record<string, unknown>).metadata, `${path}.metadata`)
    : undefined;
}
