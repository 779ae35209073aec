// createAgentCluster against the API-server double (real HTTPS, real REST semantics), and its
// retry policy against a server that fails on purpose.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { KubeConfig } from "@kubernetes/client-node";
import { silentLogger } from "../../src/log.js";
import { createAgentCluster } from "../../src/kube/agent-cluster.js";
import type { AgentCluster } from "../../src/agent/ports.js";
import type { BackupObject } from "../../src/velero/types.js";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { sendJson, startTestServer, status, waitFor } from "./helpers/https-server.js";

const backup = (name: string): BackupObject => ({
  apiVersion: "velero.io/v1",
  kind: "Backup",
  metadata: { name, namespace: "velero" },
  spec: { includedNamespaces: ["app"] },
});

describe("createAgentCluster against the API-server double", () => {
  let api: ApiServerHandle;
  let cluster: AgentCluster;

  before(async () => {
    api = await startApiServer({ namespaces: ["app", "other"] });
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    cluster = createAgentCluster(kc, silentLogger());
  });
  after(async () => {
    await api.stop();
  });

  it("creates, reads, lists and guards Backups by resourceVersion", async () => {
    const created = await cluster.createBackup(backup("b1"));
    assert.ok(created.ok);
    assert.equal(created.value.metadata.name, "b1");
    const dup = await cluster.createBackup(backup("b1"));
    assert.equal(dup.ok, false);
    assert.deepEqual(!dup.ok && [dup.error.code, dup.error.reason], [409, "AlreadyExists"]);

    const got = await cluster.getBackup("velero", "b1");
    assert.ok(got.ok && got.value);
    assert.deepEqual(got.value.spec.includedNamespaces, ["app"]);
    const missing = await cluster.getBackup("velero", "nope");
    assert.deepEqual(missing, { ok: true, value: undefined });

    const claim = (owner: string): BackupObject => ({
      ...got.value!,
      metadata: { ...got.value!.metadata, annotations: { "hookguard.dev/owner": owner } },
    });
    const claimed = await cluster.replaceBackup(claim("agent-a"));
    assert.ok(claimed.ok);
    assert.equal(claimed.value.metadata.annotations?.["hookguard.dev/owner"], "agent-a");
    // a second agent holding the old copy loses
    const stale = await cluster.replaceBackup(claim("agent-b"));
    assert.equal(!stale.ok && stale.error.code, 409);

    const listed = await cluster.listBackups("velero");
    assert.ok(listed.ok);
    assert.deepEqual(
      listed.value.map((b) => b.metadata.name),
      ["b1"],
    );
  });

  it("merge-patches the Backup status through the Backup itself (no status subresource), guarded by resourceVersion, and metadata", async () => {
    assert.ok((await cluster.createBackup(backup("b2"))).ok);
    const p1 = await cluster.patchBackupStatus("velero", "b2", {
      phase: "InProgress",
      progress: { totalItems: 3, itemsBackedUp: 1 },
    });
    assert.ok(p1.ok, !p1.ok ? p1.error.message : "");
    const p2 = await cluster.patchBackupStatus(
      "velero",
      "b2",
      { progress: { itemsBackedUp: 2 } },
      p1.value.metadata.resourceVersion,
    );
    assert.ok(p2.ok);
    assert.deepEqual(p2.value.status?.progress, { totalItems: 3, itemsBackedUp: 2 });
    assert.equal(p2.value.status?.phase, "InProgress");
    assert.equal(
      api.getObject("velero.io/v1", "Backup", "velero", "b2").status.phase,
      "InProgress",
      "stored on the server",
    );
    // a write at a version that is no longer current loses
    const stale = await cluster.patchBackupStatus(
      "velero",
      "b2",
      { phase: "Completed" },
      p1.value.metadata.resourceVersion,
    );
    assert.equal(!stale.ok && stale.error.code, 409);
    assert.equal(api.getObject("velero.io/v1", "Backup", "velero", "b2").status.phase, "InProgress");
    // the API server refuses a phase outside Velero's enum
    const bad = await cluster.patchBackupStatus("velero", "b2", { phase: "Done" });
    assert.equal(!bad.ok && bad.error.code, 422);
    const m1 = await cluster.patchBackupMetadata("velero", "b2", {
      annotations: { "hookguard.dev/pending-post-hooks": '["app/p1"]' },
    });
    assert.ok(m1.ok);
    assert.equal(m1.value.metadata.annotations?.["hookguard.dev/pending-post-hooks"], '["app/p1"]');
    const m2 = await cluster.patchBackupMetadata("velero", "b2", {
      annotations: { "hookguard.dev/pending-post-hooks": null },
    });
    assert.ok(m2.ok);
    assert.equal(m2.value.metadata.annotations?.["hookguard.dev/pending-post-hooks"], undefined);
    const gone = await cluster.patchBackupStatus("velero", "nope", { phase: "Failed" });
    assert.equal(!gone.ok && gone.error.code, 404);
  });

  it("returns pods, PVCs, PVs and namespaces as wire JSON", async () => {
    api.createObject({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "db-0",
        namespace: "app",
        labels: { app: "db" },
        annotations: { "pre.hook.backup.velero.io/command": '["/bin/true"]' },
      },
      spec: {
        containers: [{ name: "db", image: "busybox" }],
        volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data-db-0" } }],
      },
    });
    api.createObject({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web", namespace: "other" },
      spec: { containers: [{ name: "web", image: "busybox" }] },
    });
    api.createObject({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data-db-0", namespace: "app" },
      spec: { volumeName: "pv-1", accessModes: ["ReadWriteOnce"] },
    });
    api.createObject({
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pv-1" },
      spec: { claimRef: { namespace: "app", name: "data-db-0" } },
    });

    const pod = await cluster.getPod("app", "db-0");
    assert.ok(pod.ok && pod.value);
    assert.equal(pod.value.apiVersion, "v1");
    assert.equal(pod.value.kind, "Pod");
    assert.equal(pod.value.metadata?.annotations?.["pre.hook.backup.velero.io/command"], '["/bin/true"]');
    assert.equal(typeof (pod.value.metadata as { creationTimestamp?: unknown }).creationTimestamp, "string");
    assert.deepEqual(await cluster.getPod("app", "nope"), { ok: true, value: undefined });

    const all = await cluster.listPods();
    assert.ok(all.ok);
    assert.deepEqual(all.value.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).sort(), [
      "app/db-0",
      "other/web",
    ]);
    const inApp = await cluster.listPods("app");
    assert.ok(inApp.ok && inApp.value.length === 1 && inApp.value[0]!.kind === "Pod");
    const pvcs = await cluster.listPvcs();
    assert.ok(
      pvcs.ok &&
        pvcs.value[0]!.spec?.volumeName === "pv-1" &&
        pvcs.value[0]!.kind === "PersistentVolumeClaim",
    );
    const pvs = await cluster.listPvs();
    assert.ok(pvs.ok && pvs.value[0]!.spec?.claimRef?.name === "data-db-0");
    const ns = await cluster.listNamespaces();
    assert.ok(ns.ok);
    for (const n of ["app", "other", "velero", "default"]) assert.ok(ns.value.includes(n), n);
  });

  it("lists Schedules and patches their status", async () => {
    api.createObject({
      apiVersion: "velero.io/v1",
      kind: "Schedule",
      metadata: { name: "nightly", namespace: "velero" },
      spec: { schedule: "0 1 * * *", template: {} },
    });
    const s = await cluster.listSchedules("velero");
    assert.ok(s.ok && s.value.length === 1);
    const p = await cluster.patchScheduleStatus(
      "velero",
      "nightly",
      { phase: "Enabled", lastBackup: "2026-03-01T01:00:00Z" },
      s.value[0]!.metadata.resourceVersion,
    );
    assert.ok(p.ok, !p.ok ? p.error.message : "");
    assert.equal(p.value.status?.lastBackup, "2026-03-01T01:00:00Z");
    assert.equal(
      api.getObject("velero.io/v1", "Schedule", "velero", "nightly").status.lastBackup,
      "2026-03-01T01:00:00Z",
    );
    const stale = await cluster.patchScheduleStatus(
      "velero",
      "nightly",
      { phase: "FailedValidation" },
      s.value[0]!.metadata.resourceVersion,
    );
    assert.equal(!stale.ok && stale.error.code, 409);
  });

  it("creates a VolumeSnapshot and reports when it is ready", async () => {
    const c = await cluster.createVolumeSnapshot("app", "b1-data-db-0", "data-db-0", "csi-snapclass", {
      "velero.io/backup-name": "b1",
    });
    assert.deepEqual(c, { ok: true, value: { namespace: "app", name: "b1-data-db-0" } });
    const vs = api.getObject("snapshot.storage.k8s.io/v1", "VolumeSnapshot", "app", "b1-data-db-0");
    assert.equal(vs.spec.source.persistentVolumeClaimName, "data-db-0");
    assert.equal(vs.spec.volumeSnapshotClassName, "csi-snapclass");
    await waitFor(async () => {
      const st = await cluster.getVolumeSnapshotState("app", "b1-data-db-0");
      return st.ok && st.value.readyToUse;
    }, "snapshot readyToUse");
  });

  it("records Events on the involved object and swallows failures", async () => {
    const b = await cluster.getBackup("velero", "b1");
    assert.ok(b.ok && b.value);
    await cluster.createEvent(
      {
        apiVersion: "velero.io/v1",
        kind: "Backup",
        namespace: "velero",
        name: "b1",
        uid: b.value.metadata.uid,
      },
      "Warning",
      "HookFailed",
      "pre hook failed",
    );
    const listed = await fetchEvents(api, "velero");
    const ev = listed.find((e) => e.reason === "HookFailed");
    assert.ok(ev, "event recorded");
    assert.equal(ev.involvedObject.name, "b1");
    assert.equal(ev.type, "Warning");
    // a namespace that does not exist: logged, never thrown
    await cluster.createEvent(
      { apiVersion: "v1", kind: "Pod", namespace: "no-such-ns", name: "x" },
      "Normal",
      "X",
      "y",
    );
  });
});

async function fetchEvents(
  api: ApiServerHandle,
  ns: string,
): Promise<Array<{ reason: string; type: string; involvedObject: { name: string } }>> {
  const { CoreV1Api } = await import("@kubernetes/client-node");
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns });
  return list.items as unknown as Array<{ reason: string; type: string; involvedObject: { name: string } }>;
}

describe("createAgentCluster retries", () => {
  it("retries 503 and 429 until success, never a 4xx, and reports transport errors typed", async () => {
    let calls = 0;
    const srv = await startTestServer((req, res) => {
      calls++;
      if (req.url?.includes("/backups/flaky")) {
        if (calls === 1) return sendJson(res, 503, status(503, "ServiceUnavailable", "etcd leader changed"));
        if (calls === 2) return sendJson(res, 429, status(429, "TooManyRequests", "slow down"));
        return sendJson(res, 200, {
          ...backup("flaky"),
          metadata: { name: "flaky", namespace: "velero", resourceVersion: "5" },
        });
      }
      return sendJson(res, 403, status(403, "Forbidden", 'backups.velero.io "denied" is forbidden'));
    });
    try {
      const cluster = createAgentCluster(srv.kc, silentLogger(), { baseDelayMs: 10, maxDelayMs: 50 });
      const ok = await cluster.getBackup("velero", "flaky");
      assert.ok(ok.ok && ok.value?.metadata.name === "flaky");
      assert.equal(calls, 3);
      calls = 0;
      const denied = await cluster.getBackup("velero", "denied");
      assert.deepEqual(!denied.ok && denied.error, {
        code: 403,
        reason: "Forbidden",
        message: 'backups.velero.io "denied" is forbidden',
      });
      assert.equal(calls, 1);
    } finally {
      await srv.stop();
    }
    const dead = createAgentCluster(srv.kc, silentLogger(), { attempts: 2, baseDelayMs: 10 });
    const r = await dead.listPods();
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.error.code, 0);
  });
});
