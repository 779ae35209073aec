// Tracker counting rules (Velero TestBackupHookTracker), the per-pod lock across two Backups,
// --parallel-hooks, and the archive's tar format.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { HookTracker, type HookKey } from "../../src/agent/hooks/tracker.js";
import { KeyedMutex } from "../../src/agent/runtime/pod-lock.js";
import {
  archiveItemPath,
  preferredVersionPath,
  readArchive,
  writeArchive,
} from "../../src/agent/store/archive.js";
import { processBackup } from "../../src/agent/standalone/lifecycle.js";
import { backupObject, exited, pod, pvcAndPv } from "./fakes.js";
import { run, world } from "./harness.js";
import type { BackupObject } from "../../src/velero/types.js";
import { finishBackup } from "../../src/agent/standalone/status.js";

const key = (over: Partial<HookKey>): HookKey => ({
  namespace: "ns",
  pod: "p",
  phase: "pre",
  source: "spec",
  name: "h",
  containerAsWritten: "",
  index: 0,
  ...over,
});

test("tracker: add counts attempted once per key; only the first record counts; unknown keys are refused", () => {
  const t = new HookTracker();
  // Velero's table: [1a fails, 1b, 2 fails, 3] -> attempted 4, failed 2
  const keys = [
    key({ name: "1", index: 0 }),
    key({ name: "1", index: 1 }),
    key({ name: "2" }),
    key({ name: "3" }),
  ];
  keys.forEach((k) => t.add(k));
  t.add(keys[0]!);
  t.record(keys[0]!, true);
  t.record(keys[0]!, false); // second record of the same key is ignored
  t.record(keys[1]!, false);
  t.record(keys[2]!, true);
  assert.deepEqual(t.stat(), { hooksAttempted: 4, hooksFailed: 2 });
  assert.equal(t.record(key({ name: "never-added" }), true), false);
  // container as written and phase are part of the key
  t.add(key({ name: "1", containerAsWritten: "app" }));
  t.add(key({ name: "1", phase: "post" }));
  assert.equal(t.stat().hooksAttempted, 6);
});

test("KeyedMutex runs holders of one key one at a time, other keys concurrently", async () => {
  const m = new KeyedMutex();
  const log: string[] = [];
  const hold = (k: string, id: string, ms: number) =>
    m.run(k, async () => {
      log.push(`start ${id}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${id}`);
    });
  await Promise.all([hold("a", "a1", 30), hold("a", "a2", 1), hold("b", "b1", 1)]);
  assert.deepEqual(
    log.filter((l) => l.endsWith("a1") || l.endsWith("a2")),
    ["start a1", "end a1", "start a2", "end a2"],
  );
  assert.ok(log.indexOf("end b1") < log.indexOf("end a1"), "b did not wait for a");
  assert.equal(m.size, 0);
});

/** Makes each command take 20 ms and records how many ran at once at most. */
function trackConcurrency(w: ReturnType<typeof world>, commands: string[]): { max: number } {
  const seen = { max: 0 };
  let inFlight = 0;
  for (const cmd of commands) {
    w.executor.behaviours.set(cmd, async () => {
      inFlight++;
      seen.max = Math.max(seen.max, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return exited(0);
    });
  }
  return seen;
}

test("two Backups running at once: hooks on one pod never overlap, and one Backup's freeze..thaw is never split by the other's", async () => {
  const w = world();
  w.cluster.pods.push(pod("db").hook("pre", ["/bin/freeze"]).hook("post", ["/bin/thaw"]).build());
  const concurrency = trackConcurrency(w, ["/bin/freeze", "/bin/thaw"]);
  const make = async (name: string) =>
    ((await w.cluster.createBackup(backupObject(name))) as { ok: true; value: BackupObject }).value;
  const [b1, b2] = [await make("one"), await make("two")];
  const signal = new AbortController().signal;
  const [r1, r2] = await Promise.all([processBackup(w.deps, b1, signal), processBackup(w.deps, b2, signal)]);
  assert.equal(concurrency.max, 1);
  assert.deepEqual(
    w.executor.calls.map((c) => c.argv[0]),
    ["/bin/freeze", "/bin/thaw", "/bin/freeze", "/bin/thaw"],
  );
  assert.deepEqual(
    [r1.hookStatus, r2.hookStatus],
    [
      { hooksAttempted: 2, hooksFailed: 0 },
      { hooksAttempted: 2, hooksFailed: 0 },
    ],
  );
});

test("KeyedMutex.runAll takes overlapping key sets in a fixed order: no deadlock", async () => {
  const m = new KeyedMutex();
  const order: string[] = [];
  const hold = (keys: string[], id: string) =>
    m.runAll(keys, async () => {
      order.push(id);
      await new Promise((r) => setTimeout(r, 5));
    });
  await Promise.all([hold(["a", "b"], "x"), hold(["b", "a"], "y"), hold(["c", "a"], "z")]);
  assert.equal(order.length, 3);
  assert.equal(m.size, 0);
});

test("--parallel-hooks runs the pods' pre hooks of one block concurrently; default is sequential", async () => {
  for (const parallelHooks of [true, false]) {
    const w = world({ parallelHooks });
    const { pvc, pv } = pvcAndPv("shared");
    w.cluster.pvcs.push(pvc);
    w.cluster.pvs.push(pv);
    for (const n of ["p1", "p2", "p3"])
      w.cluster.pods.push(pod(n).pvc("shared").hook("pre", ["/bin/pre"]).hook("post", ["/bin/post"]).build());
    const concurrency = trackConcurrency(w, ["/bin/pre", "/bin/post"]);
    const r = await run(w);
    assert.deepEqual(r.status.hookStatus, { hooksAttempted: 6, hooksFailed: 0 });
    assert.equal(concurrency.max, parallelHooks ? 3 : 1);
    // whatever the mode, every pre hook ends before the first post hook starts
    const firstPost = w.events.findIndex((e) => e.endsWith("/bin/post"));
    assert.equal(w.events.slice(firstPost).filter((e) => e.endsWith("/bin/pre")).length, 0);
  }
});

test("archive: Velero layout paths, gzip'd ustar readable by the system tar, long names via PAX", async () => {
  assert.equal(
    archiveItemPath({ resource: "pods", group: "", namespace: "ns", name: "p" }),
    "resources/pods/namespaces/ns/p.json",
  );
  assert.equal(
    archiveItemPath({ resource: "persistentvolumes", group: "", name: "pv1" }),
    "resources/persistentvolumes/cluster/pv1.json",
  );
  assert.equal(
    archiveItemPath({
      resource: "volumesnapshots",
      group: "snapshot.storage.k8s.io",
      namespace: "ns",
      name: "s",
    }),
    "resources/volumesnapshots.snapshot.storage.k8s.io/namespaces/ns/s.json",
  );
  const dir = mkdtempSync(join(tmpdir(), "hookguard-tar-"));
  const long = "x".repeat(240);
  const path = join(dir, "b.tar.gz");
  const w = await writeArchive(path, [
    { resource: "pods", group: "", namespace: "ns", name: "p", object: { kind: "Pod" } },
    {
      resource: "persistentvolumeclaims",
      group: "",
      namespace: "ns",
      name: long,
      object: { kind: "PersistentVolumeClaim" },
    },
  ]);
  assert.ok(w.ok);
  const back = await readArchive(path);
  assert.ok(back.ok);
  // format 1.1.0: every item under the 1.0 path and under <version>-preferredversion, as Velero writes them
  assert.deepEqual(
    [...back.value.keys()],
    [
      "metadata/version",
      "resources/pods/namespaces/ns/p.json",
      "resources/pods/v1-preferredversion/namespaces/ns/p.json",
      `resources/persistentvolumeclaims/namespaces/ns/${long}.json`,
      `resources/persistentvolumeclaims/v1-preferredversion/namespaces/ns/${long}.json`,
    ],
  );
  assert.equal(back.value.get("metadata/version")!.toString(), "1.1.0\n");
  assert.equal(
    preferredVersionPath({
      resource: "persistentvolumes",
      group: "",
      name: "pv1",
      object: { apiVersion: "v1" },
    }),
    "resources/persistentvolumes/v1-preferredversion/cluster/pv1.json",
  );
  assert.equal(
    preferredVersionPath({
      resource: "volumesnapshots",
      group: "snapshot.storage.k8s.io",
      namespace: "ns",
      name: "s",
      object: { apiVersion: "snapshot.storage.k8s.io/v1" },
    }),
    "resources/volumesnapshots.snapshot.storage.k8s.io/v1-preferredversion/namespaces/ns/s.json",
  );
  const listed = await promisify(execFile)("tar", ["-tzf", path]);
  assert.deepEqual(listed.stdout.trim().split("\n"), [...back.value.keys()]);
  // the system tar reads the long-named item's content back, not only its name
  const longFile = `resources/persistentvolumeclaims/namespaces/ns/${long}.json`;
  assert.equal(
    (await promisify(execFile)("tar", ["-xzOf", path, longFile])).stdout,
    JSON.stringify({ kind: "PersistentVolumeClaim" }),
  );
  // round trip of sizes around the 512-byte block: exactly one block, one byte over, empty-ish
  const oddPath = join(dir, "odd.tar.gz");
  const sized = (n: number) => ({ s: "y".repeat(n - 8) }); // JSON.stringify adds {"s":""} = 8 bytes
  const odd = await writeArchive(oddPath, [
    { resource: "a", group: "", name: "block", object: sized(512) },
    { resource: "a", group: "", name: "over", object: sized(513) },
    { resource: "a", group: "", name: "empty", object: {} },
  ]);
  assert.ok(odd.ok);
  const oddBack = await readArchive(oddPath);
  assert.ok(oddBack.ok);
  assert.deepEqual(
    ["block", "over", "empty"].map((n) => oddBack.value.get(`resources/a/cluster/${n}.json`)?.toString()),
    [sized(512), sized(513), {}].map((o) => JSON.stringify(o)),
  );
  writeFileSync(join(dir, "garbage.tar.gz"), "not gzip");
  const bad = await readArchive(join(dir, "garbage.tar.gz"));
  assert.equal(bad.ok, false);
});

test("the final status lands only on a Backup still InProgress under the run's owner, at the version read", async () => {
  const w = world();
  const b = backupObject("fin", {});
  b.metadata.annotations = { "hookguard.io/owner": "agent-a" };
  b.status = { phase: "InProgress" };
  const stored = (await w.cluster.createBackup(b)) as { ok: true; value: BackupObject };
  const final = { phase: "Completed" as const, errors: 0, warnings: 0, totalItems: 1, itemsBackedUp: 1 };

  // another agent took it over meanwhile (recovery): this run's final phase must not overwrite it
  w.cluster.backups.get("velero/fin")!.metadata.annotations = { "hookguard.io/owner": "agent-b" };
  const lost = await finishBackup(w.cluster, stored.value, final, w.deps.logger);
  assert.equal(lost.ok, false);
  assert.match(!lost.ok ? lost.error : "", /now owned by agent-b, not agent-a; final status not written/);
  assert.equal(w.cluster.backups.get("velero/fin")!.status?.phase, "InProgress");

  // a write racing in between the read and the patch: 409, re-read, written at the new version
  w.cluster.backups.get("velero/fin")!.metadata.annotations = { "hookguard.io/owner": "agent-a" };
  const orig = w.cluster.patchBackupStatus.bind(w.cluster);
  let raced = false;
  w.cluster.patchBackupStatus = async (ns, name, status, rv) => {
    if (!raced) {
      raced = true;
      await w.cluster.patchBackupMetadata(ns, name, { annotations: { other: "write" } });
    }
    return orig(ns, name, status, rv);
  };
  const won = await finishBackup(w.cluster, stored.value, final, w.deps.logger);
  assert.ok(won.ok);
  assert.equal(w.cluster.backups.get("velero/fin")!.status?.phase, "Completed");
  assert.equal(w.cluster.statusPatches.length, 1, "the raced attempt wrote nothing");
});
