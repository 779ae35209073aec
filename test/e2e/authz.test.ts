// The confused-deputy check end to end: the webhook runs with cluster access as the chart's
// ServiceAccount (with only the chart's RBAC), asks the double a SubjectAccessReview for the user who
// sets a hook, and refuses users who may edit pods but may not `create pods/exec` where the hook runs.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { renderChart } from "../chart/render.js";
import { policyFromChart } from "../chart/rbac-policy.js";
import { deploymentYaml, podYaml, startE2e, type E2e } from "./harness.js";

const NS = "team-a";
const COMMAND = 'pre.hook.backup.velero.io/command=["/bin/sync"]';
let e: E2e;

before(async () => {
  e = await startE2e({ namespaces: [NS], users: { alice: ["developers"], bob: ["operators"] } });
  const docs = await renderChart();
  e.api.setPolicy([
    { groups: ["system:masters"], verbs: ["*"], resources: ["*"] },
    // the webhook gets exactly the chart's RBAC (SubjectAccessReviews among it)
    ...policyFromChart(docs),
    // alice may do anything to pods and deployments in team-a, but not exec into them
    {
      users: ["alice"],
      verbs: ["*"],
      apiGroups: ["", "apps"],
      resources: ["pods", "deployments"],
      namespaces: [NS],
    },
    // bob may do the same and exec
    {
      users: ["bob"],
      verbs: ["*"],
      apiGroups: ["", "apps"],
      resources: ["pods", "pods/exec", "deployments"],
      namespaces: [NS],
    },
  ]);
  const created = await e.run("apply", "-n", NS, "-f", e.manifest("target.yaml", podYaml("target", {})));
  assert.equal(created.code, 0, created.stderr);
});

after(async () => {
  await e?.stop();
});

describe("setting a hook requires create pods/exec (SubjectAccessReview)", () => {
  test("alice, who may annotate pods but not exec into them, cannot add a hook command", async () => {
    // she can annotate: the refusal below is about the hook, not about pods
    const note = await e.run("--user", "alice", "-n", NS, "annotate", "pod", "target", "owner=alice");
    assert.equal(note.code, 0, note.stderr);

    const r = await e.run("--user", "alice", "-n", NS, "annotate", "pod", "target", COMMAND);
    assert.notEqual(r.code, 0, r.stdout);
    assert.ok(
      r.stderr.includes('admission webhook "pods.validate.hookguard.io" denied the request:'),
      r.stderr,
    );
    assert.ok(r.stderr.includes('user "alice" may not create pods/exec in namespace "team-a"'), r.stderr);
    const pod = await e.getJson("pod", "target", NS);
    assert.equal(pod.metadata.annotations["pre.hook.backup.velero.io/command"], undefined);
    assert.equal(pod.metadata.annotations.owner, "alice");
  });

  test("alice cannot hide the hook in a Deployment's pod template either", async () => {
    const file = e.manifest(
      "alice-web.yaml",
      deploymentYaml("web", { "pre.hook.backup.velero.io/command": '["/bin/sync"]' }, NS),
    );
    const r = await e.run("--user", "alice", "apply", "-f", file);
    assert.notEqual(r.code, 0, r.stdout);
    assert.ok(
      r.stderr.includes('admission webhook "workloads.validate.hookguard.io" denied the request:'),
      r.stderr,
    );
    assert.ok(r.stderr.includes('user "alice" may not create pods/exec in namespace "team-a"'), r.stderr);
  });

  test("bob, who may exec, adds the same hook", async () => {
    const r = await e.run("--user", "bob", "-n", NS, "annotate", "pod", "target", COMMAND);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pod\/target annotated/);
    assert.equal(
      (await e.getJson("pod", "target", NS)).metadata.annotations["pre.hook.backup.velero.io/command"],
      '["/bin/sync"]',
    );
  });

  test("the decisions are counted", async () => {
    assert.ok((await e.metric("hookguard_admission_authz_total", { decision: "denied" })) >= 2);
    assert.ok((await e.metric("hookguard_admission_authz_total", { decision: "allowed" })) >= 1);
    assert.equal(
      await e.metric("hookguard_admission_authz_total", { decision: "error" }),
      0,
      "every SubjectAccessReview was answered: the chart's RBAC suffices",
    );
  });
});
