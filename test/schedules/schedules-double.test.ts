// ScheduleController through the real AgentCluster against the API-server double: the Backup and
// the Schedule status land in the API as Velero would write them.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { KubeConfig } from "@kubernetes/client-node";
import { silentLogger } from "../../src/log.js";
import { createAgentCluster } from "../../src/kube/agent-cluster.js";
import { ScheduleController } from "../../src/agent/standalone/schedules.js";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";

describe("ScheduleController against the API-server double", () => {
  let api: ApiServerHandle;
  let ctl: ScheduleController;
  const clock = { t: new Date() };

  before(async () => {
    api = await startApiServer();
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    ctl = new ScheduleController(
      createAgentCluster(kc, silentLogger()),
      { namespace: "velero", now: () => clock.t },
      silentLogger(),
    );
  });
  after(async () => {
    await ctl.stop();
    await api.stop();
  });

  it("creates the scheduled Backup with label and owner reference, and records lastBackup", async () => {
    const s = api.createObject<Record<string, unknown>>({
      apiVersion: "velero.io/v1",
      kind: "Schedule",
      metadata: { name: "daily", namespace: "velero" },
      spec: {
        schedule: "0 3 * * *",
        useOwnerReferencesInBackup: true,
        template: { includedNamespaces: ["app"], ttl: "240h0m0s" },
      },
    });
    api.createObject({
      apiVersion: "velero.io/v1",
      kind: "Schedule",
      metadata: { name: "broken", namespace: "velero" },
      spec: { schedule: "every day", template: {} },
    });
    const meta = s.metadata as { uid: string; creationTimestamp: string };
    const created = new Date(meta.creationTimestamp);
    // two days later, no agent ran in between: one catch-up backup for the latest 03:00 UTC
    clock.t = new Date(created.getTime() + 2 * 86_400_000);
    await ctl.tick();
    const latest = new Date(clock.t);
    latest.setUTCHours(3, 0, 0, 0);
    if (latest > clock.t) latest.setUTCDate(latest.getUTCDate() - 1);
    const name = `daily-${latest.toISOString().slice(0, 19).replace(/[-:T]/g, "")}`;
    const b = api.getObject("velero.io/v1", "Backup", "velero", name);
    assert.ok(b, `backup ${name} exists`);
    assert.equal(b.metadata.labels["velero.io/schedule-name"], "daily");
    assert.deepEqual(b.metadata.ownerReferences, [
      { apiVersion: "velero.io/v1", kind: "Schedule", name: "daily", uid: meta.uid, controller: true },
    ]);
    assert.deepEqual(b.spec, { includedNamespaces: ["app"], ttl: "240h0m0s" });
    const after1 = api.getObject("velero.io/v1", "Schedule", "velero", "daily");
    assert.equal(after1.status.phase, "Enabled");
    assert.equal(after1.status.lastBackup, clock.t.toISOString().replace(/\.\d+Z$/, "Z"));
    const broken = api.getObject("velero.io/v1", "Schedule", "velero", "broken");
    assert.equal(broken.status.phase, "FailedValidation");
    assert.match(broken.status.validationErrors[0], /^invalid schedule: /);
    // a second pass at the same time creates nothing more
    await ctl.tick();
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    const backups = await createAgentCluster(kc, silentLogger()).listBackups("velero");
    assert.ok(backups.ok);
    assert.deepEqual(
      backups.value.map((x) => x.metadata.name),
      [name],
    );
  });
});
