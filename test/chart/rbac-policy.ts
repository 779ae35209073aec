// Turns the chart's Roles/ClusterRoles and their bindings into the API-server double's policy rules, so
// a test can run the webhook and the agent as their ServiceAccounts with exactly the chart's rights.
// The double's policy has no resourceNames: names are dropped, which can only grant more, never less
// (a test passing under it proves the verbs, resources and namespaces are sufficient).
import type { PolicyRule } from "../apiserver/authz.js";

/** `system:serviceaccount:NS:NAME`, the username the API server gives a ServiceAccount's token. */
export function serviceAccountUser(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

export function policyFromChart(docs: any[]): PolicyRule[] {
  const roles = new Map<string, any>();
  for (const r of docs.filter((d) => d.kind === "Role" || d.kind === "ClusterRole")) {
    roles.set(`${r.kind}/${r.kind === "Role" ? r.metadata.namespace : ""}/${r.metadata.name}`, r);
  }
  const out: PolicyRule[] = [];
  for (const b of docs.filter((d) => d.kind === "RoleBinding" || d.kind === "ClusterRoleBinding")) {
    const namespace = b.kind === "RoleBinding" ? b.metadata.namespace : undefined;
    const role = roles.get(
      `${b.roleRef.kind}/${b.roleRef.kind === "Role" ? namespace : ""}/${b.roleRef.name}`,
    );
    if (!role)
      throw new Error(
        `${b.kind} ${b.metadata.name}: ${b.roleRef.kind} ${b.roleRef.name} is not rendered by the chart`,
      );
    const users = b.subjects
      .filter((s: any) => s.kind === "ServiceAccount")
      .map((s: any) => serviceAccountUser(s.namespace, s.name));
    for (const rule of role.rules) {
      out.push({
        users,
        verbs: rule.verbs,
        apiGroups: rule.apiGroups,
        resources: rule.resources,
        ...(namespace ? { namespaces: [namespace] } : {}),
      });
    }
  }
  return out;
}

/**
 * The container args of a rendered Deployment after its subcommand (`webhook` or `agent`), with some
 * flags' values replaced, some flags dropped, others added.
 */
export function deploymentArgs(
  docs: any[],
  name: string,
  edit: { set?: Record<string, string>; drop?: string[]; add?: string[] } = {},
): string[] {
  const dep = docs.find((d) => d.kind === "Deployment" && d.metadata.name === name);
  if (!dep) throw new Error(`Deployment ${name} is not rendered by the chart`);
  const args: string[] = dep.spec.template.spec.containers[0].args.slice(1);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (edit.drop?.includes(a)) continue;
    out.push(a);
    if (a in (edit.set ?? {}) && i + 1 < args.length) {
      out.push(edit.set![a]!);
      i++;
    }
  }
  return [...out, ...(edit.add ?? [])];
}
