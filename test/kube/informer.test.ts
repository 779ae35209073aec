// watchObjects against a real HTTPS list/watch endpoint: events, 410 re-list, error restarts with
// backoff, throwing handlers, periodic resync and a clean stop.
import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { silentLogger } from "../../src/log.js";
import { watchObjects, type InformerEvent, type ObjectWatcher } from "../../src/kube/informer.js";
import { startTestServer, waitFor, type TestServer } from "./helpers/https-server.js";
import { Collection, type Obj } from "./helpers/collection.js";

const PATH = "/apis/velero.io/v1/namespaces/velero/backups";

describe("watchObjects", () => {
  let srv: TestServer;
  let coll: Collection;
  let watcher: ObjectWatcher | undefined;
  let events: Array<[InformerEvent, string, string]>;

  beforeEach(async () => {
    coll = new Collection(PATH);
    srv = await startTestServer(coll.handler());
    events = [];
  });
  afterEach(async () => {
    await watcher?.stop();
    watcher = undefined;
    coll.closeWatches();
    await srv.stop();
  });

  const list = async (): Promise<{ items: Obj[]; metadata?: { resourceVersion?: string } }> => {
    const res = await fetchList();
    return res;
  };
  // The list function goes through the same server with client-node, like listBackupsFn does.
  async function fetchList(): Promise<{ items: Obj[]; metadata?: { resourceVersion?: string } }> {
    const { CustomObjectsApi } = await import("@kubernetes/client-node");
    const api = srv.kc.makeApiClient(CustomObjectsApi);
    return (await api.listNamespacedCustomObject({
      group: "velero.io",
      version: "v1",
      namespace: "velero",
      plural: "backups",
    })) as {
      items: Obj[];
      metadata?: { resourceVersion?: string };
    };
  }
  const record = (t: InformerEvent, o: Obj): void => {
    events.push([t, o.metadata.name, o.metadata.resourceVersion ?? ""]);
  };
  const has = (t: InformerEvent, name: string): boolean => events.some(([et, en]) => et === t && en === name);

  it("delivers the initial list as add, then watch add/update/delete", async () => {
    coll.put("b1", "velero");
    watcher = watchObjects(srv.kc, { path: PATH, list }, record, silentLogger());
    await watcher.start();
    assert.equal(watcher.synced(), true);
    assert.deepEqual(events, [["add", "b1", "2"]]);
    coll.put("b2", "velero");
    coll.put("b1", "velero", { spec: { ttl: "1h" } });
    coll.remove("b2", "velero");
    await waitFor(() => events.length === 4, "watch events");
    assert.deepEqual(
      events.map(([t, n]) => `${t} ${n}`),
      ["add b1", "add b2", "update b1", "delete b2"],
    );
  });

  it("re-lists after 410 Gone and reports what changed meanwhile", async () => {
    coll.put("keep", "velero");
    coll.put("gone", "velero");
    watcher = watchObjects(srv.kc, { path: PATH, list }, record, silentLogger());
    await watcher.start();
    const listsBefore = coll.lists;
    // Changes the open watch never reports, then history is compacted and the watch closes.
    coll.removeSilently("gone", "velero");
    coll.putSilently("new", "velero");
    coll.compactedBelow = coll.rv + 1;
    coll.closeWatches();
    await waitFor(() => has("delete", "gone") && has("add", "new"), "re-list after 410");
    assert.ok(coll.lists > listsBefore);
    assert.equal(has("delete", "keep"), false);
    // and the watch works again afterwards
    coll.put("after", "velero");
    await waitFor(() => has("add", "after"), "event after re-list");
  });

  it("restarts after a non-410 watch error with backoff, and after list errors", async () => {
    coll.failWatches = { code: 500, count: 2 };
    coll.failLists = 1;
    watcher = watchObjects(
      srv.kc,
      { path: PATH, list, minBackoffMs: 50, maxBackoffMs: 200 },
      record,
      silentLogger(),
    );
    await watcher.start();
    assert.equal(watcher.synced(), false);
    await waitFor(() => watcher!.synced(), "recovery after errors");
    assert.equal(coll.failWatches.count, 0);
    coll.put("late", "velero");
    await waitFor(() => has("add", "late"), "event after recovery");
  });

  it("keeps running when a handler throws", async () => {
    let calls = 0;
    watcher = watchObjects(
      srv.kc,
      { path: PATH, list },
      (t, o) => {
        calls++;
        if (o.metadata.name === "boom") throw new Error("handler bug");
        record(t, o);
      },
      silentLogger(),
    );
    await watcher.start();
    coll.put("boom", "velero");
    coll.put("fine", "velero");
    await waitFor(() => has("add", "fine"), "event after a throwing handler");
    assert.equal(calls, 2);
  });

  it("re-delivers every object as update on the periodic resync, so a missed event is seen", async () => {
    coll.put("b1", "velero");
    watcher = watchObjects(srv.kc, { path: PATH, list, resyncMs: 300 }, record, silentLogger());
    await watcher.start();
    coll.putSilently("b1", "velero", { status: { phase: "New" } });
    await waitFor(
      () => events.some(([t, n, rv]) => t === "update" && n === "b1" && rv === String(coll.rv)),
      "resync update",
    );
  });

  it("stops cleanly: no events and no requests after stop()", async () => {
    watcher = watchObjects(srv.kc, { path: PATH, list, resyncMs: 100 }, record, silentLogger());
    await watcher.start();
    await watcher.stop();
    assert.equal(watcher.synced(), false);
    const requests = srv.requests.length;
    coll.put("x", "velero");
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(has("add", "x"), false);
    assert.equal(srv.requests.length, requests);
    assert.equal(coll.watchers.size, 0);
  });
});
