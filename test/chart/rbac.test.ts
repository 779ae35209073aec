// Least-privilege RBAC: the exact rules of each ServiceAccount, no wildcards anywhere.
import { test } from "node:test";
import assert from "node:assert/strict";
import { renderChart } from "./render.js";
import { valueCases } from "./cases.js";

interface Grant {
  scope: string;
  group: string;
  resource: string;
  verb: string;
  names: string;
}

/** Every (namespace, group, resource, verb, resourceNames) the ServiceAccount is bound to, sorted. */
function grantsOf(docs: any[], sa: string): string[] {
  const roles = new Map(
    docs
      .filter((d) => d.kind === "Role" || d.kind === "ClusterRole")
      .map((r) => [`${r.kind}/${r.metadata.namespace ?? ""}/${r.metadata.name}`, r]),
  );
  const out: Grant[] = [];
  for (const b of docs.filter((d) => d.kind === "RoleBinding" || d.kind === "ClusterRoleBinding")) {
    if (
      !b.subjects.some(
        (s: any) => s.kind === "ServiceAccount" && s.name === sa && s.namespace === "hookguard",
      )
    )
      continue;
    const ns = b.kind === "RoleBinding" ? b.metadata.namespace : "";
    const role = roles.get(`${b.roleRef.kind}/${b.roleRef.kind === "Role" ? ns : ""}/${b.roleRef.name}`);
    assert.ok(role, `${b.kind} ${b.metadata.name} refers to a role the chart does not render`);
    for (const r of role.rules) {
      for (const group of r.apiGroups)
        for (const resource of r.resources)
          for (const verb of r.verbs) {
            out.push({
              scope: ns || "cluster",
              group: group || "core",
              resource,
              verb,
              names: (r.resourceNames ?? []).join(","),
            });
          }
    }
  }
  return out
    .map((g) => `${g.scope} ${g.group} ${g.resource} ${g.verb}${g.names ? ` [${g.names}]` : ""}`)
    .sort();
}

const agentGrants = [
  "cluster core events create",
  "cluster core events patch",
  "cluster core namespaces list",
  "cluster core persistentvolumeclaims get",
  "cluster core persistentvolumeclaims list",
  "cluster core persistentvolumeclaims watch",
  "cluster core persistentvolumes get",
  "cluster core persistentvolumes list",
  "cluster core persistentvolumes watch",
  "cluster core pods get",
  "cluster core pods list",
  "cluster core pods watch",
  "cluster core pods/exec create",
  "cluster core pods/exec get",
  "cluster snapshot.storage.k8s.io volumesnapshots create",
  // garbage collection and `backup delete`: the snapshots of the Backups the agent ran
  "cluster snapshot.storage.k8s.io volumesnapshots delete",
  "cluster snapshot.storage.k8s.io volumesnapshots get",
  "cluster snapshot.storage.k8s.io volumesnapshots list",
  // the agent keeps its Lease in --namespace, next to the Backups
  "velero coordination.k8s.io leases create",
  "velero coordination.k8s.io leases get [hookguard-agent]",
  "velero coordination.k8s.io leases update [hookguard-agent]",
  "velero velero.io backups create",
  // the last step of deleting an expired or requested Backup the agent ran
  "velero velero.io backups delete",
  "velero velero.io backups get",
  "velero velero.io backups list",
  "velero velero.io backups patch",
  "velero velero.io backups update",
  "velero velero.io backups watch",
  // no backups/status or schedules/status: Velero's kinds have no status subresource
  "velero velero.io schedules get",
  "velero velero.io schedules list",
  "velero velero.io schedules patch",
  "velero velero.io schedules watch",
  // standalone claims nothing where a Velero server works: its BSL heartbeat and Deployment tell
  "velero velero.io backupstoragelocations list",
  "velero apps deployments list",
].sort();

test("no wildcard in any RBAC rule, in any value set", async () => {
  for (const [name, values] of Object.entries(valueCases)) {
    for (const role of (await renderChart(values)).filter(
      (d) => d.kind === "Role" || d.kind === "ClusterRole",
    )) {
      for (const rule of role.rules) {
        for (const field of ["apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"]) {
          for (const v of rule[field] ?? [])
            assert.ok(
              !String(v).includes("*"),
              `${name}: ${role.kind} ${role.metadata.name} has ${field} ${v}`,
            );
        }
        assert.ok(rule.verbs.length > 0 && rule.resources.length > 0);
      }
    }
  }
});

const companionGrants = [
  "cluster core events create",
  "cluster core events patch",
  "cluster core namespaces list",
  "cluster core persistentvolumeclaims get",
  "cluster core persistentvolumeclaims list",
  "cluster core persistentvolumeclaims watch",
  "cluster core persistentvolumes get",
  "cluster core persistentvolumes list",
  "cluster core persistentvolumes watch",
  "cluster core pods get",
  "cluster core pods list",
  "cluster core pods watch",
  // the thaw guard (agent.thawGuard.enabled, default): run eligible post hooks when Velero is interrupted
  "cluster core pods/exec create",
  "cluster core pods/exec get",
  "velero coordination.k8s.io leases create",
  "velero coordination.k8s.io leases get [hookguard-agent]",
  "velero coordination.k8s.io leases update [hookguard-agent]",
  // read-only on Velero's Backups and Schedules: Velero is their one writer
  "velero velero.io backups get",
  "velero velero.io backups list",
  "velero velero.io backups watch",
  "velero velero.io schedules get",
  "velero velero.io schedules list",
  "velero velero.io schedules watch",
  "velero velero.io downloadrequests create",
  "velero velero.io downloadrequests delete",
  "velero velero.io downloadrequests get",
  "velero velero.io backupstoragelocations get",
  "velero velero.io backupstoragelocations list",
  "velero core configmaps create",
  "velero core configmaps get [hookguard-agent-checkpoint,hookguard-agent-thaw-guard]",
  "velero core configmaps update [hookguard-agent-checkpoint,hookguard-agent-thaw-guard]",
].sort();

test("agent (companion, the default): read-only on Backups and Schedules, DownloadRequests and its checkpoints in the Velero namespace, exec for the thaw guard", async () => {
  assert.deepEqual(grantsOf(await renderChart(), "hookguard-agent"), companionGrants);
});

test("agent (companion): the thaw guard's exec right follows agent.thawGuard (off: none; namespaces: only there)", async () => {
  const noThaw = companionGrants
    .filter((g) => !g.includes("pods/exec"))
    .map((g) => g.replace(",hookguard-agent-thaw-guard", ""));
  assert.deepEqual(
    grantsOf(
      await renderChart({ agent: { thawGuard: { enabled: false, namespaces: [] } } }),
      "hookguard-agent",
    ),
    noThaw,
  );
  const scoped = grantsOf(
    await renderChart({ agent: { thawGuard: { enabled: true, namespaces: ["db", "shop"] } } }),
    "hookguard-agent",
  );
  assert.deepEqual(
    scoped,
    [
      ...companionGrants.filter((g) => !g.includes("pods/exec")),
      "db core pods/exec create",
      "db core pods/exec get",
      "shop core pods/exec create",
      "shop core pods/exec get",
    ].sort(),
  );
});

test("agent (companion): deletes nothing of Velero's, only the DownloadRequests it created", async () => {
  const deletes = grantsOf(await renderChart(), "hookguard-agent").filter(
    (g) => g.split(" ")[3] === "delete",
  );
  assert.deepEqual(deletes, ["velero velero.io downloadrequests delete"]);
});

test("agent (standalone): exactly the rights it needs", async () => {
  assert.deepEqual(
    grantsOf(await renderChart({ agent: { mode: "standalone" } }), "hookguard-agent"),
    agentGrants,
  );
});

test("agent.mode picks the agent's --mode; standalone-only flags are passed only in standalone", async () => {
  const args = (docs: any[]) =>
    docs.find((d) => d.kind === "Deployment" && d.metadata.name === "hookguard-agent").spec.template.spec
      .containers[0].args as string[];
  const companion = args(await renderChart());
  assert.equal(companion[companion.indexOf("--mode") + 1], "companion");
  assert.ok(!companion.includes("--storage-dir") && !companion.includes("--workers"));
  // companion: the freeze window bounds the thaw guard's trigger 3; the guard is on unless turned off
  assert.equal(companion[companion.indexOf("--max-freeze-window") + 1], "10m");
  assert.ok(!companion.includes("--no-thaw-guard"));
  const off = args(await renderChart({ agent: { thawGuard: { enabled: false, namespaces: [] } } }));
  assert.ok(off.includes("--no-thaw-guard"));
  const standalone = args(await renderChart({ agent: { mode: "standalone" } }));
  assert.equal(standalone[standalone.indexOf("--mode") + 1], "standalone");
  assert.ok(standalone.includes("--storage-dir"));
  assert.equal(standalone[standalone.indexOf("--gc-interval") + 1], "1h");
  assert.ok(!companion.includes("--gc-interval"));
  await assert.rejects(renderChart({ agent: { mode: "velero" } }), /mode/);
});

test("agent: Backups are reached in the configured Velero namespace; no Lease rights without leader election", async () => {
  const grants = grantsOf(
    await renderChart({
      agent: { mode: "standalone", veleroNamespace: "backup-system", leaderElection: { enabled: false } },
    }),
    "hookguard-agent",
  );
  assert.ok(grants.includes("backup-system velero.io backups update"));
  assert.ok(!grants.some((g) => g.startsWith("velero ")));
  assert.ok(!grants.some((g) => g.includes("leases")));
});

test("webhook (managed certificates): its own Secret, its own webhook configurations, SubjectAccessReviews", async () => {
  assert.deepEqual(grantsOf(await renderChart(), "hookguard-webhook"), [
    "cluster admissionregistration.k8s.io mutatingwebhookconfigurations get [hookguard]",
    "cluster admissionregistration.k8s.io mutatingwebhookconfigurations patch [hookguard]",
    "cluster admissionregistration.k8s.io validatingwebhookconfigurations get [hookguard]",
    "cluster admissionregistration.k8s.io validatingwebhookconfigurations patch [hookguard]",
    "cluster authorization.k8s.io subjectaccessreviews create",
    // create cannot be narrowed by resourceNames; the Role keeps it to the release namespace
    "hookguard core secrets create",
    "hookguard core secrets get [hookguard-webhook-tls]",
    "hookguard core secrets update [hookguard-webhook-tls]",
  ]);
});

test("webhook (cert-manager or provided certificates): only SubjectAccessReviews; nothing with the check off", async () => {
  for (const values of [valueCases.certManager!, valueCases.provided!]) {
    assert.deepEqual(grantsOf(await renderChart(values), "hookguard-webhook"), [
      "cluster authorization.k8s.io subjectaccessreviews create",
    ]);
  }
  const none = await renderChart({
    certificates: { mode: "certManager" },
    webhook: { requireExecPermission: false },
  });
  assert.deepEqual(grantsOf(none, "hookguard-webhook"), []);
  assert.equal(
    none.filter((d) => d.kind === "ClusterRole" && d.metadata.name === "hookguard-webhook").length,
    0,
  );
});

test("the webhook's configuration rights name the configurations the chart renders, and the Secret it is told to use", async () => {
  const docs = await renderChart({ fullnameOverride: "hg" });
  const names = docs.filter((d) => d.kind.endsWith("WebhookConfiguration")).map((d) => d.metadata.name);
  assert.deepEqual([...new Set(names)], ["hg"]);
  const cr = docs.find((d) => d.kind === "ClusterRole" && d.metadata.name === "hg-webhook");
  assert.deepEqual(cr.rules[0].resourceNames, ["hg"]);
  const role = docs.find((d) => d.kind === "Role" && d.metadata.name === "hg-webhook");
  const args: string[] = docs.find((d) => d.kind === "Deployment" && d.metadata.name === "hg-webhook").spec
    .template.spec.containers[0].args;
  assert.deepEqual(role.rules[0].resourceNames, [args[args.indexOf("--secret") + 1]]);
  assert.equal(args[args.indexOf("--webhook-config") + 1], "hg");
});
