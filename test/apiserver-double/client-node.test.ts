// @kubernetes/client-node (1.4.0) against the double: typed CRUD, the ApiException bodies of 404 /
// 409 (AlreadyExists and optimistic-lock Conflict), custom objects without a status subresource,
// patch types, selectors, and authentication.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { request as httpsRequest } from "node:https";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";

function statusOf(e: unknown): any {
  assert.ok(e instanceof ApiException, `expected ApiException, got ${String(e)}`);
  return JSON.parse((e as ApiException<string>).body);
}

async function rejects(p: Promise<unknown>): Promise<{ code: number; status: any }> {
  try {
    await p;
  } catch (e) {
    return { code: (e as ApiException<string>).code, status: statusOf(e) };
  }
  assert.fail("expected the request to fail");
}

describe("client-node against the API-server double", () => {
  let api: ApiServerHandle;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let custom: CustomObjectsApi;
  before(async () => {
    api = await startApiServer();
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
  });
  after(() => api.stop());

  const pod = (name: string, labels: Record<string, string> = {}) => ({
    metadata: { name, labels },
    spec: { containers: [{ name: "c", image: "busybox:1.36" }] },
  });

  test("create, read, 409 AlreadyExists and 404 NotFound with real Status bodies", async () => {
    const created = await core.createNamespacedPod({ namespace: "default", body: pod("a") });
    assert.equal(created.status?.phase, "Pending");
    assert.ok(created.metadata?.uid);
    assert.match(created.metadata?.resourceVersion ?? "", /^\d+$/);
    assert.match(String(created.metadata?.creationTimestamp?.toISOString()), /Z$/);

    const dup = await rejects(core.createNamespacedPod({ namespace: "default", body: pod("a") }));
    assert.equal(dup.code, 409);
    assert.deepEqual(dup.status, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pods "a" already exists',
      reason: "AlreadyExists",
      details: { name: "a", kind: "pods" },
      code: 409,
    });

    const missing = await rejects(apps.readNamespacedDeployment({ namespace: "default", name: "nope" }));
    assert.equal(missing.code, 404);
    assert.equal(missing.status.message, 'deployments.apps "nope" not found');
    assert.deepEqual(missing.status.details, { name: "nope", group: "apps", kind: "deployments" });
  });

  test("a stale resourceVersion on update is the real optimistic-lock 409", async () => {
    // A Secret, not a Pod: the kubelet double writes pod status concurrently, as a real kubelet would.
    const s = await core.createNamespacedSecret({
      namespace: "default",
      body: { metadata: { name: "b" }, stringData: { k: "v" } },
    });
    const fresh = await core.readNamespacedSecret({ namespace: "default", name: "b" });
    fresh.metadata!.labels = { touched: "yes" };
    const updated = await core.replaceNamespacedSecret({ namespace: "default", name: "b", body: fresh });
    assert.notEqual(updated.metadata?.resourceVersion, s.metadata?.resourceVersion);
    s.metadata!.labels = { stale: "yes" };
    const c = await rejects(core.replaceNamespacedSecret({ namespace: "default", name: "b", body: s }));
    assert.equal(c.code, 409);
    assert.equal(c.status.reason, "Conflict");
    assert.equal(
      c.status.message,
      'Operation cannot be fulfilled on secrets "b": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  test("merge, JSON and strategic patches; unsupported patch types get 415", async () => {
    await core.createNamespacedPod({ namespace: "default", body: pod("c", { a: "1" }) });
    const merged = await core.patchNamespacedPod(
      { namespace: "default", name: "c", body: { metadata: { labels: { b: "2", a: null } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    assert.deepEqual(merged.metadata?.labels, { b: "2" });
    const jp = await core.patchNamespacedPod({
      namespace: "default",
      name: "c",
      body: [{ op: "add", path: "/metadata/annotations", value: { x: "y" } }],
    });
    assert.deepEqual(jp.metadata?.annotations, { x: "y" });
    const failedTest = await rejects(
      core.patchNamespacedPod({
        namespace: "default",
        name: "c",
        body: [{ op: "test", path: "/metadata/name", value: "other" }],
      }),
    );
    assert.equal(failedTest.code, 422);
    const smp = await core.patchNamespacedPod(
      {
        namespace: "default",
        name: "c",
        body: { spec: { containers: [{ name: "c", image: "busybox:1.37" }] } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
    );
    assert.equal(smp.spec?.containers[0]?.image, "busybox:1.37");
    assert.equal(smp.spec?.containers.length, 1, "merged by name, not appended");
    const ssa = await rejects(
      core.patchNamespacedPod(
        { namespace: "default", name: "c", body: { metadata: { labels: { z: "1" } } }, fieldManager: "t" },
        setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
      ),
    );
    assert.equal(ssa.code, 415);
    assert.equal(ssa.status.reason, "UnsupportedMediaType");
    const crdSmp = await rejects(
      custom.patchNamespacedCustomObject(
        {
          group: "velero.io",
          version: "v1",
          namespace: "velero",
          plural: "backups",
          name: "whatever",
          body: {},
        },
        setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
      ),
    );
    assert.equal(crdSmp.code, 404, "the object is looked up before the patch type matters");
  });

  test("custom objects without a status subresource: status kept on create, written through the object, generation", async () => {
    const body = {
      apiVersion: "velero.io/v1",
      kind: "Backup",
      metadata: { name: "b1" },
      spec: { ttl: "1h0m0s" },
      status: { phase: "Completed" },
    };
    const created: any = await custom.createNamespacedCustomObject({
      group: "velero.io",
      version: "v1",
      namespace: "velero",
      plural: "backups",
      body,
    });
    assert.deepEqual(
      created.status,
      { phase: "Completed" },
      "Velero kinds have no status subresource: status is stored on create",
    );
    assert.equal(created.metadata.generation, 1);

    const st = await rejects(
      custom.patchNamespacedCustomObjectStatus(
        {
          group: "velero.io",
          version: "v1",
          namespace: "velero",
          plural: "backups",
          name: "b1",
          body: { status: { phase: "InProgress" } },
        },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      ),
    );
    assert.equal(st.code, 404, "no status subresource to write");

    const main: any = await custom.patchNamespacedCustomObject(
      {
        group: "velero.io",
        version: "v1",
        namespace: "velero",
        plural: "backups",
        name: "b1",
        body: { spec: { ttl: "2h0m0s" }, status: { phase: "Failed" } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    assert.equal(main.spec.ttl, "2h0m0s");
    assert.deepEqual(main.status, { phase: "Failed" }, "a main-resource write changes status");
    assert.equal(main.metadata.generation, 2);

    const noRv = await rejects(
      custom.replaceNamespacedCustomObject({
        group: "velero.io",
        version: "v1",
        namespace: "velero",
        plural: "backups",
        name: "b1",
        body: { ...body, metadata: { name: "b1" } },
      }),
    );
    assert.equal(noRv.code, 422);
    assert.match(
      noRv.status.message,
      /metadata.resourceVersion: Invalid value: 0x0: must be specified for an update/,
    );

    const list: any = await custom.listNamespacedCustomObject({
      group: "velero.io",
      version: "v1",
      namespace: "velero",
      plural: "backups",
    });
    assert.equal(list.kind, "BackupList");
    assert.equal(list.items[0].kind, "Backup");
    assert.match(list.metadata.resourceVersion, /^\d+$/);

    const deleted: any = await custom.deleteNamespacedCustomObject({
      group: "velero.io",
      version: "v1",
      namespace: "velero",
      plural: "backups",
      name: "b1",
    });
    assert.equal(deleted.kind, "Status");
    assert.equal(deleted.status, "Success");
    assert.deepEqual(
      { ...deleted.details, uid: undefined },
      { name: "b1", group: "velero.io", kind: "backups", uid: undefined },
    );
  });

  test("field and label selectors on lists; unsupported field labels are a 400", async () => {
    await core.createNamespacedPod({ namespace: "default", body: pod("sel-1", { app: "x" }) });
    await core.createNamespacedPod({ namespace: "default", body: pod("sel-2", { app: "y" }) });
    const byName = await core.listNamespacedPod({
      namespace: "default",
      fieldSelector: "metadata.name=sel-2",
    });
    assert.deepEqual(
      byName.items.map((p) => p.metadata?.name),
      ["sel-2"],
    );
    const byLabel = await core.listPodForAllNamespaces({ labelSelector: "app notin (y),app" });
    assert.deepEqual(
      byLabel.items.map((p) => p.metadata?.name),
      ["sel-1"],
    );
    const bad = await rejects(
      core.listNamespacedPod({ namespace: "default", fieldSelector: "spec.bogus=1" }),
    );
    assert.equal(bad.code, 400);
    assert.equal(bad.status.message, "field label not supported: spec.bogus");
  });

  test("finalizers hold a deletion until they are removed", async () => {
    await core.createNamespacedSecret({
      namespace: "default",
      body: { metadata: { name: "held", finalizers: ["example.com/keep"] }, stringData: { a: "b" } },
    });
    await core.deleteNamespacedSecret({ namespace: "default", name: "held" });
    const still = await core.readNamespacedSecret({ namespace: "default", name: "held" });
    assert.ok(still.metadata?.deletionTimestamp);
    await core.patchNamespacedSecret(
      { namespace: "default", name: "held", body: { metadata: { finalizers: null } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    const gone = await rejects(core.readNamespacedSecret({ namespace: "default", name: "held" }));
    assert.equal(gone.code, 404);
  });

  test("requests without a valid token get the real 401", async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: api.url, caData: Buffer.from(api.caPem).toString("base64") }],
      users: [{ name: "u", token: "not-a-token" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    await assert.rejects(kc.makeApiClient(CoreV1Api).listNamespace(), (e: any) => e.code === 401);
    // client-node drops the 401 body; read it raw.
    const raw = await new Promise<{ code?: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(
        `${api.url}/api/v1/namespaces`,
        { ca: api.caPem, headers: { Authorization: "Bearer nope" } },
        (res) => {
          let body = "";
          res.on("data", (d) => (body += d));
          res.on("end", () => resolve({ code: res.statusCode, body }));
        },
      );
      req.on("error", reject);
      req.end();
    });
    assert.equal(raw.code, 401);
    assert.deepEqual(JSON.parse(raw.body), {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "Unauthorized",
      reason: "Unauthorized",
      code: 401,
    });
  });
});
