// The informer and leader election against the API-server double (its own list/watch, 410
// expiry, and Lease optimistic concurrency), complementing the wire-level tests on our own servers.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { KubeConfig } from "@kubernetes/client-node";
import { silentLogger } from "../../src/log.js";
import { backupsPath, listBackupsFn, watchObjects } from "../../src/kube/informer.js";
import { LeaderElector } from "../../src/kube/leader.js";
import type { BackupObject } from "../../src/velero/types.js";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { waitFor } from "./helpers/https-server.js";

describe("informer and leader election against the API-server double", () => {
  let api: ApiServerHandle;
  let kc: KubeConfig;

  before(async () => {
    api = await startApiServer();
    kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
  });
  after(async () => {
    await api.stop();
  });

  const backup = (name: string, labels: Record<string, string> = {}) => ({
    apiVersion: "velero.io/v1",
    kind: "Backup",
    metadata: { name, namespace: "velero", labels },
    spec: {},
  });

  it("watches Backups with a label selector and survives watch closes and 410 expiry", async () => {
    const seen: string[] = [];
    const sel = "team=db";
    const w = watchObjects<BackupObject>(
      kc,
      { path: backupsPath("velero"), list: listBackupsFn(kc, "velero", sel), labelSelector: sel },
      (t, b) => seen.push(`${t} ${b.metadata.name}`),
      silentLogger(),
    );
    api.createObject(backup("mine-1", { team: "db" }));
    api.createObject(backup("theirs", { team: "web" }));
    await w.start();
    try {
      assert.deepEqual(seen, ["add mine-1"]);
      api.createObject(backup("mine-2", { team: "db" }));
      await waitFor(() => seen.includes("add mine-2"), "watch add");
      // the watch is cut and its resourceVersion compacted away: the informer re-lists
      api.expireBefore(Number(api.store.resourceVersion) + 1);
      api.closeWatches();
      api.createObject(backup("mine-3", { team: "db" }));
      await waitFor(() => seen.includes("add mine-3"), "event after 410 re-list");
      assert.equal(seen.filter((s) => s.includes("theirs")).length, 0);
      assert.equal(seen.filter((s) => s === "add mine-1").length, 1);
    } finally {
      await w.stop();
    }
  });

  it("elects one of two agents through a real Lease and hands over on stop", async () => {
    const order: string[] = [];
    const mk = (id: string) =>
      new LeaderElector(
        kc,
        {
          namespace: "velero",
          name: "hookguard-agent",
          identity: id,
          leaseDurationMs: 3000,
          renewDeadlineMs: 2000,
          retryPeriodMs: 200,
        },
        {
          onStartedLeading: () => order.push(`${id} started`),
          onStoppedLeading: () => order.push(`${id} stopped`),
        },
        silentLogger(),
      );
    const a = mk("a");
    const b = mk("b");
    a.start();
    await waitFor(() => a.isLeader(), "a leading");
    b.start();
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(b.isLeader(), false);
    const lease = api.getObject("coordination.k8s.io/v1", "Lease", "velero", "hookguard-agent");
    assert.equal(lease.spec.holderIdentity, "a");
    await a.stop();
    await waitFor(() => b.isLeader(), "b leading after a released");
    await b.stop();
    assert.deepEqual(order, ["a started", "a stopped", "b started", "b stopped"]);
    const released = api.getObject("coordination.k8s.io/v1", "Lease", "velero", "hookguard-agent");
    assert.equal(released.spec.holderIdentity ?? "", "");
    assert.equal(released.spec.leaseTransitions, 1);
  });
});
