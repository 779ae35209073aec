// The validating handler: the domain's findings become a denial (errors) and warnings; on UPDATE,
// a finding the oldObject already had is downgraded to a warning so a fix elsewhere in the object is
// never blocked by a legacy value; then, when the request adds or changes a hook, the confused-deputy
// check. Each operation has its own branch (controller-runtime validator_custom.go).
import { validateObject, type Finding } from "../domain/index.js";
import type { ExecAuthorizer } from "./authz.js";
import { decodeObject } from "./decode.js";
import { hookExecScope } from "./hook-changes.js";
import { lookupKind, handledKindsText } from "./kinds.js";
import type { AuthzDecision } from "./metrics.js";
import { allowed, denialMessage, denied, errored, warningLine, withWarnings, type Response } from "./response.js";
import type { AdmissionRequest } from "./types.js";

export interface ValidateDeps {
  /** Absent when the exec-permission check is off (no cluster access or --no-require-exec-permission). */
  authorizer?: ExecAuthorizer;
  onAuthz?: (decision: AuthzDecision) => void;
}

export async function validateRequest(req: AdmissionRequest, deps: ValidateDeps): Promise<Response> {
  switch (req.operation) {
    case "DELETE":
    case "CONNECT":
      return allowed();
    case "CREATE":
    case "UPDATE":
      return validateWrite(req, deps);
    default:
      return errored(400, `unsupported operation ${JSON.stringify(req.operation)}`);
  }
}

const key = (f: Finding): string => `${f.code}\u0000${f.path}\u0000${f.message}`;

async function validateWrite(req: AdmissionRequest, deps: ValidateDeps): Promise<Response> {
  const info = lookupKind(req.kind);
  if (!info) return errored(400, `hookguard does not handle ${req.kind.group || "core"}/${req.kind.version} ${req.kind.kind}; it handles ${handledKindsText()}`);
  // Subresources (status, scale, ephemeralcontainers...) cannot change annotations or spec.hooks.
  if (req.subResource) return allowed();
  const obj = decodeObject(req.object, "object", info);
  if (!obj.ok) return errored(400, obj.message);
  let old: Record<string, unknown> | undefined;
  if (req.operation === "UPDATE") {
    const decoded = decodeObject(req.oldObject, "oldObject", info);
    if (!decoded.ok) return errored(400, decoded.message);
    old = decoded.value;
  }
  let findings = validateObject(obj.value).findings;
  if (old) {
    const legacy = new Set(validateObject(old).findings.map(key));
    findings = findings.map((f) => (f.severity === "error" && legacy.has(key(f)) ? { ...f, severity: "warning" as const } : f));
  }
  const errors = findings.filter((f) => f.severity === "error");
  const warnings = findings.filter((f) => f.severity === "warning").map(warningLine);
  if (errors.length > 0) return withWarnings(denied(denialMessage(errors)), warnings);
  if (deps.authorizer) {
    const scope = hookExecScope(info, obj.value, old, req.namespace ?? "");
    if (scope) {
      const outcome = await deps.authorizer.authorize(req.userInfo, scope.namespaces, scope.what);
      deps.onAuthz?.(outcome.decision);
      if (outcome.message) return withWarnings(denied(outcome.message), warnings);
    }
  }
  return withWarnings(allowed(), warnings);
}
