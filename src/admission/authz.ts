// The confused-deputy check. A hook makes the hook agent exec a command in the pod with the agent's
// own rights, so setting one must require what running that command by hand requires: `create
// pods/exec` in the namespace the hook runs in. The decision asks the API server (SubjectAccessReview),
// caches definite answers briefly, and fails closed when the API server cannot answer.
import type { ExecAccessReview, SubjectUser } from "../kube/authz.js";
import type { AuthzDecision } from "./metrics.js";

/** `namespaces` lists where hooks will run; "" means every namespace (hooks not restricted). */
export interface AuthzOutcome {
  decision: AuthzDecision;
  /** Denial or error text for the AdmissionResponse; absent when allowed or skipped. */
  message?: string;
}

/**
 * The kube-controller-manager identities that create pods (and ReplicaSets/Jobs) by copying a
 * template someone else wrote: the per-controller service accounts it uses with
 * `--use-service-account-credentials` (the default in kubeadm and managed clusters), and its own
 * user when it runs without them. The template's author was checked when the workload was written,
 * so re-checking the controller (which cannot exec and would be denied) would break every rollout.
 * Deliberately an explicit list rather than "any kube-system service account": other kube-system
 * service accounts belong to add-ons that users may be able to impersonate or run pods as.
 */
export const TEMPLATE_COPYING_CONTROLLERS: ReadonlySet<string> = new Set([
  "system:kube-controller-manager",
  ...[
    "replicaset-controller",
    "replication-controller",
    "deployment-controller",
    "statefulset-controller",
    "daemon-set-controller",
    "job-controller",
    "cronjob-controller",
  ].map((sa) => `system:serviceaccount:kube-system:${sa}`),
]);

export function isTemplateCopyingController(
  user: SubjectUser,
  extra: ReadonlySet<string> = new Set(),
): boolean {
  return (
    user.username !== undefined &&
    (TEMPLATE_COPYING_CONTROLLERS.has(user.username) || extra.has(user.username))
  );
}

interface CacheEntry {
  allowed: boolean;
  expires: number;
}

export class ExecAuthorizer {
  #review: ExecAccessReview;
  #ttlMs: number;
  #maxEntries: number;
  #cache = new Map<string, CacheEntry>();
  #now: () => number;
  #trusted: ReadonlySet<string>;

  /**
   * `trustedUsers` extends the built-in controller list with other template-copying controllers
   * (e.g. an Argo Rollouts or OpenKruise service account), given by full username.
   */
  constructor(
    review: ExecAccessReview,
    opts: { ttlMs?: number; maxEntries?: number; now?: () => number; trustedUsers?: string[] } = {},
  ) {
    this.#review = review;
    this.#trusted = new Set(opts.trustedUsers ?? []);
    this.#ttlMs = opts.ttlMs ?? 10_000;
    this.#maxEntries = opts.maxEntries ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Checks every namespace; the first denial or error decides (fail closed). */
  async authorize(user: SubjectUser, namespaces: string[], what: string): Promise<AuthzOutcome> {
    if (isTemplateCopyingController(user, this.#trusted)) return { decision: "skipped" };
    const who = JSON.stringify(user.username ?? "");
    for (const namespace of namespaces) {
      const where =
        namespace === ""
          ? "in all namespaces (the hook is not restricted to namespaces)"
          : `in namespace ${JSON.stringify(namespace)}`;
      const answer = await this.#cached(user, namespace);
      if (!answer.ok) {
        return {
          decision: "error",
          message: `hookguard could not check whether user ${who} may create pods/exec ${where}, which ${what} requires (denied, failing closed): ${answer.error}`,
        };
      }
      if (!answer.value) {
        return {
          decision: "denied",
          message: `user ${who} may not create pods/exec ${where}: ${what} runs a command in pods with the hook agent's rights, so it requires that permission`,
        };
      }
    }
    return { decision: "allowed" };
  }

  async #cached(
    user: SubjectUser,
    namespace: string,
  ): Promise<{ ok: true; value: boolean } | { ok: false; error: string }> {
    const key = JSON.stringify([
      user.username ?? "",
      user.uid ?? "",
      user.groups ?? [],
      user.extra ?? {},
      namespace,
    ]);
    const now = this.#now();
    const hit = this.#cache.get(key);
    if (hit && hit.expires > now) return { ok: true, value: hit.allowed };
    const answer = await this.#review(user, namespace);
    // Only definite answers are cached: an API server hiccup must not deny for the next ten seconds.
    if (answer.ok) {
      if (this.#cache.size >= this.#maxEntries) this.#cache.clear();
      this.#cache.set(key, { allowed: answer.value, expires: now + this.#ttlMs });
    }
    return answer;
  }
}
