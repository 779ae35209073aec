// The companion's checkpoint: each Velero Backup reported once across restarts and leader changes,
// kept bounded without ever letting an old Backup be reported again.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { BackupCheckpoint, backupTime } from "../../src/agent/companion/checkpoint.js";
import { downloadRequestName } from "../../src/velero/download.js";
import { FakeCompanionCluster } from "./fakes.js";

const NS = "hookguard";
const NAME = "hookguard-companion-checkpoint";
const DAY = 86_400_000;

function clock(start: string): { now: () => Date; advance(ms: number): void } {
  let t = Date.parse(start);
  return { now: () => new Date(t), advance: (ms) => (t += ms) };
}

const entry = (uid: string, at: string) => ({ uid, name: `b-${uid}`, at });

describe("BackupCheckpoint", () => {
  it("creates the ConfigMap on first load with the horizon at now: older Backups are never reported", async () => {
    const cluster = new FakeCompanionCluster();
    const c = clock("2026-12-01T12:00:00Z");
    const cp = new BackupCheckpoint(cluster, { namespace: NS, name: NAME, now: c.now });
    const loaded = await cp.load();
    assert.deepEqual(loaded, { ok: true, value: { created: true } });
    const cm = cluster.configMaps.get(`${NS}/${NAME}`)!;
    assert.equal(cm.data?.horizon, "2026-12-01T11:59:59.999Z");
    assert.equal(cp.isPending("old", "2026-12-01T11:59:59Z"), false);
    assert.equal(cp.isPending("new", "2026-12-01T12:00:01Z"), true);
  });

  it("reports a Backup that completes later in the very second the ConfigMap was made", async () => {
    // Kubernetes times have whole seconds: a Backup completed at 12:00:00.800 says 12:00:00Z
    const cluster = new FakeCompanionCluster();
    const c = clock("2026-12-01T12:00:00.600Z");
    const cp = new BackupCheckpoint(cluster, { namespace: NS, name: NAME, now: c.now });
    assert.ok((await cp.load()).ok);
    assert.equal(cp.isPending("same-second", "2026-12-01T12:00:00Z"), true);
    assert.equal(cp.isPending("second-before", "2026-12-01T11:59:59Z"), false);
  });

  it("a second agent (restart or new leader) sees what the first one committed", async () => {
    const cluster = new FakeCompanionCluster();
    const c = clock("2026-12-01T12:00:00Z");
    const a = new BackupCheckpoint(cluster, { namespace: NS, name: NAME, now: c.now });
    assert.ok((await a.load()).ok);
    const r = await a.commit([entry("u1", "2026-12-01T12:05:00Z"), entry("u2", "2026-12-01T12:06:00Z")]);
    assert.deepEqual(r, { ok: true, value: { added: ["u1", "u2"], skipped: [] } });

    const b = new BackupCheckpoint(cluster, { namespace: NS, name: NAME, now: c.now });
    assert.deepEqual(await b.load(), { ok: true, value: { created: false } });
    assert.equal(b.isPending("u1", "2026-12-01T12:05:00Z"), false);
    const again = await b.commit([entry("u1", "2026-12-01T12:05:00Z"), entry("u3", "2026-12-01T12:07:00Z")]);
    assert.deepEqual(again, { ok: true, value: { added: ["u3"], skipped: ["u1"] } });
  });

  it("of two agents committing the same Backup at once, exactly one gets it", async () => {
    const cluster = new FakeCompanionCluster();
    const c = clock("2026-12-01T12:00:00Z");
    const a = new BackupCheckpoint(cluster, { namespace: NS, name: NAME, now: c.now });
    const b = new BackupCheckpoint(cluster, { namespace: NS, name: NAME, now: c.now });
    assert.ok((await a.load()).ok && (await b.load()).ok);
    const [ra, rb] = await Promise.all([
      a.commit([entry("u1", "2026-12-01T12:05:00Z")]),
      b.commit([entry("u1", "2026-12-01T12:05:00Z")]),
    ]);
    assert.ok(ra.ok && rb.ok);
    assert.deepEqual([ra.value.added, rb.value.added].flat(), ["u1"]);
    assert.deepEqual([ra.value.skipped, rb.value.skipped].flat(), ["u1"]);
  });

  it("retries a conflict caused by another writer and keeps their entries", async () => {
    const cluster = new FakeCompanionCluster();
    const c = clock("2026-12-01T12:00:00Z");
    const a = new BackupCheckpoint(cluster, { namespace: NS, name: NAME, now: c.now });
    const other = new BackupCheckpoint(cluster, { namespace: NS, name: NAME, now: c.now });
    assert.ok((await a.load()).ok && (await other.load()).ok);
    let once = true;
    cluster.beforeReplace = () => {
      if (!once) return;
      once = false;
      void other.commit([entry("theirs", "2026-12-01T12:01:00Z")]);
    };
    const r = await a.commit([entry("mine", "2026-12-01T12:02:00Z")]);
    assert.deepEqual(r, { ok: true, value: { added: ["mine"], skipped: [] } });
    const stored = JSON.parse(cluster.configMaps.get(`${NS}/${NAME}`)!.data!.processed!) as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(stored).sort(), ["mine", "theirs"]);
  });

  it("gives up with a clear error when the API keeps failing, and reports nothing as added", async () => {
    const cluster = new FakeCompanionCluster();
    const cp = new BackupCheckpoint(cluster, {
      namespace: NS,
      name: NAME,
      attempts: 3,
      backoffMs: 1,
      now: clock("2026-12-01T12:00:00Z").now,
    });
    assert.ok((await cp.load()).ok);
    cluster.failReplaces = [500, 500, 500];
    const r = await cp.commit([entry("u1", "2026-12-01T12:05:00Z")]);
    assert.equal(r.ok, false);
    assert.match(
      !r.ok ? r.error : "",
      /updating checkpoint ConfigMap hookguard\/hookguard-companion-checkpoint: injected 500/,
    );
    assert.equal(cp.isPending("u1", "2026-12-01T12:05:00Z"), true);
  });

  it("drops entries of deleted Backups and of Backups older than maxAge, and never reports those again", async () => {
    const cluster = new FakeCompanionCluster();
    const c = clock("2026-12-01T00:00:00Z");
    const cp = new BackupCheckpoint(cluster, { namespace: NS, name: NAME, maxAgeMs: 7 * DAY, now: c.now });
    assert.ok((await cp.load()).ok);
    assert.ok(
      (
        await cp.commit([
          entry("gone", "2026-12-01T01:00:00Z"),
          entry("old", "2026-12-01T02:00:00Z"),
          entry("kept", "2026-12-05T00:00:00Z"),
        ])
      ).ok,
    );
    c.advance(8 * DAY); // now 2026-12-09: "old" is 7 days and 22 hours old
    const r = await cp.commit([entry("new", "2026-12-09T00:00:00Z")], new Set(["old", "kept", "new"]));
    assert.ok(r.ok);
    const stored = JSON.parse(cluster.configMaps.get(`${NS}/${NAME}`)!.data!.processed!) as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(stored).sort(), ["kept", "new"]);
    // "old" lost its entry, but it is behind the horizon: still not reported
    assert.equal(cp.isPending("old", "2026-12-01T02:00:00Z"), false);
  });

  it("stays within its size budget by moving the horizon past the oldest entries", async () => {
    const cluster = new FakeCompanionCluster();
    const c = clock("2026-12-01T00:00:00Z");
    const cp = new BackupCheckpoint(cluster, { namespace: NS, name: NAME, maxBytes: 2000, now: c.now });
    assert.ok((await cp.load()).ok);
    const many = Array.from({ length: 60 }, (_, i) =>
      entry(
        `uid-${String(i).padStart(3, "0")}`,
        new Date(Date.parse("2026-12-01T00:00:00Z") + (i + 1) * 60_000).toISOString(),
      ),
    );
    const r = await cp.commit(many);
    assert.ok(r.ok);
    const processed = cluster.configMaps.get(`${NS}/${NAME}`)!.data!.processed!;
    assert.ok(processed.length <= 2000, `${processed.length} bytes`);
    assert.ok(cp.size > 0 && cp.size < 60);
    // whatever was dropped is behind the horizon, so it cannot be reported again
    for (const e of many) assert.equal(cp.isPending(e.uid, e.at), false);
  });

  it("replaces unreadable data instead of reporting everything again", async () => {
    const cluster = new FakeCompanionCluster();
    const c = clock("2026-12-02T00:00:00Z");
    cluster.configMaps.set(`${NS}/${NAME}`, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: NAME, namespace: NS, resourceVersion: "7" },
      data: { processed: "{not json" },
    });
    const cp = new BackupCheckpoint(cluster, { namespace: NS, name: NAME, now: c.now });
    const r = await cp.load();
    assert.ok(r.ok && r.value.notice?.includes("unreadable"));
    assert.equal(cp.isPending("u", "2026-12-01T23:00:00Z"), false);
    assert.equal(cp.isPending("u", "2026-12-02T00:00:01Z"), true);
  });

  it("judges a Backup by completion, else start, else creation time", () => {
    assert.equal(
      backupTime({
        metadata: { creationTimestamp: "c" },
        status: { startTimestamp: "s", completionTimestamp: "e" },
      }),
      "e",
    );
    assert.equal(backupTime({ metadata: { creationTimestamp: "c" }, status: { startTimestamp: "s" } }), "s");
    assert.equal(backupTime({ metadata: { creationTimestamp: "c" } }), "c");
  });
});

describe("downloadRequestName", () => {
  it("is <backup>-<uuid> like the velero CLI's, and a valid name even for the longest Backup name", () => {
    assert.match(
      downloadRequestName("nightly"),
      /^nightly-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    assert.notEqual(downloadRequestName("nightly"), downloadRequestName("nightly"));
    const long = downloadRequestName(`${"a".repeat(200)}.b-${"c".repeat(49)}`);
    assert.ok(long.length <= 253);
    assert.match(long, /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
  });
});
