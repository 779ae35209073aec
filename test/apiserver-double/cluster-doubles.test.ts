// The double's cluster behaviour: SubjectAccessReviews and the request policy, the kubelet double's
// pod phases, the snapshot controller double, and pod exec wired in with authentication and
// authorization (through the real kubectl).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AuthorizationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { Kubectl, startWebhook, until } from "./helpers.js";

describe("cluster behaviour of the API-server double", () => {
  let api: ApiServerHandle;
  let core: CoreV1Api;
  let authz: AuthorizationV1Api;
  let custom: CustomObjectsApi;
  let k: Kubectl;
  before(async () => {
    api = await startApiServer();
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    authz = kc.makeApiClient(AuthorizationV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
    k = new Kubectl(api.kubeconfigPath);
  });
  after(async () => {
    api.setPolicy(undefined);
    await api.stop();
    k.cleanup();
  });

  const review = (user: string, groups: string[], verb: string, resource: string, subresource?: string) =>
    authz.createSubjectAccessReview({
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user,
          groups,
          resourceAttributes: { namespace: "default", verb, resource, subresource, group: "" },
        },
      },
    });

  test("SubjectAccessReviews: allow-all by default, then answered from the configured policy", async () => {
    assert.equal((await review("anyone", [], "create", "pods", "exec")).status?.allowed, true);
    api.setPolicy([
      { users: ["admin"], verbs: ["*"], resources: ["*"] },
      { groups: ["velero-ops"], verbs: ["create"], resources: ["pods/exec"], namespaces: ["default"] },
    ]);
    try {
      const yes = await review("velero", ["velero-ops"], "create", "pods", "exec");
      assert.equal(yes.status?.allowed, true);
      assert.equal(yes.kind, "SubjectAccessReview");
      const no = await review("mallory", ["devs"], "create", "pods", "exec");
      assert.equal(no.status?.allowed, false);
      assert.notEqual(no.status?.denied, true, "RBAC-style: not allowed, not explicitly denied");
      const wrongVerb = await review("velero", ["velero-ops"], "get", "pods", "exec");
      assert.equal(wrongVerb.status?.allowed, false);
    } finally {
      api.setPolicy(undefined);
    }
  });

  test("the policy guards requests with the real Forbidden text", async () => {
    const bob = api.addUser("bob", ["devs"]);
    api.setPolicy([
      { users: ["admin"], verbs: ["*"], resources: ["*"] },
      { users: ["bob"], verbs: ["get"], resources: ["pods"] },
    ]);
    try {
      const asBob = new Kubectl(bob.kubeconfigPath);
      try {
        const r = await asBob.run(["get", "pods"]);
        assert.equal(r.code, 1);
        assert.match(
          r.stderr,
          /Error from server \(Forbidden\): pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"/,
        );
        const d = await asBob.run(["get", "deploy", "x"]);
        assert.match(
          d.stderr,
          /deployments.apps "x" is forbidden: User "bob" cannot get resource "deployments" in API group "apps" in the namespace "default"/,
        );
        // kubectl auth can-i: a SelfSubjectAccessReview (sent as protobuf) about the caller.
        const canGet = await asBob.run(["auth", "can-i", "get", "pods"]);
        assert.equal(canGet.stdout.trim(), "yes");
        const canExec = await asBob.run(["auth", "can-i", "create", "pods/exec"]);
        assert.equal(canExec.stdout.trim(), "no");
        assert.equal(canExec.code, 1);
      } finally {
        asBob.cleanup();
      }
    } finally {
      api.setPolicy(undefined);
    }
  });

  test("kubelet double: Running with container statuses; per-pod Pending, Succeeded and Failed", async () => {
    const mk = (name: string, phase?: string) =>
      core.createNamespacedPod({
        namespace: "default",
        body: {
          metadata: { name, annotations: phase ? { "double.hookguard.dev/phase": phase } : {} },
          spec: { containers: [{ name: "app", image: "busybox:1.36" }] },
        },
      });
    await mk("stays-pending", "Pending");
    await mk("done", "Succeeded");
    await mk("broken", "Failed");
    await mk("runs");
    const get = (n: string) => api.getObject("v1", "Pod", "default", n);
    await until(() => get("runs")?.status?.phase === "Running", 10_000, "runs Running");
    const r = get("runs");
    assert.equal(r.spec.nodeName, "node-1");
    assert.match(r.status.podIP, /^10\.244\./);
    assert.equal(r.status.containerStatuses[0].name, "app");
    assert.ok(r.status.containerStatuses[0].state.running.startedAt);
    assert.equal(r.status.containerStatuses[0].ready, true);
    assert.equal(r.status.conditions.find((c: any) => c.type === "Ready").status, "True");
    await until(() => get("done")?.status?.phase === "Succeeded", 10_000, "done Succeeded");
    assert.equal(get("done").status.containerStatuses[0].state.terminated.exitCode, 0);
    await until(() => get("broken")?.status?.phase === "Failed", 10_000, "broken Failed");
    assert.equal(get("stays-pending").status.phase, "Pending");
    assert.equal(get("stays-pending").spec.nodeName, "node-1", "scheduled, but never started");
  });

  test("snapshot controller double: readyToUse with a bound content, or the requested error", async () => {
    const vs = (name: string, annotations: Record<string, string> = {}) =>
      custom.createNamespacedCustomObject({
        group: "snapshot.storage.k8s.io",
        version: "v1",
        namespace: "default",
        plural: "volumesnapshots",
        body: {
          apiVersion: "snapshot.storage.k8s.io/v1",
          kind: "VolumeSnapshot",
          metadata: { name, annotations },
          spec: { source: { persistentVolumeClaimName: "data" }, volumeSnapshotClassName: "csi" },
        },
      });
    await vs("good");
    await vs("bad", { "double.hookguard.dev/snapshot-error": "rpc error: code = Internal desc = disk busy" });
    const get = (n: string) => api.getObject("snapshot.storage.k8s.io/v1", "VolumeSnapshot", "default", n);
    await until(() => get("good")?.status?.readyToUse === true, 10_000, "good ready");
    const content = api.getObject(
      "snapshot.storage.k8s.io/v1",
      "VolumeSnapshotContent",
      undefined,
      get("good").status.boundVolumeSnapshotContentName,
    );
    assert.equal(content.spec.volumeSnapshotRef.name, "good");
    await until(() => get("bad")?.status?.error, 10_000, "bad errored");
    assert.equal(get("bad").status.readyToUse, false);
    assert.equal(get("bad").status.error.message, "rpc error: code = Internal desc = disk busy");
  });

  test("kubectl exec is wired through: output, exit codes, 404 for a missing pod, 403 by policy", async () => {
    assert.equal(
      (await k.run(["run", "box", "--image=busybox:1.36", "--restart=Never", "--", "sleep", "3600"])).code,
      0,
    );
    const ready = await k.run(["wait", "--for=condition=Ready", "pod/box", "--timeout=30s"]);
    assert.equal(ready.code, 0, ready.stderr);
    assert.match(ready.stdout, /pod\/box condition met/);
    const hi = await k.run(["exec", "box", "-c", "box", "--", "echo", "hi"]);
    assert.equal(hi.code, 0, hi.stderr);
    assert.equal(hi.stdout, "hi\n");
    const three = await k.run(["exec", "box", "--", "sh", "-c", "echo oops >&2; exit 3"]);
    assert.equal(three.code, 3);
    assert.match(three.stderr, /oops\n/);
    assert.match(three.stderr, /command terminated with exit code 3/);
    const missing = await k.run(["exec", "nobody", "--", "true"]);
    assert.match(missing.stderr, /Error from server \(NotFound\): pods "nobody" not found/);

    // Webhooks registered for pods/exec see a CONNECT with the PodExecOptions.
    const guard = await startWebhook((req) =>
      (req.object?.command ?? []).includes("rm")
        ? { allowed: false, status: { code: 403, reason: "Forbidden", message: "no rm in exec" } }
        : { allowed: true },
    );
    try {
      const cfg = {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingWebhookConfiguration",
        metadata: { name: "exec-guard" },
        webhooks: [
          {
            name: "exec.guard.dev",
            admissionReviewVersions: ["v1"],
            sideEffects: "None",
            clientConfig: { url: guard.url, caBundle: guard.caBundle },
            rules: [
              { apiGroups: [""], apiVersions: ["v1"], resources: ["pods/exec"], operations: ["CONNECT"] },
            ],
          },
        ],
      };
      assert.equal((await k.run(["apply", "-f", k.manifest("g.json", JSON.stringify(cfg))])).code, 0);
      const rm = await k.run(["exec", "box", "--", "rm", "-rf", "/tmp/x"]);
      assert.notEqual(rm.code, 0);
      assert.match(rm.stderr, /admission webhook "exec.guard.dev" denied the request: no rm in exec/);
      const rq = guard.reviews[0].request;
      assert.equal(rq.operation, "CONNECT");
      assert.equal(rq.subResource, "exec");
      assert.deepEqual(rq.kind, { group: "", version: "v1", kind: "PodExecOptions" });
      assert.deepEqual(rq.object.command, ["rm", "-rf", "/tmp/x"]);
      assert.equal((await k.run(["exec", "box", "--", "true"])).code, 0);
    } finally {
      await k.run(["delete", "validatingwebhookconfiguration", "exec-guard"]);
      await guard.stop();
    }

    const eve = api.addUser("eve", ["devs"]);
    api.setPolicy([
      { users: ["admin"], verbs: ["*"], resources: ["*"] },
      { users: ["eve"], verbs: ["get", "list"], resources: ["pods"] },
    ]);
    const asEve = new Kubectl(eve.kubeconfigPath);
    try {
      const denied = await asEve.run(["exec", "box", "--", "true"]);
      assert.notEqual(denied.code, 0);
      assert.match(
        denied.stderr,
        /pods "box" is forbidden: User "eve" cannot create resource "pods\/exec" in API group "" in the namespace "default"/,
      );
    } finally {
      asEve.cleanup();
      api.setPolicy(undefined);
    }
  });
});
