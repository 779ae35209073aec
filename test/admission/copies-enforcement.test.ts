// /validate for controllers' copies and for --enforcement warn, over real TLS: errors become warnings
// (a copy's first warning names where to fix it; warn mode marks each error "would be denied"), the
// metrics count them, and neither relaxes the exec-permission check.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ExecAuthorizer } from "../../src/admission/authz.js";
import { validateObject } from "../../src/domain/index.js";
import { backup, pod, review, startTestWebhook, workload, type TestWebhook } from "./helpers.js";

const BAD = {
  "pre.hook.backup.velero.io/command": '["/usr/bin/sync"]',
  "pre.hook.backup.velero.io/timeout": "30",
};
const ALICE = { username: "alice", groups: ["devs"] };

function owned<T extends Record<string, any>>(obj: T, kind: string, name: string, controller = true): T {
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      ownerReferences: [
        { apiVersion: "apps/v1", kind, name, uid: "u-1", ...(controller ? { controller: true } : {}) },
      ],
    },
  };
}

async function metric(wh: TestWebhook, name: string, kind: string): Promise<number> {
  const m = (await wh.metrics.registry.getSingleMetric(name)!.get()).values.find(
    (v) => v.labels.kind === kind,
  );
  return m?.value ?? 0;
}

describe("controllers' copies", () => {
  let wh: TestWebhook;
  before(async () => {
    wh = await startTestWebhook({
      validate: {
        trustedControllers: new Set(["system:serviceaccount:argo:argo-rollouts"]),
        onControllerCopy: (k) => wh.metrics.countControllerCopy(k),
      },
    });
  });
  after(async () => wh.stop());

  it("a ReplicaSet owned by a Deployment: admitted, the first warning names the Deployment, each error follows; counted", async () => {
    const rs = owned(workload("ReplicaSet", BAD), "Deployment", "web");
    const r = await wh.post(
      "/validate",
      review({
        kind: "ReplicaSet",
        operation: "CREATE",
        object: rs,
        user: { username: "system:serviceaccount:kube-system:deployment-controller" },
      }),
    );
    assert.equal(r.json.response.allowed, true, r.text);
    const errors = validateObject(rs).findings.filter((f) => f.severity === "error");
    assert.ok(errors.length >= 1);
    assert.equal(
      r.json.response.warnings[0],
      'ReplicaSet copied by a controller: fix its hooks in the template of Deployment "web"',
    );
    assert.equal(
      r.json.response.warnings.filter((w: string) => w.startsWith("not denied (controller copy): ")).length,
      errors.length,
    );
    assert.equal(await metric(wh, "hookguard_admission_controller_copies_total", "ReplicaSet"), 1);
  });

  it("owner without controller: true, or no owner: refused as before", async () => {
    for (const obj of [owned(pod(BAD), "ReplicaSet", "web-5d8c9", false), pod(BAD)]) {
      const r = await wh.post(
        "/validate",
        review({ kind: "Pod", operation: "CREATE", object: obj, user: ALICE }),
      );
      assert.equal(r.json.response.allowed, false);
      assert.equal(r.json.response.status.code, 403);
    }
  });

  it("a Backup labelled velero.io/schedule-name names the Schedule; an empty label does not count", async () => {
    const hooks = { resources: [{ name: "h", pre: [{ exec: { command: ["/bin/sync"], timeout: "30" } }] }] };
    const b = backup(hooks);
    b.metadata.labels = { "velero.io/schedule-name": "nightly" };
    const r = await wh.post(
      "/validate",
      review({ kind: "Backup", operation: "CREATE", object: b, user: ALICE }),
    );
    assert.equal(r.json.response.allowed, true);
    assert.equal(
      r.json.response.warnings[0],
      'Backup copied by a controller: fix its hooks in Schedule "nightly"',
    );
    b.metadata.labels = { "velero.io/schedule-name": "" };
    assert.equal(
      (await wh.post("/validate", review({ kind: "Backup", operation: "CREATE", object: b, user: ALICE })))
        .json.response.allowed,
      false,
    );
  });

  it("a trusted controller's request (built-in or --trusted-controller) is a copy even without an owner", async () => {
    for (const username of [
      "system:serviceaccount:kube-system:job-controller",
      "system:serviceaccount:argo:argo-rollouts",
    ]) {
      const r = await wh.post(
        "/validate",
        review({ kind: "Pod", operation: "CREATE", object: pod(BAD), user: { username } }),
      );
      assert.equal(r.json.response.allowed, true, username);
      assert.equal(r.json.response.warnings[0], `Pod copied by ${username}: fix its hooks in its source`);
    }
  });
});

describe("--enforcement warn", () => {
  let wh: TestWebhook;
  const reviews: string[] = [];
  before(async () => {
    // an authorizer that denies alice: warn mode must not relax it
    const authorizer = new ExecAuthorizer(async (user) => ({ ok: true, value: user.username !== "alice" }));
    wh = await startTestWebhook({
      validate: { enforcement: "warn", authorizer, onWouldDeny: (k) => wh.metrics.countWouldDeny(k) },
    });
  });
  after(async () => wh.stop());

  it("errors are admitted as 'would be denied' warnings and counted", async () => {
    const d = workload("Deployment", BAD);
    const r = await wh.post(
      "/validate",
      review({ kind: "Deployment", operation: "CREATE", object: d, user: { username: "bob" } }),
    );
    assert.equal(r.json.response.allowed, true);
    const errors = validateObject(d).findings.filter((f) => f.severity === "error");
    const marked = r.json.response.warnings.filter((w: string) => w.startsWith("would be denied: "));
    assert.equal(marked.length, errors.length);
    assert.ok(
      marked.some((w: string) => w.includes('timeout "30"')),
      marked.join("\n"),
    );
    assert.equal(await metric(wh, "hookguard_admission_would_deny_total", "Deployment"), 1);
    reviews.push("done");
  });

  it("a clean object is not counted; the exec-permission check still denies", async () => {
    const good = { "pre.hook.backup.velero.io/command": '["/bin/sync"]' };
    const r = await wh.post(
      "/validate",
      review({ kind: "Pod", operation: "CREATE", object: pod(good), user: { username: "bob" } }),
    );
    assert.equal(r.json.response.allowed, true);
    assert.equal(await metric(wh, "hookguard_admission_would_deny_total", "Pod"), 0);
    const denied = await wh.post(
      "/validate",
      review({ kind: "Pod", operation: "CREATE", object: pod(good), user: ALICE }),
    );
    assert.equal(denied.json.response.allowed, false);
    assert.match(denied.json.response.status.message, /may not create pods\/exec/);
  });
});
