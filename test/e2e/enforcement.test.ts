// `hookguard webhook --enforcement warn` behind the chart's own webhook configurations, with the real
// kubectl: what deny mode refuses is admitted with "would be denied:" warnings and counted, the
// exec-permission check still refuses, and a wrong mode is a usage error.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { renderChart } from "../chart/render.js";
import { policyFromChart } from "../chart/rbac-policy.js";
import { runProcess } from "../helpers/process.js";
import { deploymentYaml, podYaml, startE2e, type E2e } from "./harness.js";

const SLOPPY = {
  "pre.hook.backup.velero.io/command": '["/bin/sync"]',
  "pre.hook.backup.velero.io/on-error": "continue",
};
let e: E2e;

before(async () => {
  e = await startE2e({ webhookArgs: ["--enforcement", "warn"], users: { mallory: ["devs"] } });
  e.api.setPolicy([
    { groups: ["system:masters"], verbs: ["*"], resources: ["*"] },
    ...policyFromChart(await renderChart()),
    { users: ["mallory"], verbs: ["*"], apiGroups: ["", "apps"], resources: ["pods", "deployments"] },
  ]);
});

after(async () => {
  await e?.stop();
});

test("a Deployment deny mode would refuse is admitted with 'would be denied' warnings and counted", async () => {
  assert.equal(await e.metric("hookguard_admission_would_deny_total", { kind: "Deployment" }), 0);
  const r = await e.run("apply", "-f", e.manifest("web.yaml", deploymentYaml("web", SLOPPY)));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /deployment\.apps\/web created/);
  assert.match(r.stderr, /Warning: would be denied: .*on-error "continue" is not valid/);
  assert.equal(await e.metric("hookguard_admission_would_deny_total", { kind: "Deployment" }), 1);
});

test("the exec-permission check still denies in warn mode", async () => {
  const r = await e.run(
    "--user",
    "mallory",
    "apply",
    "-f",
    e.manifest("pod.yaml", podYaml("db", { "pre.hook.backup.velero.io/command": '["/bin/sync"]' })),
  );
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr, /denied the request: user "mallory" may not create pods\/exec/);
});

test("an unknown --enforcement is a usage error (exit 2)", async () => {
  const r = await runProcess(
    process.execPath,
    [fileURLToPath(new URL("../../bin/hookguard.js", import.meta.url)), "webhook", "--enforcement", "audit"],
    { timeoutMs: 60_000 },
  );
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /option '--enforcement <mode>' argument 'audit' is invalid\. Allowed choices are deny, warn\./,
  );
});
