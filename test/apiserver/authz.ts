// A small RBAC-like policy: rules grant (user or group) → verbs on resources[/subresource] in a
// namespace (or all); system:masters is always allowed. No policy set means allow-all (the default). The same policy answers
// SubjectAccessReviews and guards the double's own requests (403 Status like the real server).
import type { UserInfo } from "./authn.js";
import { forbidden, type ApiError } from "./status.js";

export interface PolicyRule {
  users?: string[];
  groups?: string[];
  verbs: string[]; // "*" allowed
  apiGroups?: string[]; // default ["*"]
  resources: string[]; // "pods", "pods/exec", "*"
  namespaces?: string[]; // default all
}

export interface AccessAttributes {
  user: string;
  groups: string[];
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export class Policy {
  private rules: PolicyRule[] | undefined; // undefined = allow-all

  set(rules: PolicyRule[] | undefined): void {
    this.rules = rules;
  }

  allows(a: AccessAttributes): boolean {
    if (!this.rules) return true;
    // As on a real cluster, system:masters (the double's admin) is authorized for everything.
    if (a.groups.includes("system:masters")) return true;
    const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    return this.rules.some((r) => {
      const subject = (r.users ?? []).includes(a.user) || (r.groups ?? []).some((g) => a.groups.includes(g));
      if (!subject) return false;
      if (!r.verbs.includes("*") && !r.verbs.includes(a.verb)) return false;
      const groups = r.apiGroups ?? ["*"];
      if (!groups.includes("*") && !groups.includes(a.group)) return false;
      if (!r.resources.includes("*") && !r.resources.includes(res)) return false;
      if (r.namespaces && !(a.namespace && r.namespaces.includes(a.namespace))) return false;
      return true;
    });
  }
}

/** The real RBAC denial text, e.g. `pods "x" is forbidden: User "bob" cannot get resource "pods" ...`. */
export function forbiddenError(a: AccessAttributes, user: UserInfo): ApiError {
  const qualified = a.group ? `${a.resource}.${a.group}` : a.resource;
  const subject = a.name ? `${qualified} "${a.name}"` : qualified;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? `in the namespace "${a.namespace}"` : "at the cluster scope";
  const msg = `${subject} is forbidden: User "${user.username}" cannot ${a.verb} resource "${res}" in API group "${a.group}" ${where}`;
  return forbidden(msg, {
    ...(a.name ? { name: a.name } : {}),
    ...(a.group ? { group: a.group } : {}),
    kind: a.resource,
  });
}
