// Crash safety and leadership against the double with the agent as a real process: SIGKILL between
// a block's pre and post hooks (the unfreeze still runs, after restart), leader failover with two
// agents (each hook executed once), and watch expiry (410 Gone) in the middle of a backup.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readContainerFile } from "../apiserver/exec/index.js";
import type { ApiServerHandle } from "../apiserver/server.js";
import {
  applyNginxExample,
  backupPhase,
  newBackup,
  startDouble,
  waitFor,
  waitForPodRunning,
} from "./double.js";
import { kill, spawnAgent, type AgentProcess } from "./spawn.js";

const POD = "nginx-deployment-7d9c5-abcde";
let api: ApiServerHandle;
const procs: AgentProcess[] = [];

before(async () => {
  api = await startDouble();
  applyNginxExample(api, POD);
  await waitForPodRunning(api, "nginx-example", POD);
});

after(async () => {
  for (const p of procs) await kill(p);
  await api?.stop();
});

function agentArgs(storageDir: string, extra: string[] = []): string[] {
  return [
    "--kubeconfig",
    api.kubeconfigPath,
    "--storage-dir",
    storageDir,
    "--metrics-port",
    "0",
    "--metrics-bind-address",
    "127.0.0.1",
    "--volume-snapshot-class",
    "csi-snapclass",
    "--log-level",
    "info",
    ...extra,
  ];
}

async function fsfreezeLog(): Promise<string[]> {
  const pod = api.getObject("v1", "Pod", "nginx-example", POD);
  const text = await readContainerFile(
    join(api.dir, "exec"),
    pod.metadata.uid,
    "fsfreeze",
    "/var/lib/fsfreeze-standin/log",
  );
  return (text ?? "")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ").slice(2).join(" "));
}

const finished = (name: string) => () =>
  ["Completed", "PartiallyFailed", "Failed"].includes(backupPhase(api, name) ?? "") ? true : undefined;

test("SIGKILL between pre and post hooks: after restart the pending unfreeze runs and the Backup is Failed with the reason", async () => {
  const storageDir = mkdtempSync(join(tmpdir(), "hookguard-kill-"));
  const before = (await fsfreezeLog()).length;
  api.knobs.snapshots.readyAfterMs = 600_000; // the item step hangs on the snapshot: the pod stays frozen
  const first = spawnAgent(agentArgs(storageDir, ["--no-leader-elect", "--identity", "agent-one"]));
  procs.push(first);
  await first.ready;
  api.createObject(newBackup("killed", { includedNamespaces: ["nginx-example"] }));
  await waitFor("the freeze", async () =>
    (await fsfreezeLog()).slice(before).includes("freeze /var/log/nginx") ? true : undefined,
  );
  const mid = api.getObject("velero.io/v1", "Backup", "velero", "killed");
  assert.equal(mid.status.phase, "InProgress");
  assert.deepEqual(JSON.parse(mid.metadata.annotations["hookguard.io/pending-post-hooks"]), [
    { namespace: "nginx-example", pod: POD, block: 0 },
  ]);
  await kill(first, "SIGKILL");
  assert.deepEqual(
    (await fsfreezeLog()).slice(before),
    ["freeze /var/log/nginx"],
    "still frozen after the crash",
  );

  api.knobs.snapshots.readyAfterMs = 20;
  const second = spawnAgent(agentArgs(storageDir, ["--no-leader-elect", "--identity", "agent-two"]));
  procs.push(second);
  await second.ready;
  await waitFor("recovery to finish the backup", finished("killed"));
  const b = api.getObject("velero.io/v1", "Backup", "velero", "killed");
  assert.equal(b.status.phase, "Failed");
  assert.match(
    b.status.failureReason,
    /agent agent-one stopped while the backup was in progress; agent-two ran the pending post hooks of 1 pod/,
  );
  assert.equal(b.metadata.annotations["hookguard.io/pending-post-hooks"], undefined);
  assert.deepEqual((await fsfreezeLog()).slice(before), ["freeze /var/log/nginx", "unfreeze /var/log/nginx"]);
  await kill(second, "SIGTERM");
});

test("leader failover with two agents: only the leader runs hooks, each exactly once; the survivor takes over", async () => {
  const storageDir = mkdtempSync(join(tmpdir(), "hookguard-ha-"));
  const le = [
    "--leader-elect",
    "--leader-elect-lease-duration",
    "3s",
    "--leader-elect-renew-deadline",
    "2s",
    "--leader-elect-retry-period",
    "250ms",
  ];
  const a = spawnAgent(agentArgs(storageDir, [...le, "--identity", "agent-a"]));
  procs.push(a);
  await a.ready;
  await waitFor("agent-a to lead", () =>
    api.getObject("coordination.k8s.io/v1", "Lease", "velero", "hookguard-agent")?.spec?.holderIdentity ===
    "agent-a"
      ? true
      : undefined,
  );
  const b = spawnAgent(agentArgs(storageDir, [...le, "--identity", "agent-b"]));
  procs.push(b);
  await b.ready;
  const start = (await fsfreezeLog()).length;
  for (const n of ["ha-1", "ha-2"]) api.createObject(newBackup(n, { includedNamespaces: ["nginx-example"] }));
  for (const n of ["ha-1", "ha-2"]) await waitFor(`${n} to finish`, finished(n));
  for (const n of ["ha-1", "ha-2"]) {
    const obj = api.getObject("velero.io/v1", "Backup", "velero", n);
    assert.equal(obj.status.phase, "Completed");
    assert.equal(obj.metadata.annotations["hookguard.io/owner"], "agent-a");
  }
  assert.deepEqual((await fsfreezeLog()).slice(start), [
    "freeze /var/log/nginx",
    "unfreeze /var/log/nginx",
    "freeze /var/log/nginx",
    "unfreeze /var/log/nginx",
  ]);

  await kill(a, "SIGKILL");
  await waitFor(
    "agent-b to lead",
    () =>
      api.getObject("coordination.k8s.io/v1", "Lease", "velero", "hookguard-agent")?.spec?.holderIdentity ===
      "agent-b"
        ? true
        : undefined,
    30_000,
  );
  api.createObject(newBackup("ha-3", { includedNamespaces: ["nginx-example"] }));
  await waitFor("ha-3 to finish", finished("ha-3"));
  const third = api.getObject("velero.io/v1", "Backup", "velero", "ha-3");
  assert.equal(third.status.phase, "Completed");
  assert.equal(third.metadata.annotations["hookguard.io/owner"], "agent-b");
  assert.deepEqual((await fsfreezeLog()).slice(start + 4), [
    "freeze /var/log/nginx",
    "unfreeze /var/log/nginx",
  ]);
  await kill(b, "SIGTERM");
});

test("watch expiry (410 Gone) and closed watches in the middle of a backup: it finishes and later Backups are still seen", async () => {
  const storageDir = mkdtempSync(join(tmpdir(), "hookguard-410-"));
  api.knobs.snapshots.readyAfterMs = 1500;
  const p = spawnAgent(agentArgs(storageDir, ["--no-leader-elect", "--identity", "agent-410"]));
  procs.push(p);
  await p.ready;
  const start = (await fsfreezeLog()).length;
  api.createObject(newBackup("w-1", { includedNamespaces: ["nginx-example"] }));
  await waitFor("the freeze", async () => ((await fsfreezeLog()).length > start ? true : undefined));
  // every resourceVersion the agent knows is now too old, and its watch is cut
  api.expireBefore(api.store.resourceVersion + 1);
  api.closeWatches();
  await waitFor("w-1 to finish", finished("w-1"));
  assert.equal(backupPhase(api, "w-1"), "Completed");
  api.knobs.snapshots.readyAfterMs = 20;
  api.createObject(newBackup("w-2", { includedNamespaces: ["nginx-example"] }));
  await waitFor("w-2 to finish (the informer re-listed)", finished("w-2"));
  assert.equal(backupPhase(api, "w-2"), "Completed");
  assert.deepEqual((await fsfreezeLog()).slice(start), [
    "freeze /var/log/nginx",
    "unfreeze /var/log/nginx",
    "freeze /var/log/nginx",
    "unfreeze /var/log/nginx",
  ]);
  await kill(p, "SIGTERM");
});
