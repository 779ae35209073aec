// The thaw guard's memory across processes (src/agent/companion/thaw-guard.ts with its checkpoint):
// a pod whose post hooks were started by a process that stopped before recording the result is never
// run again and is reported; the rest of an unfinished Backup is finished by the next process; a
// finished Backup is never touched again. Against the in-memory companion port and a recording executor.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ThawCheckpoint } from "../../src/agent/companion/thaw-checkpoint.js";
import { ThawGuard } from "../../src/agent/companion/thaw-guard.js";
import type { ExecRequest, ExecResult, PodExecutor } from "../../src/agent/ports.js";
import { silentLogger } from "../../src/log.js";
import { SERVER_START_FAILURE_REASON } from "../../src/velero/server-pods.js";
import { FakeCompanionCluster } from "./fakes.js";

class RecordingExecutor implements PodExecutor {
  calls: ExecRequest[] = [];
  async exec(req: ExecRequest): Promise<ExecResult> {
    this.calls.push(req);
    return {
      kind: "exited",
      exitCode: 0,
      stdout: "",
      stderr: "",
      stdoutTruncated: false,
      stderrTruncated: false,
      durationMs: 1,
    };
  }
}

function webPod(name: string) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "default",
      uid: `uid-${name}`,
      labels: { app: "web" },
      annotations: {
        "pre.hook.backup.velero.io/command": '["fsfreeze","--freeze","/data"]',
        "post.hook.backup.velero.io/command": '["fsfreeze","--unfreeze","/data"]',
      },
    },
    spec: { containers: [{ name: "web" }] },
    status: { phase: "Running", containerStatuses: [{ name: "web", state: { running: {} } }] },
  };
}

function setup() {
  const cluster = new FakeCompanionCluster();
  cluster.pods = [webPod("web-1"), webPod("web-2"), webPod("web-3")];
  const executor = new RecordingExecutor();
  const guard = () =>
    new ThawGuard({
      cluster,
      executor,
      checkpoint: new ThawCheckpoint(cluster, { namespace: "velero", name: "hg-thaw-guard" }),
      metrics: { forcedPostHooks: () => undefined, notEligible: () => undefined },
      logger: silentLogger(),
      options: { veleroNamespace: "velero", maxFreezeWindowMs: 0 },
    });
  return { cluster, executor, guard };
}

const records = (cluster: FakeCompanionCluster): any =>
  JSON.parse(cluster.configMaps.get("velero/hg-thaw-guard")!.data!.backups!);

test("a pod left `started` by a stopped process is reported uncertain and never run again; the others are thawed once", async () => {
  const { cluster, executor, guard } = setup();
  cluster.putBackup({
    apiVersion: "velero.io/v1",
    kind: "Backup",
    metadata: { name: "b1", namespace: "velero", uid: "b1-uid" },
    spec: { includedNamespaces: ["default"] },
    status: {
      phase: "Failed",
      failureReason: SERVER_START_FAILURE_REASON,
      completionTimestamp: new Date().toISOString(),
    },
  });
  // what a process that died while running web-1's post hooks left behind
  cluster.configMaps.set("velero/hg-thaw-guard", {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "hg-thaw-guard", namespace: "velero", resourceVersion: "1" },
    data: {
      format: "1",
      horizon: "2026-01-01T00:00:00.000Z",
      backups: JSON.stringify({
        "b1-uid": {
          name: "b1",
          reason: "velero_died",
          at: new Date().toISOString(),
          done: false,
          pods: { "default/web-1": { state: "started", at: new Date().toISOString() } },
        },
      }),
    },
  });
  const g = guard();
  assert.ok((await g.start()).ok);
  await g.idle();
  assert.deepEqual(executor.calls.map((c) => c.pod).sort(), ["web-2", "web-3"]);
  assert.deepEqual(executor.calls[0]!.argv, ["fsfreeze", "--unfreeze", "/data"]);
  const uncertain = cluster.events.filter((e) => e.reason === "ThawGuardUncertain");
  assert.deepEqual(
    uncertain.map((e) => e.name),
    ["web-1"],
  );
  const r = records(cluster)["b1-uid"];
  assert.equal(r.done, true);
  assert.equal(r.reason, "velero_died", "the first judgement's reason is kept");
  assert.equal(r.pods["default/web-1"].state, "uncertain");
  assert.equal(r.pods["default/web-2"].state, "ran");
  const onBackup = cluster.events.find((e) => e.kind === "Backup");
  assert.match(onBackup!.message, /Result unknown .*default\/web-1/);
  await g.stop();

  // a new process (restart, leader change): the Backup is done, nothing runs again
  executor.calls = [];
  const again = guard();
  assert.ok((await again.start()).ok);
  await again.idle();
  assert.deepEqual(executor.calls, []);
  await again.stop();
});

test("a Backup Velero failed at startup before the guard's checkpoint existed is not thawed", async () => {
  const { cluster, executor, guard } = setup();
  cluster.putBackup({
    apiVersion: "velero.io/v1",
    kind: "Backup",
    metadata: { name: "old", namespace: "velero", uid: "old-uid" },
    spec: { includedNamespaces: ["default"] },
    status: {
      phase: "Failed",
      failureReason: SERVER_START_FAILURE_REASON,
      completionTimestamp: "2025-01-01T00:00:00Z",
    },
  });
  const g = guard();
  assert.ok((await g.start()).ok);
  await g.idle();
  assert.deepEqual(executor.calls, []);
  assert.deepEqual(records(cluster), {});
  await g.stop();
});
