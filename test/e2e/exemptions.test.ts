// The chart's exemptions by identity (webhook.exemptUsers, webhook.exemptGroups) through the API-server
// double, which evaluates the rendered matchConditions on request.userInfo: an exempt identity's bad
// hook is admitted without the webhook ever seeing it, anyone else's is refused by the webhook.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { renderChart } from "../chart/render.js";
import { policyFromChart } from "../chart/rbac-policy.js";
import { eventually, podYaml, startE2e, type E2e } from "./harness.js";

const VELERO_SA = "system:serviceaccount:velero:velero";
const BAD_HOOK = {
  "pre.hook.backup.velero.io/command": '["/bin/sync"]',
  "pre.hook.backup.velero.io/on-error": "continue",
};
let e: E2e;

before(async () => {
  e = await startE2e({
    users: {
      [VELERO_SA]: ["system:serviceaccounts", "system:serviceaccounts:velero"],
      alice: ["devs"],
      ci: ["backup-operators"],
    },
    chartValues: { webhook: { exemptUsers: [VELERO_SA], exemptGroups: ["backup-operators"] } },
  });
  e.api.setPolicy([
    { groups: ["system:masters"], verbs: ["*"], resources: ["*"] },
    ...policyFromChart(await renderChart()),
    // everyone here may create pods and exec into them: a refusal can only be about the hook itself
    {
      users: [VELERO_SA, "alice", "ci"],
      verbs: ["*"],
      apiGroups: [""],
      resources: ["pods", "pods/exec"],
    },
  ]);
});

after(async () => {
  await e?.stop();
});

/** The webhook's logged reviews of the pod `name` (denials are logged at info, the webhook's level here). */
const reviewsOf = (name: string): number => e.admissionLogs().filter((l) => l.name === name).length;

/**
 * Waits (bounded) until the webhook has logged a review of `name`: its JSON logs go to stderr through
 * pino's asynchronous destination, so a line may land after kubectl has already printed the denial.
 * Logs arrive in order, so once this review is in, any review made before it would be too.
 */
const loggedReview = (name: string): Promise<boolean> =>
  eventually(`the webhook's log line of ${name}`, async () => reviewsOf(name) > 0, 30_000, 50);

test("a pod with a bad hook from an exempt user (Velero's ServiceAccount, restoring) is admitted without a review; alice's is refused", async () => {
  const restored = await e.run(
    "--user",
    VELERO_SA,
    "apply",
    "-f",
    e.manifest("restored.yaml", podYaml("restored", BAD_HOOK)),
  );
  assert.equal(restored.code, 0, restored.stderr);
  assert.match(restored.stdout, /pod\/restored created/);
  assert.doesNotMatch(restored.stderr, /Warning/);

  const alices = await e.run(
    "--user",
    "alice",
    "apply",
    "-f",
    e.manifest("alices.yaml", podYaml("alices", BAD_HOOK)),
  );
  assert.notEqual(alices.code, 0, alices.stdout);
  assert.match(
    alices.stderr,
    /admission webhook "pods\.validate\.hookguard\.io" denied the request: .*on-error "continue" is not valid/,
  );
  assert.ok(await loggedReview("alices"), "alice's request reached the webhook");
  assert.equal(reviewsOf("restored"), 0, "the exempt request never reached the webhook");
  assert.ok(!e.admissionLogs().some((l) => l.user === VELERO_SA));
});

test("a member of an exempt group is admitted too; the same user outside it is not", async () => {
  const ci = await e.run("--user", "ci", "apply", "-f", e.manifest("ci.yaml", podYaml("from-ci", BAD_HOOK)));
  assert.equal(ci.code, 0, ci.stderr);
  const again = await e.run(
    "--user",
    "alice",
    "apply",
    "-f",
    e.manifest("alice2.yaml", podYaml("from-ci-2", BAD_HOOK)),
  );
  assert.notEqual(again.code, 0);
  assert.ok(await loggedReview("from-ci-2"), "alice's request reached the webhook");
  assert.equal(reviewsOf("from-ci"), 0);
});
