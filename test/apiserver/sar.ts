// SubjectAccessReview answers (authorization.k8s.io/v1) from the test-configured policy.
import type { Policy } from "./authz.js";
import { readBodyBuffer, sendJson } from "./http-util.js";
import type { Call, RestDeps } from "./rest-common.js";
import { decodeBody } from "./decode-body.js";
import { invalid } from "./status.js";

export function reviewAccess(
  policy: Policy,
  review: any,
): { allowed: boolean; denied?: boolean; reason?: string } {
  const spec = review.spec ?? {};
  const ra = spec.resourceAttributes;
  if (!ra) {
    // Non-resource URLs: only rules for resources "*" (or no policy at all) allow them.
    const allowed = policy.allows({
      user: spec.user ?? "",
      groups: spec.groups ?? [],
      verb: spec.nonResourceAttributes?.verb ?? "",
      group: "",
      resource: "*nonresource*",
    });
    return allowed ? { allowed: true, reason: "allowed by the test policy" } : { allowed: false };
  }
  const allowed = policy.allows({
    user: spec.user ?? "",
    groups: spec.groups ?? [],
    verb: ra.verb ?? "",
    group: ra.group ?? "",
    resource: ra.resource ?? "",
    subresource: ra.subresource || undefined,
    namespace: ra.namespace || undefined,
    name: ra.name || undefined,
  });
  // RBAC never denies explicitly: a request no rule allows is "not allowed", without denied=true.
  return allowed ? { allowed: true, reason: "allowed by the test policy" } : { allowed: false };
}

/** POST subjectaccessreviews: validated like the real registry, answered from the policy. */
export async function createReview(deps: RestDeps, c: Call): Promise<void> {
  const body = decodeBody(c.req, c.r, await readBodyBuffer(c.req));
  if (c.r.kind === "SelfSubjectAccessReview") {
    // `kubectl auth can-i`: the reviewed subject is whoever asks.
    body.spec = { ...(body.spec ?? {}), user: c.user.username, groups: c.user.groups, uid: c.user.uid };
  }
  const spec = body.spec ?? {};
  if (!spec.resourceAttributes && !spec.nonResourceAttributes) {
    throw invalid(c.r, "", [
      {
        field: "spec.resourceAttributes",
        reason: "FieldValueRequired",
        message:
          "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified",
      },
    ]);
  }
  if (!spec.user && (spec.groups ?? []).length === 0) {
    throw invalid(c.r, "", [
      {
        field: "spec.user",
        reason: "FieldValueInvalid",
        message: 'Invalid value: "": at least one of user or group must be specified',
      },
    ]);
  }
  const status = deps.reviewAccess(body);
  const { metadata, ...rest } = body;
  sendJson(
    c.res,
    201,
    { ...rest, metadata: { ...(metadata ?? {}), creationTimestamp: null }, status },
    c.warnings,
  );
}
