// SubjectAccessReview: "may this user create pods/exec in this namespace?", asked of the API server
// with the requesting user's name, uid, groups and extra exactly as the AdmissionRequest carried them.
import { AuthorizationV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { Result } from "../domain/types.js";
import { toKubeApiError } from "./errors.js";

export interface SubjectUser {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** `namespace` "" asks about every namespace (a cluster-wide grant). */
export type ExecAccessReview = (user: SubjectUser, namespace: string) => Promise<Result<boolean, string>>;

/**
 * Builds the review function. The call is bounded (default 3 s) so a slow API server cannot eat the
 * admission webhook's own timeout (10 s by default in the webhook configuration).
 */
export function subjectAccessReviewer(kc: KubeConfig, opts: { timeoutMs?: number } = {}): ExecAccessReview {
  const api = kc.makeApiClient(AuthorizationV1Api);
  const timeoutMs = opts.timeoutMs ?? 3000;
  return async (user, namespace) => {
    const call = api.createSubjectAccessReview({
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: user.username,
          uid: user.uid,
          groups: user.groups,
          extra: user.extra,
          resourceAttributes: { namespace, verb: "create", group: "", resource: "pods", subresource: "exec" },
        },
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const review = await Promise.race([call, timeout]);
      if (review.status?.evaluationError && !review.status.allowed) {
        return { ok: false, error: `authorizer evaluation error: ${review.status.evaluationError}` };
      }
      return { ok: true, value: review.status?.allowed === true };
    } catch (err) {
      call.catch(() => undefined); // the losing promise of the race must not become an unhandled rejection
      const e = toKubeApiError(err);
      return {
        ok: false,
        error: e.code
          ? `SubjectAccessReview failed: ${e.code} ${e.reason}: ${e.message}`
          : `SubjectAccessReview failed: ${e.message}`,
      };
    } finally {
      clearTimeout(timer);
    }
  };
}
