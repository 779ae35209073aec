// Garbage collection's rules against the recording fakes: Velero's expiration (status.expiration,
// else start + spec.ttl with the 720h default), what is due, and how results are counted: a failed
// deletion is counted, told and retried until it succeeds; a Backup hookguard did not run is refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { backupExpiresAt, expirationFor } from "../../src/agent/standalone/expiry.js";
import { BackupCollector } from "../../src/agent/standalone/gc.js";
import { backupObject } from "./fakes.js";
import { metricValue, world } from "./harness.js";
import { waitFor } from "./double.js";
import type { BackupObject } from "../../src/velero/types.js";

test("expiration: status.expiration wins; else start (or creation) + spec.ttl; 720h when ttl is unset, zero or unparsable", () => {
  const b = backupObject("b", { ttl: "24h0m0s" });
  assert.equal(expirationFor(b, new Date("2026-01-01T00:00:00Z")), "2026-01-02T00:00:00Z");
  assert.equal(expirationFor(backupObject("d"), new Date("2026-01-01T00:00:00Z")), "2026-01-31T00:00:00Z");
  b.status = { startTimestamp: "2026-01-01T00:00:00Z" };
  assert.equal(backupExpiresAt(b), Date.parse("2026-01-02T00:00:00Z"));
  b.status.expiration = "2026-06-01T00:00:00Z";
  assert.equal(backupExpiresAt(b), Date.parse("2026-06-01T00:00:00Z"));
  for (const ttl of [undefined, "0s", "1d"]) {
    const c = backupObject("c", ttl === undefined ? {} : { ttl });
    c.metadata.creationTimestamp = "2026-01-01T00:00:00Z";
    assert.equal(backupExpiresAt(c), Date.parse("2026-01-31T00:00:00Z"), String(ttl));
  }
  assert.equal(backupExpiresAt(backupObject("no-time")), undefined);
});

function finished(
  name: string,
  extra: Partial<BackupObject["status"]> = {},
  owner = "agent-x",
): BackupObject {
  const b = backupObject(name);
  if (owner) b.metadata.annotations = { "hookguard.io/owner": owner };
  b.status = { phase: "Completed", startTimestamp: "2026-01-01T00:00:00Z", ...extra };
  return b;
}

test("a pass deletes the finished, expired Backups hookguard ran; a failed step is counted, told and retried until it succeeds", async () => {
  const w = world();
  const gone = "2020-01-01T00:00:00Z";
  const future = "2999-01-01T00:00:00Z";
  for (const b of [
    finished("expired", { expiration: gone }),
    finished("running", { phase: "InProgress", expiration: gone }),
    finished("fresh", { expiration: future }),
    finished("velero", { expiration: gone }, ""),
  ])
    await w.cluster.createBackup(b);
  const dir = join(w.deps.options.storageDir, "expired");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "expired.tar.gz"), "x");
  // the first snapshot delete fails; the retry succeeds
  let snapshotDeletes = 0;
  let snapshots = [{ namespace: "app", name: "expired-data", deleting: false }];
  w.cluster.listVolumeSnapshots = async (sel) => {
    assert.equal(sel, "hookguard.io/backup-uid=uid-expired");
    return { ok: true as const, value: snapshots };
  };
  w.cluster.deleteVolumeSnapshot = async () => {
    snapshotDeletes++;
    if (snapshotDeletes === 1)
      return { ok: false, error: { code: 500, reason: "InternalError", message: "etcd hiccup" } };
    snapshots = [];
    return { ok: true, value: undefined };
  };
  const gc = new BackupCollector(w.deps, { namespace: "velero", intervalMs: 3_600_000, retryBaseMs: 10 });
  gc.start();
  await waitFor("expired to be deleted", () => (w.cluster.backups.has("velero/expired") ? undefined : true));
  await gc.idle();
  gc.stop();
  assert.deepEqual([...w.cluster.backups.keys()].sort(), ["velero/fresh", "velero/running", "velero/velero"]);
  assert.equal(existsSync(dir), false);
  assert.equal(snapshotDeletes, 2);
  assert.equal(await metricValue(w.metrics, "hookguard_backup_deletions_total", { result: "failed" }), 1);
  assert.equal(await metricValue(w.metrics, "hookguard_backup_deletions_total", { result: "succeeded" }), 1);
  const reasons = w.cluster.kubeEvents.filter((e) => e.name === "expired").map((e) => e.reason);
  assert.deepEqual(reasons, ["BackupDeleting", "BackupDeletionFailed", "BackupDeleted"]);
  assert.match(
    w.cluster.kubeEvents.find((e) => e.reason === "BackupDeletionFailed")!.message,
    /the Backup stays until everything it left is deleted: snapshots: deleting VolumeSnapshot app\/expired-data: etcd hiccup/,
  );
});

test("a deletion marker on a Backup hookguard did not run is refused once, with a Warning Event, and the Backup is left as it is", async () => {
  const w = world();
  const theirs = finished("theirs", {}, "");
  theirs.metadata.annotations = { "hookguard.io/delete-requested": "2026-01-01T00:00:00Z" };
  await w.cluster.createBackup(theirs);
  const gc = new BackupCollector(w.deps, { namespace: "velero", intervalMs: 3_600_000 });
  gc.start();
  await gc.pass();
  await gc.idle();
  gc.onBackup(w.cluster.backups.get("velero/theirs")!, "update");
  await gc.idle();
  gc.stop();
  assert.ok(w.cluster.backups.has("velero/theirs"));
  assert.deepEqual(w.cluster.metadataPatches, []);
  const refused = w.cluster.kubeEvents.filter((e) => e.reason === "BackupDeletionRefused");
  assert.equal(refused.length, 1);
  assert.match(refused[0]!.message, /velero backup delete theirs -n velero/);
  assert.equal(await metricValue(w.metrics, "hookguard_backup_deletions_total", { result: "refused" }), 1);
});
