// The confused-deputy check end to end: the webhook over real TLS, the real client-node
// SubjectAccessReview call to a fake API server over real TLS, and the decision in the response.
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ExecAuthorizer } from "../../src/admission/authz.js";
import { subjectAccessReviewer } from "../../src/kube/authz.js";
import { startFakeApi, type FakeApi } from "./fake-apiserver.js";
import { backup, pod, review, schedule, startTestWebhook, workload, type TestWebhook } from "./helpers.js";

const HOOK = {
  "pre.hook.backup.velero.io/container": "app",
  "pre.hook.backup.velero.io/command": '["/usr/bin/sync"]',
};
const hooksIn = (ns?: string[]) => ({
  resources: [
    {
      name: "sync",
      ...(ns ? { includedNamespaces: ns } : {}),
      pre: [{ exec: { container: "app", command: ["/usr/bin/sync"] } }],
    },
  ],
});

describe("exec-permission check (SubjectAccessReview)", () => {
  let api: FakeApi;
  let wh: TestWebhook;
  let now = 1_000_000;
  before(async () => {
    api = await startFakeApi();
    const authorizer = new ExecAuthorizer(subjectAccessReviewer(api.kc), { ttlMs: 10_000, now: () => now });
    const metricsRef: { wh?: TestWebhook } = {};
    wh = await startTestWebhook({
      validate: { authorizer, onAuthz: (decision) => metricsRef.wh?.metrics.authz.inc({ decision }) },
    });
    metricsRef.wh = wh;
  });
  after(async () => {
    await wh.stop();
    await api.stop();
  });
  afterEach(() => {
    api.sar.length = 0;
    api.decide = () => true;
    now += 60_000; // expire the cache between tests
  });
  const authz = async (decision: string) =>
    (await wh.metrics.authz.get()).values.find((v) => v.labels.decision === decision)?.value ?? 0;

  it("asks as the requesting user (name, uid, groups, extra) for create pods/exec in the pod's namespace, and allows", async () => {
    const user = {
      username: "alice",
      uid: "u-1",
      groups: ["dev", "system:authenticated"],
      extra: { "scopes.example.com": ["a"] },
    };
    const res = await wh.post(
      "/validate",
      review({ kind: "Pod", operation: "CREATE", object: pod(HOOK), namespace: "shop", user, uid: "ok" }),
    );
    assert.deepEqual(res.json.response, { uid: "ok", allowed: true, status: { code: 200 } });
    assert.deepEqual(api.sar, [
      {
        user: "alice",
        uid: "u-1",
        groups: ["dev", "system:authenticated"],
        extra: { "scopes.example.com": ["a"] },
        resourceAttributes: {
          namespace: "shop",
          verb: "create",
          group: "",
          resource: "pods",
          subresource: "exec",
        },
      },
    ]);
  });

  it("denies with a message naming the missing permission, and counts the decision", async () => {
    api.decide = (spec) => spec.user !== "mallory";
    const before = await authz("denied");
    const res = await wh.post(
      "/validate",
      review({
        kind: "Deployment",
        operation: "CREATE",
        object: workload("Deployment", HOOK),
        namespace: "shop",
        user: { username: "mallory", groups: ["system:authenticated"] },
        uid: "no",
      }),
    );
    assert.deepEqual(res.json.response, {
      uid: "no",
      allowed: false,
      status: {
        code: 403,
        reason: "Forbidden",
        message: `user "mallory" may not create pods/exec in namespace "shop": setting a hook (the pod template's pre.hook.backup.velero.io/container annotation) runs a command in pods with the hook agent's rights, so it requires that permission`,
      },
    });
    assert.equal(await authz("denied"), before + 1);
  });

  it("fails closed when the SubjectAccessReview call fails", async () => {
    api.decide = () => "error";
    const before = await authz("error");
    const res = await wh.post(
      "/validate",
      review({ kind: "Pod", operation: "CREATE", object: pod(HOOK), namespace: "shop", uid: "err" }),
    );
    assert.equal(res.json.response.allowed, false);
    assert.equal(res.json.response.status.code, 403);
    assert.equal(
      res.json.response.status.message,
      `hookguard could not check whether user "alice" may create pods/exec in namespace "shop", which setting a hook (the pre.hook.backup.velero.io/container annotation) requires (denied, failing closed): SubjectAccessReview failed: 500 InternalError: etcd is on fire`,
    );
    assert.equal(await authz("error"), before + 1);
    // Errors are not cached: once the API server answers again, the same request is allowed.
    api.decide = () => true;
    const again = await wh.post(
      "/validate",
      review({ kind: "Pod", operation: "CREATE", object: pod(HOOK), namespace: "shop" }),
    );
    assert.equal(again.json.response.allowed, true);
  });

  it("caches answers briefly per user, groups and namespace", async () => {
    const send = (ns: string) =>
      wh.post("/validate", review({ kind: "Pod", operation: "CREATE", object: pod(HOOK), namespace: ns }));
    await send("shop");
    await send("shop");
    assert.equal(api.sar.length, 1);
    await send("other");
    assert.equal(api.sar.length, 2);
    now += 11_000;
    await send("shop");
    assert.equal(api.sar.length, 3);
  });

  it("does not ask when no hook is added or changed, or when a cluster controller copies a template", async () => {
    // An UPDATE that leaves the hook alone (e.g. a label change by a user without exec rights).
    api.decide = () => false;
    const old = pod(HOOK);
    const changed = pod(HOOK);
    changed.metadata.labels.team = "payments";
    const res = await wh.post(
      "/validate",
      review({ kind: "Pod", operation: "UPDATE", object: changed, oldObject: old }),
    );
    assert.equal(res.json.response.allowed, true);
    // Removing a hook grants nothing.
    const removed = await wh.post(
      "/validate",
      review({ kind: "Pod", operation: "UPDATE", object: pod(), oldObject: old }),
    );
    assert.equal(removed.json.response.allowed, true);
    // A pod without hooks.
    assert.equal(
      (await wh.post("/validate", review({ kind: "Pod", operation: "CREATE", object: pod() }))).json.response
        .allowed,
      true,
    );
    // The ReplicaSet controller creating a pod from a template.
    for (const username of [
      "system:serviceaccount:kube-system:replicaset-controller",
      "system:serviceaccount:kube-system:job-controller",
      "system:kube-controller-manager",
    ]) {
      const byController = await wh.post(
        "/validate",
        review({
          kind: "Pod",
          operation: "CREATE",
          object: pod(HOOK),
          user: { username, groups: ["system:serviceaccounts"] },
        }),
      );
      assert.equal(byController.json.response.allowed, true, username);
    }
    assert.deepEqual(api.sar, []);
    // Any other kube-system service account is checked like everyone else.
    const other = await wh.post(
      "/validate",
      review({
        kind: "Pod",
        operation: "CREATE",
        object: pod(HOOK),
        user: { username: "system:serviceaccount:kube-system:some-addon" },
      }),
    );
    assert.equal(other.json.response.allowed, false);
    assert.equal(api.sar.length, 1);
  });

  it("changing a hook value on UPDATE is checked (kubectl annotate)", async () => {
    api.decide = () => false;
    const old = pod(HOOK);
    const object = pod({ ...HOOK, "pre.hook.backup.velero.io/command": '["/bin/rm","-rf","/data"]' });
    const res = await wh.post(
      "/validate",
      review({ kind: "Pod", operation: "UPDATE", object, oldObject: old, namespace: "shop" }),
    );
    assert.equal(res.json.response.allowed, false);
    assert.match(res.json.response.status.message, /pre\.hook\.backup\.velero\.io\/command annotation/);
  });

  it("opting a pod in to the thaw guard is checked like a hook; opting out is not", async () => {
    api.decide = () => false;
    const old = pod(HOOK);
    const enabled = pod({ ...HOOK, "hookguard.io/thaw-guard": "enabled" });
    const res = await wh.post(
      "/validate",
      review({ kind: "Pod", operation: "UPDATE", object: enabled, oldObject: old, namespace: "shop" }),
    );
    assert.equal(res.json.response.allowed, false);
    assert.match(res.json.response.status.message, /hookguard\.io\/thaw-guard annotation/);
    const disabled = pod({ ...HOOK, "hookguard.io/thaw-guard": "disabled" });
    const off = await wh.post(
      "/validate",
      review({ kind: "Pod", operation: "UPDATE", object: disabled, oldObject: enabled, namespace: "shop" }),
    );
    assert.equal(off.json.response.allowed, true, off.text);
  });

  it("Backup and Schedule hooks are checked in each namespace they can reach, or cluster-wide", async () => {
    const cases: Array<[ReturnType<typeof backup>, "Backup" | "Schedule", string[]]> = [
      [backup(hooksIn(["shop", "db"])), "Backup", ["db", "shop"]],
      [backup(hooksIn(), { includedNamespaces: ["payments"] }), "Backup", ["payments"]],
      [backup(hooksIn()), "Backup", [""]],
      [backup(hooksIn(["shop-*"])), "Backup", [""]],
      [schedule(hooksIn(["shop"])), "Schedule", ["shop"]],
      [schedule(hooksIn(), { includedNamespaces: ["*"] }), "Schedule", [""]],
    ];
    for (const [object, kind, namespaces] of cases) {
      api.sar.length = 0;
      now += 60_000;
      const res = await wh.post(
        "/validate",
        review({ kind, operation: "CREATE", object, namespace: "velero" }),
      );
      assert.equal(res.json.response.allowed, true, JSON.stringify(res.json.response));
      assert.deepEqual(
        api.sar.map((s) => s.resourceAttributes?.namespace ?? ""),
        namespaces,
        JSON.stringify(object.spec),
      );
    }
    api.decide = (spec) => spec.resourceAttributes?.namespace === "shop";
    now += 60_000;
    const denied = await wh.post(
      "/validate",
      review({ kind: "Backup", operation: "CREATE", object: backup(hooksIn()), namespace: "velero" }),
    );
    assert.equal(
      denied.json.response.status.message,
      `user "alice" may not create pods/exec in all namespaces (the hook is not restricted to namespaces): setting spec.hooks on a Backup runs a command in pods with the hook agent's rights, so it requires that permission`,
    );
  });
});

describe("ExecAuthorizer", () => {
  it("exempts extra trusted controllers given by full username, and nobody else", async () => {
    const asked: string[] = [];
    const authorizer = new ExecAuthorizer(
      async (user) => {
        asked.push(user.username ?? "");
        return { ok: true, value: false };
      },
      { trustedUsers: ["system:serviceaccount:argo-rollouts:argo-rollouts"] },
    );
    assert.deepEqual(
      await authorizer.authorize(
        { username: "system:serviceaccount:argo-rollouts:argo-rollouts" },
        ["shop"],
        "x",
      ),
      { decision: "skipped" },
    );
    assert.equal(
      (await authorizer.authorize({ username: "system:serviceaccount:argo-rollouts:other" }, ["shop"], "x"))
        .decision,
      "denied",
    );
    assert.deepEqual(asked, ["system:serviceaccount:argo-rollouts:other"]);
  });
});
