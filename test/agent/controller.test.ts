// Claiming, leadership and recovery against the recording fakes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { BackupController } from "../../src/agent/standalone/controller.js";
import { recoverBackup } from "../../src/agent/standalone/recovery.js";
import { resultsPath } from "../../src/agent/store/results.js";
import { backupObject, pod, pvcAndPv } from "./fakes.js";
import { execs, metricValue, world } from "./harness.js";

const FREEZE = ["/sbin/fsfreeze", "--freeze", "/data"];
const UNFREEZE = ["/sbin/fsfreeze", "--unfreeze", "/data"];

test("the leader claims a New backup (owner annotation, InProgress, startTimestamp) and finishes it", async () => {
  const w = world();
  w.cluster.pods.push(pod("p").hook("pre", ["/bin/pre"]).build());
  const c = new BackupController(w.deps, { namespace: "velero" });
  await w.cluster.createBackup(backupObject("b1"));
  c.onBackup(backupObject("b1"), "add");
  assert.equal(w.executor.calls.length, 0, "not leading: nothing happens");
  await c.startLeading();
  await c.idle();
  const b = w.cluster.backups.get("velero/b1")!;
  assert.equal(b.metadata.annotations?.["hookguard.io/owner"], "agent-test");
  assert.equal(b.status?.phase, "Completed");
  assert.match(b.status?.startTimestamp ?? "", /^\d{4}-/);
  assert.deepEqual(b.status?.hookStatus, { hooksAttempted: 1, hooksFailed: 0 });
  assert.ok(w.cluster.kubeEvents.some((e) => e.reason === "BackupStarted"));
  assert.equal(await metricValue(w.metrics, "hookguard_leader"), 1);
  // finished backups are not claimed again
  c.onBackup(b, "update");
  await c.idle();
  assert.equal(w.executor.calls.length, 1);
  c.stopLeading();
  assert.equal(await metricValue(w.metrics, "hookguard_leader"), 0);
});

test("a claim that loses the resourceVersion race (409) is dropped: the other agent owns it", async () => {
  const w = world();
  w.cluster.pods.push(pod("p").hook("pre", ["/bin/pre"]).build());
  await w.cluster.createBackup(backupObject("b1"));
  const orig = w.cluster.replaceBackup.bind(w.cluster);
  w.cluster.replaceBackup = async (b) => {
    // another agent claims between our read and our write
    const cur = w.cluster.backups.get("velero/b1")!;
    cur.metadata.resourceVersion = "999";
    cur.status = { phase: "InProgress" };
    return orig(b);
  };
  const c = new BackupController(w.deps, { namespace: "velero" });
  await c.startLeading();
  await c.idle();
  assert.equal(w.executor.calls.length, 0);
  assert.equal(w.cluster.backups.get("velero/b1")!.metadata.annotations?.["hookguard.io/owner"], undefined);
});

test("--backup-selector: only matching Backups are claimed", async () => {
  const w = world();
  const a = backupObject("mine");
  a.metadata.labels = { team: "db" };
  await w.cluster.createBackup(a);
  await w.cluster.createBackup(backupObject("other"));
  const c = new BackupController(w.deps, {
    namespace: "velero",
    backupSelector: { matchLabels: { team: "db" } },
  });
  await c.startLeading();
  await c.idle();
  assert.equal(w.cluster.backups.get("velero/mine")!.status?.phase, "Completed");
  assert.equal(w.cluster.backups.get("velero/other")!.status?.phase, undefined);
});

test("recovery: an InProgress backup of a dead owner gets its pending post hooks run, then Failed with a reason", async () => {
  const w = world();
  const { pvc, pv } = pvcAndPv("data");
  w.cluster.pvcs.push(pvc);
  w.cluster.pvs.push(pv);
  w.cluster.pods.push(pod("db").pvc("data").hook("pre", FREEZE).hook("post", UNFREEZE).build());
  const b = backupObject("b1");
  b.metadata.annotations = {
    "hookguard.io/owner": "dead-agent-123",
    "hookguard.io/pending-post-hooks": JSON.stringify([{ namespace: "default", pod: "db", block: 0 }]),
  };
  b.status = { phase: "InProgress", startTimestamp: "2026-01-01T00:00:00Z" };
  await w.cluster.createBackup(b);
  const c = new BackupController(w.deps, { namespace: "velero" });
  await c.startLeading();
  await c.idle();
  assert.deepEqual(execs(w), [`exec default/db app ${UNFREEZE.join(" ")}`]);
  const after = w.cluster.backups.get("velero/b1")!;
  assert.equal(after.status?.phase, "Failed");
  assert.match(
    after.status?.failureReason ?? "",
    /agent dead-agent-123 stopped while the backup was in progress; agent-test ran the pending post hooks of 1 pod/,
  );
  assert.equal(after.metadata.annotations?.["hookguard.io/pending-post-hooks"], undefined);
  assert.deepEqual(after.status?.hookStatus, { hooksAttempted: 1, hooksFailed: 0 });
  assert.equal(await metricValue(w.metrics, "hookguard_forced_post_hooks_total", { reason: "recovery" }), 1);
  const results = JSON.parse(readFileSync(resultsPath(w.deps.options.storageDir, "b1"), "utf8"));
  assert.equal(results.hooks[0].recovered, true);
});

test("recovery with a vanished pod records the error and still finishes the backup", async () => {
  const w = world();
  const b = backupObject("b1");
  b.metadata.annotations = {
    "hookguard.io/owner": "dead",
    "hookguard.io/pending-post-hooks": JSON.stringify([{ namespace: "default", pod: "gone", block: 0 }]),
  };
  b.status = { phase: "InProgress" };
  const created = await w.cluster.createBackup(b);
  assert.ok(created.ok);
  const r = await recoverBackup(w.deps, created.value, new AbortController().signal);
  assert.equal(r.recoveredPods, 0);
  const after = w.cluster.backups.get("velero/b1")!;
  assert.equal(after.status?.phase, "Failed");
  assert.ok((after.status?.errors ?? 0) >= 1);
});

test("InProgress backups without a hookguard owner (e.g. Velero's own) are left alone", async () => {
  const w = world();
  const b = backupObject("velero-owned");
  b.status = { phase: "InProgress" };
  await w.cluster.createBackup(b);
  const c = new BackupController(w.deps, { namespace: "velero" });
  await c.startLeading();
  await c.idle();
  assert.equal(w.cluster.backups.get("velero/velero-owned")!.status?.phase, "InProgress");
  assert.equal(w.cluster.statusPatches.length, 0);
});

test("graceful shutdown mid-backup: no new hooks start, then the agent thaws what it froze and marks the Backup Failed", async () => {
  const w = world({ volumeSnapshotClass: "csi" });
  const { pvc, pv } = pvcAndPv("data");
  w.cluster.pvcs.push(pvc);
  w.cluster.pvs.push(pv);
  w.cluster.snapshotReadyAfterReads = Number.MAX_SAFE_INTEGER; // the item step hangs
  w.cluster.pods.push(pod("db").pvc("data").hook("pre", FREEZE).hook("post", UNFREEZE).build());
  await w.cluster.createBackup(backupObject("b1"));
  const c = new BackupController(w.deps, { namespace: "velero" });
  await c.startLeading();
  for (let i = 0; i < 200 && w.cluster.snapshots.size === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(execs(w), [`exec default/db app ${FREEZE.join(" ")}`]);
  await c.stop();
  assert.equal(
    w.cluster.backups.get("velero/b1")!.status?.phase,
    "InProgress",
    "the aborted run leaves it to the shutdown path",
  );
  assert.equal(execs(w).length, 1, "no hook started after the stop");
  assert.equal(await c.finishOwn(5_000), 1);
  assert.deepEqual(execs(w), [
    `exec default/db app ${FREEZE.join(" ")}`,
    `exec default/db app ${UNFREEZE.join(" ")}`,
  ]);
  const after = w.cluster.backups.get("velero/b1")!;
  assert.equal(after.status?.phase, "Failed");
  assert.match(
    after.status?.failureReason ?? "",
    /agent agent-test stopped while the backup was in progress/,
  );
  assert.equal(after.metadata.annotations?.["hookguard.io/pending-post-hooks"], undefined);
});
