// Response constructors, shaped after controller-runtime's pkg/webhook/admission/response.go:
// small pure functions, and one finaliser (`complete`, after webhook.go `Complete`) that sets the uid,
// defaults status.code to 200, and emits a base64 JSONPatch plus patchType only when there are ops.
import type { Finding } from "../domain/types.js";
import type { AdmissionApiVersion, AdmissionResponse, PatchOperation, Status } from "./types.js";

export interface Response {
  allowed: boolean;
  status?: Status;
  patches: PatchOperation[];
  warnings: string[];
}

export function allowed(message?: string): Response {
  return {
    allowed: true,
    status: message ? { code: 200, message } : { code: 200 },
    patches: [],
    warnings: [],
  };
}

/** 403 Forbidden with the message kubectl prints after "admission webhook ... denied the request:". */
export function denied(message: string): Response {
  return { allowed: false, status: { code: 403, reason: "Forbidden", message }, patches: [], warnings: [] };
}

/** A request hookguard could not process (bad input 400, too large 413, internal 500). */
export function errored(code: number, message: string): Response {
  return { allowed: false, status: { code, message }, patches: [], warnings: [] };
}

export function patched(patches: PatchOperation[], message?: string): Response {
  return { ...allowed(message), patches };
}

/** Appends warnings without dropping those already there (controller-runtime `WithWarnings`). */
export function withWarnings(res: Response, warnings: string[]): Response {
  return warnings.length === 0 ? res : { ...res, warnings: [...res.warnings, ...warnings] };
}

export function complete(res: Response, uid: string): AdmissionResponse {
  const out: AdmissionResponse = { uid, allowed: res.allowed, status: { code: 200, ...res.status } };
  if (res.patches.length > 0) {
    out.patch = Buffer.from(JSON.stringify(res.patches)).toString("base64");
    out.patchType = "JSONPatch";
  }
  if (res.warnings.length > 0) out.warnings = capWarnings(res.warnings);
  return out;
}

/** The AdmissionReview body, echoing the request's apiVersion. */
export function reviewBody(apiVersion: AdmissionApiVersion, response: AdmissionResponse): string {
  return JSON.stringify({ apiVersion, kind: "AdmissionReview", response });
}

/** `PATH: MESSAGE`, the form kubectl users read in both denials and warnings. */
export function findingLine(f: Finding): string {
  return f.path ? `${f.path}: ${f.message}` : f.message;
}

/** Denial message listing every error finding, in order. */
export function denialMessage(errors: Finding[]): string {
  return errors.map(findingLine).join("; ");
}

/**
 * A warning line that keeps the advice. Domain messages end with their fix, after the last "; ".
 * When `PATH: MESSAGE` is over the limit, the annotation path is shortened to the annotation key
 * (`spec.template.metadata.annotations["K"]` -> `K`, which still names the field); if that is not
 * enough, the description before the fix is cut in the middle, and the fix stays whole.
 */
export function warningLine(f: Finding): string {
  const full = findingLine(f);
  if (full.length <= WARNING_MAX_CHARS) return full;
  const key = /metadata\.annotations\["([^"]+)"\]$/.exec(f.path);
  const where = key ? key[1]! : f.path;
  const lead = where ? `${where}: ` : "";
  if (lead.length + f.message.length <= WARNING_MAX_CHARS) return lead + f.message;
  const split = f.message.lastIndexOf("; ");
  if (split < 0) return lead + f.message; // no fix to keep: capWarnings cuts the end
  const fix = f.message.slice(split);
  const room = WARNING_MAX_CHARS - lead.length - fix.length - 3;
  if (room >= 16) return `${lead}${f.message.slice(0, room).trimEnd()}...${fix}`;
  return lead + fix.slice(2);
}

export const WARNING_MAX_CHARS = 119;
export const WARNINGS_TOTAL_MAX_CHARS = 4000;

/**
 * Keeps each warning under 120 characters and the sum under 4096: the API server truncates single
 * warnings over 256 characters and ignores everything past 4096 in total (Kubernetes "Dynamic
 * Admission Control"), and kubectl prints one line per warning. When warnings are dropped, the last
 * one says how many, so the user knows to run `hookguard lint` for the full list.
 */
export function capWarnings(warnings: string[]): string[] {
  const out: string[] = [];
  let total = 0;
  for (let i = 0; i < warnings.length; i++) {
    const w = truncate(warnings[i]!);
    if (total + w.length > WARNINGS_TOTAL_MAX_CHARS) {
      out.push(`${warnings.length - i} more warnings omitted; run hookguard lint for all of them`);
      break;
    }
    out.push(w);
    total += w.length;
  }
  return out;
}

function truncate(text: string): string {
  return text.length <= WARNING_MAX_CHARS ? text : `${text.slice(0, WARNING_MAX_CHARS - 3)}...`;
}
