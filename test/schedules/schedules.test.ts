// ScheduleController with a fake clock over an in-memory AgentCluster (the port the agent uses).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { silentLogger } from "../../src/log.js";
import {
  ScheduleController,
  parseSchedule,
  SCHEDULE_NAME_LABEL,
} from "../../src/agent/standalone/schedules.js";
import type { AgentCluster } from "../../src/agent/ports.js";
import type { BackupObject, ScheduleObject } from "../../src/velero/types.js";

class MemoryCluster {
  schedules = new Map<string, ScheduleObject>();
  backups = new Map<string, BackupObject>();
  failCreate = 0;
  port(): AgentCluster {
    const notUsed = async (): Promise<never> => {
      throw new Error("not used by schedules");
    };
    return {
      listSchedules: async () => ({ ok: true, value: structuredClone([...this.schedules.values()]) }),
      patchScheduleStatus: async (_ns, name, status) => {
        const s = this.schedules.get(name)!;
        const next = { ...(s.status ?? {}) } as Record<string, unknown>;
        for (const [k, v] of Object.entries(status)) {
          if (v === null) delete next[k];
          else next[k] = v;
        }
        s.status = next;
        return { ok: true, value: structuredClone(s) };
      },
      listBackups: async () => ({ ok: true, value: structuredClone([...this.backups.values()]) }),
      createBackup: async (b) => {
        if (this.failCreate > 0) {
          this.failCreate--;
          return { ok: false, error: { code: 503, reason: "ServiceUnavailable", message: "unavailable" } };
        }
        if (this.backups.has(b.metadata.name))
          return { ok: false, error: { code: 409, reason: "AlreadyExists", message: "exists" } };
        this.backups.set(b.metadata.name, structuredClone(b));
        return { ok: true, value: b };
      },
      getPod: notUsed,
      listPods: notUsed,
      listPvcs: notUsed,
      listPvs: notUsed,
      listNamespaces: notUsed,
      getBackup: notUsed,
      replaceBackup: notUsed,
      patchBackupStatus: notUsed,
      patchBackupMetadata: notUsed,
      createVolumeSnapshot: notUsed,
      getVolumeSnapshotState: notUsed,
      listVolumeSnapshots: notUsed,
      deleteVolumeSnapshot: notUsed,
      deleteBackup: notUsed,
      createEvent: async () => undefined,
      readVeleroServerSignals: async () => ({
        ok: true,
        value: { storageLocations: [], deployments: [], pods: [] },
      }),
    };
  }
  addSchedule(
    name: string,
    schedule: string,
    extra: Partial<ScheduleObject["spec"]> = {},
    created = "2026-03-01T00:00:00Z",
  ): ScheduleObject {
    const s: ScheduleObject = {
      apiVersion: "velero.io/v1",
      kind: "Schedule",
      metadata: {
        name,
        namespace: "velero",
        uid: `uid-${name}`,
        creationTimestamp: created,
        labels: { team: "db" },
      },
      spec: {
        schedule,
        template: { includedNamespaces: ["app"], ttl: "72h0m0s", metadata: { labels: { tier: "gold" } } },
        ...extra,
      },
    };
    this.schedules.set(name, s);
    return s;
  }
  names(): string[] {
    return [...this.backups.keys()].sort();
  }
}

function setup(start: string): {
  mem: MemoryCluster;
  ctl: ScheduleController;
  clock: { t: Date };
  at(iso: string): Promise<void>;
} {
  const mem = new MemoryCluster();
  const clock = { t: new Date(start) };
  const ctl = new ScheduleController(mem.port(), { namespace: "velero", now: () => clock.t }, silentLogger());
  return {
    mem,
    ctl,
    clock,
    at: async (iso: string) => {
      clock.t = new Date(iso);
      await ctl.tick();
    },
  };
}

describe("ScheduleController", () => {
  it("creates one Backup at each cron time, named after the scheduled time, from the template", async () => {
    const { mem, at } = setup("2026-03-01T00:10:00Z");
    mem.addSchedule("hourly", "0 * * * *");
    await at("2026-03-01T00:59:59Z");
    assert.deepEqual(mem.names(), []);
    assert.equal(mem.schedules.get("hourly")!.status?.phase, "Enabled");
    await at("2026-03-01T01:00:07Z");
    await at("2026-03-01T01:00:12Z");
    assert.deepEqual(mem.names(), ["hourly-20260301010000"]);
    const b = mem.backups.get("hourly-20260301010000")!;
    assert.deepEqual(b.spec.includedNamespaces, ["app"]);
    assert.equal(b.spec.ttl, "72h0m0s");
    assert.deepEqual(b.metadata.labels, { team: "db", tier: "gold", [SCHEDULE_NAME_LABEL]: "hourly" });
    assert.equal(b.metadata.ownerReferences, undefined);
    assert.equal(mem.schedules.get("hourly")!.status?.lastBackup, "2026-03-01T01:00:07Z");
    // the first backup finishes, the next hour fires again
    mem.backups.get("hourly-20260301010000")!.status = { phase: "Completed" };
    await at("2026-03-01T02:00:01Z");
    assert.deepEqual(mem.names(), ["hourly-20260301010000", "hourly-20260301020000"]);
  });

  it("produces exactly one catch-up Backup for many missed times", async () => {
    const { mem, at } = setup("2026-03-01T00:00:00Z");
    const s = mem.addSchedule("q", "*/15 * * * *");
    s.status = { phase: "Enabled", lastBackup: "2026-03-01T00:00:00Z" };
    await at("2026-03-01T05:07:00Z"); // no leader for five hours: 20 missed times
    await at("2026-03-01T05:08:00Z");
    assert.deepEqual(mem.names(), ["q-20260301050000"]);
    assert.equal(mem.schedules.get("q")!.status?.lastBackup, "2026-03-01T05:07:00Z");
  });

  it("does nothing while paused, and sets the owner reference when asked", async () => {
    const { mem, at } = setup("2026-03-01T00:00:00Z");
    mem.addSchedule("p", "0 * * * *", { paused: true });
    mem.addSchedule("o", "30 * * * *", { useOwnerReferencesInBackup: true });
    await at("2026-03-01T03:31:00Z");
    assert.deepEqual(mem.names(), ["o-20260301033000"]);
    assert.deepEqual(mem.backups.get("o-20260301033000")!.metadata.ownerReferences, [
      { apiVersion: "velero.io/v1", kind: "Schedule", name: "o", uid: "uid-o", controller: true },
    ]);
  });

  it("interprets CRON_TZ= and TZ= prefixes in that zone (names stay UTC)", async () => {
    const { mem, at } = setup("2026-01-10T00:00:00Z");
    mem.addSchedule("ny", "CRON_TZ=America/New_York 0 9 * * *", {}, "2026-01-10T00:00:00Z");
    mem.addSchedule("tokyo", "TZ=Asia/Tokyo 0 9 * * *", {}, "2026-01-10T00:00:00Z");
    await at("2026-01-10T08:59:00Z");
    // Tokyo 09:00 = 00:00 UTC is the creation instant itself (not after it); New York 09:00 = 14:00 UTC
    assert.deepEqual(mem.names(), []);
    await at("2026-01-10T14:00:30Z"); // 09:00 EST
    assert.deepEqual(mem.names(), ["ny-20260110140000"]);
    await at("2026-01-11T00:00:30Z"); // 09:00 JST
    assert.deepEqual(mem.names(), ["ny-20260110140000", "tokyo-20260111000000"]);
  });

  it("marks an invalid schedule FailedValidation with Velero's message and creates nothing", async () => {
    const { mem, at } = setup("2026-03-01T00:00:00Z");
    mem.addSchedule("bad", "61 * * * *");
    mem.addSchedule("six", "0 0 * * * *");
    mem.addSchedule("tz", "CRON_TZ=Mars/Olympus 0 * * * *");
    await at("2026-03-02T00:00:00Z");
    assert.deepEqual(mem.names(), []);
    for (const n of ["bad", "six", "tz"])
      assert.equal(mem.schedules.get(n)!.status?.phase, "FailedValidation", n);
    assert.match(
      String((mem.schedules.get("bad")!.status?.validationErrors as string[])[0]),
      /^invalid schedule: .*minute/,
    );
    assert.match(
      String((mem.schedules.get("tz")!.status?.validationErrors as string[])[0]),
      /^invalid schedule: schedule time zone "Mars\/Olympus" is not a known IANA zone/,
    );
    assert.equal(
      (mem.schedules.get("six")!.status?.validationErrors as string[])[0],
      'invalid schedule: schedule "0 0 * * * *" has 6 fields; Velero takes exactly 5 (minute hour day-of-month month day-of-week): Velero\'s parser has no seconds field; drop the first field',
    );
    // fixed by the user: Enabled, errors cleared
    mem.schedules.get("bad")!.spec.schedule = "0 * * * *";
    await at("2026-03-02T00:30:00Z");
    assert.equal(mem.schedules.get("bad")!.status?.phase, "Enabled");
    assert.equal(mem.schedules.get("bad")!.status?.validationErrors, undefined);
  });

  it("is idempotent across a failover (AlreadyExists = done) and retries a failed create", async () => {
    const { mem, at } = setup("2026-03-01T00:00:00Z");
    mem.addSchedule("h", "0 * * * *");
    // another agent created the backup but died before recording lastBackup
    mem.backups.set("h-20260301010000", {
      apiVersion: "velero.io/v1",
      kind: "Backup",
      metadata: { name: "h-20260301010000", namespace: "velero", labels: { [SCHEDULE_NAME_LABEL]: "h" } },
      spec: {},
      status: { phase: "Completed" },
    });
    await at("2026-03-01T01:00:05Z");
    assert.deepEqual(mem.names(), ["h-20260301010000"]);
    assert.equal(mem.schedules.get("h")!.status?.lastBackup, "2026-03-01T01:00:05Z");
    mem.failCreate = 1;
    await at("2026-03-01T02:00:05Z");
    assert.equal(mem.backups.size, 1);
    await at("2026-03-01T02:00:10Z");
    assert.deepEqual(mem.names(), ["h-20260301010000", "h-20260301020000"]);
  });

  it("waits while a backup of the same schedule is still running (no overlap)", async () => {
    const { mem, at } = setup("2026-03-01T00:00:00Z");
    mem.addSchedule("h", "0 * * * *");
    await at("2026-03-01T01:00:00Z");
    await at("2026-03-01T02:00:00Z"); // the 01:00 backup has no phase yet (New): 02:00 waits
    assert.deepEqual(mem.names(), ["h-20260301010000"]);
    mem.backups.get("h-20260301010000")!.status = { phase: "Completed" };
    await at("2026-03-01T02:03:00Z");
    assert.deepEqual(mem.names(), ["h-20260301010000", "h-20260301020000"]);
  });

  it("copes with a Schedule without template or spec", async () => {
    const { mem, at } = setup("2026-03-01T00:00:00Z");
    const s = mem.addSchedule("bare", "0 * * * *");
    delete (s.spec as { template?: unknown }).template;
    const broken = mem.addSchedule("nospec", "0 * * * *");
    delete (broken as { spec?: unknown }).spec;
    await at("2026-03-01T01:00:00Z");
    assert.deepEqual(mem.names(), ["bare-20260301010000"]);
    assert.deepEqual(mem.backups.get("bare-20260301010000")!.spec, {});
    assert.equal(mem.schedules.get("nospec")!.status?.phase, "FailedValidation");
  });

  it("runs @every 6h, as Velero does: six hours after the last backup (the Schedule's creation before the first)", async () => {
    const { mem, at } = setup("2026-03-01T00:00:00Z");
    mem.addSchedule("six-hourly", "@every 6h", {}, "2026-03-01T00:00:00Z");
    await at("2026-03-01T05:59:59Z");
    assert.equal(mem.schedules.get("six-hourly")!.status?.phase, "Enabled");
    assert.deepEqual(mem.names(), []);
    await at("2026-03-01T06:00:00Z");
    assert.deepEqual(mem.names(), ["six-hourly-20260301060000"]);
    assert.equal(mem.schedules.get("six-hourly")!.status?.lastBackup, "2026-03-01T06:00:00Z");
    mem.backups.get("six-hourly-20260301060000")!.status = { phase: "Completed" };
    await at("2026-03-01T11:00:00Z");
    assert.deepEqual(mem.names(), ["six-hourly-20260301060000"]);
    await at("2026-03-01T12:00:05Z");
    assert.deepEqual(mem.names(), ["six-hourly-20260301060000", "six-hourly-20260301120000"]);
  });

  it("parses descriptors; refuses an empty schedule", () => {
    assert.equal(parseSchedule("@daily").ok, true);
    assert.equal(parseSchedule("@every 1h").ok, true);
    assert.equal(parseSchedule("").ok, false);
  });
});
