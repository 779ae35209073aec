// Standalone mode never claims a Backup where a Velero server works: the pure detection rule, and
// the controller's guard (no claim, an error log, an Event, the gauge, a cached answer).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BackupController } from "../../src/agent/standalone/controller.js";
import { detectVeleroServer } from "../../src/velero/server-detect.js";
import { backupObject, pod } from "./fakes.js";
import { metricValue, world } from "./harness.js";

const NOW = new Date("2026-12-04T12:00:00Z");
const ago = (s: number): string => new Date(NOW.getTime() - s * 1000).toISOString();
const none = { storageLocations: [], deployments: [], pods: [] };

test("detection: a BSL validated within three periods, a component=velero Deployment with replicas, or a running server pod", () => {
  assert.deepEqual(detectVeleroServer(none, NOW), { detected: false });
  const fresh = detectVeleroServer(
    { ...none, storageLocations: [{ name: "default", lastValidationTime: ago(70) }] },
    NOW,
  );
  assert.ok(fresh.detected);
  assert.match(fresh.reason, /BackupStorageLocation default was validated by a Velero server 70s ago/);
  // the default period is 1m: four minutes without a heartbeat is a dead server
  assert.deepEqual(
    detectVeleroServer(
      { ...none, storageLocations: [{ name: "default", lastValidationTime: ago(240) }] },
      NOW,
    ),
    { detected: false },
  );
  // a BSL validated every 10m: 20 minutes ago is still alive; validation off (0): the time says nothing
  assert.ok(
    detectVeleroServer(
      {
        ...none,
        storageLocations: [{ name: "slow", lastValidationTime: ago(1200), validationFrequency: "10m" }],
      },
      NOW,
    ).detected,
  );
  assert.deepEqual(
    detectVeleroServer(
      { ...none, storageLocations: [{ name: "off", lastValidationTime: ago(5), validationFrequency: "0s" }] },
      NOW,
    ),
    { detected: false },
  );
  const deploy = detectVeleroServer({ ...none, deployments: [{ name: "velero", replicas: 1 }] }, NOW);
  assert.ok(deploy.detected && /Deployment velero \(component=velero\) runs 1 replica/.test(deploy.reason));
  assert.deepEqual(
    detectVeleroServer(
      { ...none, deployments: [{ name: "velero", replicas: 0, availableReplicas: 0 }] },
      NOW,
    ),
    { detected: false },
  );
  assert.ok(detectVeleroServer({ ...none, pods: [{ name: "velero-7d-x", phase: "Running" }] }, NOW).detected);
  assert.deepEqual(
    detectVeleroServer({ ...none, pods: [{ name: "velero-7d-x", phase: "Succeeded" }] }, NOW),
    { detected: false },
  );
});

test("beside a live Velero server the leader claims nothing: error, Event on the Backup, gauge 1; the answer is cached", async () => {
  const w = world();
  w.cluster.pods.push(pod("p").hook("pre", ["/bin/pre"]).build());
  w.cluster.veleroSignals = {
    ...none,
    storageLocations: [{ name: "default", lastValidationTime: new Date().toISOString() }],
  };
  const c = new BackupController(w.deps, { namespace: "velero" });
  await w.cluster.createBackup(backupObject("b1"));
  await w.cluster.createBackup(backupObject("b2"));
  await c.startLeading();
  await c.idle();
  for (const n of ["b1", "b2"]) {
    const b = w.cluster.backups.get(`velero/${n}`)!;
    assert.equal(b.status?.phase, undefined, `${n} left to Velero`);
    assert.equal(b.metadata.annotations?.["hookguard.io/owner"], undefined);
  }
  assert.equal(w.executor.calls.length, 0);
  const ev = w.cluster.kubeEvents.filter((e) => e.reason === "VeleroServerDetected");
  assert.equal(ev.length, 1, "one Event while the condition lasts");
  assert.match(ev[0]!.message, /BackupStorageLocation default .*use --mode companion/);
  assert.equal(await metricValue(w.metrics, "hookguard_velero_server_detected"), 1);
  assert.equal(w.cluster.veleroSignalReads, 1, "two claims within 30 s: one read");
  c.stopLeading();
});

test("without a Velero server the leader claims as before, and the gauge says 0", async () => {
  const w = world();
  w.cluster.pods.push(pod("p").hook("pre", ["/bin/pre"]).build());
  const c = new BackupController(w.deps, { namespace: "velero" });
  await w.cluster.createBackup(backupObject("b1"));
  await c.startLeading();
  await c.idle();
  assert.equal(w.cluster.backups.get("velero/b1")!.status?.phase, "Completed");
  assert.equal(await metricValue(w.metrics, "hookguard_velero_server_detected"), 0);
  c.stopLeading();
});
