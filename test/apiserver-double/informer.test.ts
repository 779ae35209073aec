// client-node's informer against the double's list/watch: add/update/delete, relisting after a 410
// Gone, re-watching after periodic stream closes, and the raw watch protocol for a too-old version.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CoreV1Api, KubeConfig, makeInformer, Watch, type V1Secret } from "@kubernetes/client-node";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { until } from "./helpers.js";

describe("informers and watches against the API-server double", () => {
  let api: ApiServerHandle;
  let kc: KubeConfig;
  let core: CoreV1Api;
  before(async () => {
    api = await startApiServer();
    kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
  });
  after(() => api.stop());

  const secret = (name: string, v: string): V1Secret => ({
    metadata: { name, labels: { app: "inf" } },
    stringData: { v },
  });

  test("an informer sees add, update and delete, and survives 410 expiry and periodic watch closes", async () => {
    const events: string[] = [];
    const errors: unknown[] = [];
    let connects = 0;
    const inf = makeInformer(
      kc,
      "/api/v1/namespaces/default/secrets",
      () => core.listNamespacedSecret({ namespace: "default", labelSelector: "app=inf" }),
      "app=inf",
    );
    inf.on("add", (o) => events.push(`add ${o.metadata?.name}`));
    inf.on("update", (o) => events.push(`update ${o.metadata?.name} ${o.metadata?.labels?.step ?? ""}`));
    inf.on("delete", (o) => events.push(`delete ${o.metadata?.name}`));
    inf.on("error", (e) => errors.push(e));
    inf.on("connect", () => connects++);
    await core.createNamespacedSecret({ namespace: "default", body: secret("s1", "1") });
    await inf.start();
    try {
      await until(() => events.includes("add s1"), 10_000, "initial add");

      await core.createNamespacedSecret({ namespace: "default", body: secret("s2", "2") });
      await until(() => events.includes("add s2"), 10_000, "watched add");

      // Every watch stream now lives 150 ms; the informer must keep re-watching without losing events.
      api.closeWatchesEvery(150);
      const before = connects;
      await until(() => connects >= before + 2, 10_000, "re-watches after closes");
      await core.patchNamespacedSecret({
        namespace: "default",
        name: "s1",
        body: [{ op: "add", path: "/metadata/labels/step", value: "two" }],
      });
      await until(() => events.includes("update s1 two"), 10_000, "update across re-watches");
      api.closeWatchesEvery(undefined);

      // Everything before now is compacted: the next watch from the informer's resourceVersion gets
      // 410 and the informer must relist (seen in the double's request log) and carry on watching.
      const isList = (e: { method: string; url: string }): boolean =>
        e.method === "GET" &&
        e.url.startsWith("/api/v1/namespaces/default/secrets?") &&
        !e.url.includes("watch=true");
      const listsBefore = api.requestLog.filter(isList).length;
      await core.deleteNamespacedSecret({ namespace: "default", name: "s2" });
      await until(() => events.includes("delete s2"), 10_000, "delete of s2");
      // Other writes move the global resourceVersion past the informer's last one, then history is cut.
      await core.createNamespace({ body: { metadata: { name: "bump" } } });
      api.expireBefore(api.store.resourceVersion);
      api.closeWatches();
      await until(() => api.requestLog.filter(isList).length > listsBefore, 10_000, "a relist after 410");
      await core.createNamespacedSecret({ namespace: "default", body: secret("s3", "3") });
      await until(() => events.includes("add s3"), 10_000, "watching again after relist");
      assert.deepEqual(
        inf
          .list()
          .map((o) => o.metadata?.name)
          .sort(),
        ["s1", "s3"],
      );
      assert.deepEqual(errors, [], "no informer errors: 410 and clean closes are recoverable");
    } finally {
      await inf.stop();
    }
  });

  test("a watch from a compacted resourceVersion gets the real 410 Expired ERROR event", async () => {
    await core.createNamespacedSecret({ namespace: "default", body: secret("old", "1") });
    const oldRv = api.store.resourceVersion;
    await core.createNamespacedSecret({ namespace: "default", body: secret("new", "1") });
    api.expireBefore(api.store.resourceVersion);
    const got: Array<{ type: string; obj: any }> = [];
    const done = new Promise<unknown>((resolve) => {
      void new Watch(kc).watch(
        "/api/v1/namespaces/default/secrets",
        { resourceVersion: String(oldRv - 1) },
        (type, obj) => got.push({ type, obj }),
        resolve,
      );
    });
    await done;
    assert.equal(got.length, 1);
    assert.equal(got[0]!.type, "ERROR");
    assert.equal(got[0]!.obj.code, 410);
    assert.equal(got[0]!.obj.reason, "Expired");
    assert.match(got[0]!.obj.message, /^too old resource version: \d+ \(\d+\)$/);
  });

  test("a watch from a retained resourceVersion replays what happened since, filtered by selector", async () => {
    const rv = api.store.resourceVersion;
    await core.createNamespacedSecret({
      namespace: "default",
      body: { metadata: { name: "other", labels: { app: "no" } } },
    });
    await core.createNamespacedSecret({ namespace: "default", body: secret("replayed", "1") });
    await core.deleteNamespacedSecret({ namespace: "default", name: "replayed" });
    const got: string[] = [];
    const ctl = await new Watch(kc).watch(
      "/api/v1/namespaces/default/secrets",
      { resourceVersion: String(rv), labelSelector: "app=inf" },
      (type, obj: any) => got.push(`${type} ${obj.metadata.name}`),
      () => undefined,
    );
    await until(() => got.length >= 2, 10_000, "replayed events");
    ctl.abort();
    assert.deepEqual(got, ["ADDED replayed", "DELETED replayed"]);
  });
});
