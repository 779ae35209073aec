// The thaw guard's triggers (src/agent/companion/interruption.ts) and how the Velero server's process
// is recognised in its pod (src/velero/server-pods.ts): which Backups count as interrupted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { judgeBackup, type JudgeInput } from "../../src/agent/companion/interruption.js";
import {
  SERVER_START_FAILURE_REASON,
  isVeleroServerPod,
  runningIncarnations,
} from "../../src/velero/server-pods.js";
import type { BackupObject } from "../../src/velero/types.js";

const START = Date.parse("2026-12-05T08:00:00Z");

function backup(status: BackupObject["status"]): BackupObject {
  return {
    apiVersion: "velero.io/v1",
    kind: "Backup",
    metadata: { name: "b", namespace: "velero", uid: "u1" },
    spec: {},
    status,
  };
}

function serverPod(
  restartCount: number,
  running: boolean,
  labels: Record<string, string> = { deploy: "velero" },
) {
  return {
    metadata: { name: "velero-abc", uid: "pod-1", labels },
    spec: { containers: [{ name: "velero" }] },
    status: {
      phase: "Running",
      containerStatuses: [
        {
          name: "velero",
          restartCount,
          containerID: `containerd://${restartCount}`,
          state: running ? { running: { startedAt: "x" } } : { terminated: { exitCode: 137 } },
        },
      ],
    },
  };
}

const inProgress = backup({ phase: "InProgress", startTimestamp: new Date(START).toISOString() });
const base = (over: Partial<JudgeInput>): JudgeInput => ({
  backup: inProgress,
  witness: undefined,
  running: new Set(),
  serverPodsPresent: true,
  podsSynced: true,
  now: START + 1000,
  maxFreezeWindowMs: 600_000,
  ...over,
});

test("server pods: install and Helm labels; node-agent pods are not the server", () => {
  assert.ok(isVeleroServerPod(serverPod(0, true)));
  assert.ok(isVeleroServerPod(serverPod(0, true, { name: "velero" })));
  assert.ok(isVeleroServerPod(serverPod(0, true, { component: "velero" })));
  const nodeAgent = {
    ...serverPod(0, true, { component: "velero", name: "node-agent" }),
    spec: { containers: [{ name: "node-agent" }] },
  };
  assert.ok(!isVeleroServerPod(nodeAgent));
  // a restart (new count and container ID) is a new process; a dead container runs none
  assert.notDeepEqual(
    [...runningIncarnations([serverPod(0, true)])],
    [...runningIncarnations([serverPod(1, true)])],
  );
  assert.equal(runningIncarnations([serverPod(0, false)]).size, 0);
});

test("trigger 1: the process that was running when the Backup was first seen InProgress restarted or died", () => {
  const first = judgeBackup(base({ running: runningIncarnations([serverPod(0, true)]) }));
  assert.equal(first.kind, "watch");
  const witness = first.kind === "watch" ? first.witness : undefined;
  assert.equal(witness?.size, 1);
  // same process still running: nothing
  assert.equal(
    judgeBackup(base({ witness, running: runningIncarnations([serverPod(0, true)]) })).kind,
    "watch",
  );
  // container died (kubelet reports it terminated) or restarted
  for (const running of [
    runningIncarnations([serverPod(0, false)]),
    runningIncarnations([serverPod(1, true)]),
    new Set<string>(),
  ]) {
    const j = judgeBackup(base({ witness, running }));
    assert.equal(j.kind === "interrupted" && j.reason, "velero_died");
  }
});

test("trigger 1 never guesses: no server pod found at all, or the pods not listed yet, judge nothing", () => {
  assert.equal(judgeBackup(base({ serverPodsPresent: false })).kind, "watch");
  assert.equal(judgeBackup(base({ podsSynced: false, witness: new Set(["gone"]) })).kind, "watch");
  // a server pod exists but none runs while the Backup is InProgress: interrupted at first sight
  const j = judgeBackup(base({ running: new Set() }));
  assert.equal(j.kind === "interrupted" && j.reason, "velero_died");
});

test("trigger 2: Failed with Velero's server-start reason; any other Failed, or a normal end, is ignored", () => {
  const failed = judgeBackup(
    base({ backup: backup({ phase: "Failed", failureReason: SERVER_START_FAILURE_REASON }) }),
  );
  assert.equal(failed.kind === "interrupted" && failed.reason, "velero_failed");
  for (const status of [
    { phase: "Failed", failureReason: "something else" },
    { phase: "Completed" },
    { phase: "PartiallyFailed" },
    { phase: "Finalizing" },
    { phase: "WaitingForPluginOperations" },
    { phase: "New" },
  ])
    assert.equal(judgeBackup(base({ backup: backup(status) })).kind, "ignore", JSON.stringify(status));
});

test("trigger 3: InProgress past --max-freeze-window from startTimestamp; 0 turns it off", () => {
  const witness = runningIncarnations([serverPod(0, true)]);
  const early = judgeBackup(base({ witness, running: witness, now: START + 4000, maxFreezeWindowMs: 5000 }));
  assert.deepEqual(early, { kind: "watch", recheckAt: START + 5000 });
  const late = judgeBackup(base({ witness, running: witness, now: START + 5000, maxFreezeWindowMs: 5000 }));
  assert.equal(late.kind === "interrupted" && late.reason, "freeze_window");
  const off = judgeBackup(base({ witness, running: witness, now: START + 86_400_000, maxFreezeWindowMs: 0 }));
  assert.deepEqual(off, { kind: "watch" });
});
