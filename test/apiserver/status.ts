// metav1.Status bodies exactly as the real API server shapes them (k8s.io/apimachinery
// pkg/api/errors). `details.kind` carries the *resource* (plural) for NotFound/AlreadyExists/Conflict
// and the Kind for Invalid, as upstream does; `group` is omitted for the core group.
import { type ResourceDef } from "./resources.js";

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, unknown>;
  status: "Failure" | "Success";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** A request that ends in a Status response. Thrown inside handlers, rendered once by the server. */
export class ApiError extends Error {
  constructor(
    readonly status: Status,
    readonly headers: Record<string, string> = {},
  ) {
    super(status.message ?? status.reason ?? "error");
  }
  get code(): number {
    return this.status.code;
  }
}

export function failure(
  code: number,
  reason: string | undefined,
  message: string,
  details?: StatusDetails,
): Status {
  const s: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, code };
  if (reason) s.reason = reason;
  if (details) s.details = details;
  // Key order as the real server serialises: message, reason, details, code.
  return {
    kind: s.kind,
    apiVersion: s.apiVersion,
    metadata: s.metadata,
    status: s.status,
    message: s.message,
    ...(reason ? { reason } : {}),
    ...(details ? { details } : {}),
    code,
  } as Status;
}

function resourceDetails(r: { group: string; plural: string }, name?: string): StatusDetails {
  const d: StatusDetails = {};
  if (name !== undefined && name !== "") d.name = name;
  if (r.group) d.group = r.group;
  d.kind = r.plural;
  return d;
}

function qualified(r: { group: string; plural: string }): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

export function notFound(r: { group: string; plural: string }, name: string): ApiError {
  return new ApiError(
    failure(404, "NotFound", `${qualified(r)} "${name}" not found`, resourceDetails(r, name)),
  );
}

export function namespaceNotFound(ns: string): ApiError {
  return notFound({ group: "", plural: "namespaces" }, ns);
}

export function alreadyExists(r: ResourceDef, name: string): ApiError {
  return new ApiError(
    failure(409, "AlreadyExists", `${qualified(r)} "${name}" already exists`, resourceDetails(r, name)),
  );
}

export function conflict(r: ResourceDef, name: string, why: string): ApiError {
  return new ApiError(
    failure(
      409,
      "Conflict",
      `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`,
      resourceDetails(r, name),
    ),
  );
}

export const OPTIMISTIC_LOCK_MESSAGE =
  "the object has been modified; please apply your changes to the latest version and try again";

/**
 * 422 with field causes, message `Kind "name" is invalid: field: detail, field: detail`. Custom
 * resources are named by group kind in the message (`Backup.velero.io "b" is invalid: ...`).
 */
export function invalid(
  r: ResourceDef,
  name: string,
  causes: Array<{ field: string; reason: string; message: string }>,
): ApiError {
  const text = causes.map((c) => `${c.field}: ${c.message}`).join(", ");
  const list = causes.length > 1 ? `[${text}]` : text;
  const details: StatusDetails = { name, ...(r.group ? { group: r.group } : {}), kind: r.kind, causes };
  if (!name) delete details.name;
  const named = r.schema ? `${r.kind}.${r.group}` : r.kind;
  return new ApiError(failure(422, "Invalid", `${named} "${name}" is invalid: ${list}`, details));
}

export function badRequest(message: string): ApiError {
  return new ApiError(failure(400, "BadRequest", message));
}

export function methodNotAllowed(): ApiError {
  return new ApiError(
    failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {}),
  );
}

export function unsupportedMediaType(contentType: string, accepted: string[]): ApiError {
  return new ApiError(
    failure(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
      {
        causes: [{ reason: "UnsupportedMediaType", message: contentType }],
      },
    ),
  );
}

export function unauthorized(): ApiError {
  return new ApiError(failure(401, "Unauthorized", "Unauthorized"));
}

export function forbidden(message: string, details: StatusDetails): ApiError {
  return new ApiError(failure(403, "Forbidden", message, details));
}

/** apierrors.NewInternalError: "Internal error occurred: <err>" with the error as the single cause. */
export function internalError(err: string): ApiError {
  return new ApiError(
    failure(500, "InternalError", `Internal error occurred: ${err}`, { causes: [{ message: err }] }),
  );
}

export function notFoundPath(): ApiError {
  return new ApiError(failure(404, "NotFound", "the server could not find the requested resource", {}));
}

export function expired(message: string): Status {
  return failure(410, "Expired", message);
}

export function success(details: StatusDetails): Status {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details } as Status;
}
