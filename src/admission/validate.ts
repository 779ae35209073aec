// The validating handler: the domain's findings become a denial (errors) and warnings; on UPDATE,
// a finding the oldObject already had is downgraded to a warning so a fix elsewhere in the object is
// never blocked by a legacy value; then, when the request adds or changes a hook, the confused-deputy
// check. Each operation has its own branch (controller-runtime validator_custom.go).
// Two cases admit errors as warnings instead of denying: a controller's copy (copies.ts: the fix
// belongs in the object it was copied from) and `--enforcement warn` (auditing before enforcing).
// Neither relaxes the exec-permission check: that is who may make the agent exec, not a hook mistake.
import { validateObject, type Finding } from "../domain/index.js";
import type { ExecAuthorizer } from "./authz.js";
import { controllerCopyOrigin } from "./copies.js";
import { decodeObject } from "./decode.js";
import { hookExecScope } from "./hook-changes.js";
import { lookupKind, handledKindsText } from "./kinds.js";
import type { AuthzDecision } from "./metrics.js";
import {
  allowed,
  denialMessage,
  denied,
  errored,
  warningLine,
  withWarnings,
  type Response,
} from "./response.js";
import type { AdmissionRequest } from "./types.js";

export type Enforcement = "deny" | "warn";

export interface ValidateDeps {
  /** Absent when the exec-permission check is off (no cluster access or --no-require-exec-permission). */
  authorizer?: ExecAuthorizer;
  onAuthz?: (decision: AuthzDecision) => void;
  /** `--trusted-controller` usernames, added to the built-in template-copying controllers. */
  trustedControllers?: ReadonlySet<string>;
  /** "warn" admits what "deny" (the default) refuses, with every error as a warning. */
  enforcement?: Enforcement;
  /** A controller's copy whose errors were admitted as warnings (by kind). */
  onControllerCopy?: (kind: string) => void;
  /** A request that enforcement "warn" admitted although it had errors (by kind). */
  onWouldDeny?: (kind: string) => void;
}

export const COPY_ERROR_PREFIX = "not denied (controller copy): ";
export const WARN_ONLY_PREFIX = "would be denied: ";

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
  if (!info)
    return errored(
      400,
      `hookguard does not handle ${req.kind.group || "core"}/${req.kind.version} ${req.kind.kind}; it handles ${handledKindsText()}`,
    );
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
    findings = findings.map((f) =>
      f.severity === "error" && legacy.has(key(f)) ? { ...f, severity: "warning" as const } : f,
    );
  }
  const errors = findings.filter((f) => f.severity === "error");
  let warnings = findings.filter((f) => f.severity === "warning").map(warningLine);
  if (errors.length > 0) {
    const copy = controllerCopyOrigin(
      info.kind,
      obj.value,
      req.userInfo,
      deps.trustedControllers ?? new Set(),
    );
    if (copy) {
      deps.onControllerCopy?.(info.kind);
      // The errors come first: kubectl and controller logs show warnings in order, and the API
      // server drops what exceeds 4 KiB in total.
      warnings = [
        `${info.kind} copied by ${copy.by}: fix its hooks in ${copy.fixIn}`,
        ...errors.map((f) => COPY_ERROR_PREFIX + warningLine(f)),
        ...warnings,
      ];
    } else if (deps.enforcement === "warn") {
      deps.onWouldDeny?.(info.kind);
      warnings = [...errors.map((f) => WARN_ONLY_PREFIX + warningLine(f)), ...warnings];
    } else {
      return withWarnings(denied(denialMessage(errors)), warnings);
    }
  }
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
