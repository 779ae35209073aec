// Garbage collection and `hookguard backup delete` end to end: the agent and the CLI as real
// processes against the API-server double, real VolumeSnapshots from the nginx fsfreeze example.
// Expired Backups lose their VolumeSnapshots, files and then the Backup object; others (and a
// Backup Velero ran) are untouched; an agent killed mid-deletion leaves the Backup as the record and
// the next agent finishes the job.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApiServerHandle } from "../apiserver/server.js";
import { runProcess } from "../helpers/process.js";
import { findByKind } from "../apiserver/resources.js";
import { BOUND_PROTECTION_FINALIZER } from "../apiserver/snapshot-controller.js";
import { renderChart } from "../chart/render.js";
import { policyFromChart, serviceAccountUser } from "../chart/rbac-policy.js";
import { archivePath } from "../../src/agent/store/archive.js";
import { backupLogPath } from "../../src/agent/store/backup-log.js";
import { resultsPath } from "../../src/agent/store/results.js";
import {
  ROOT,
  applyNginxExample,
  backupPhase,
  newBackup,
  startDouble,
  waitFor,
  waitForPodRunning,
} from "./double.js";
import { kill, runCli, spawnAgent, type AgentProcess } from "./spawn.js";

const POD = "nginx-deployment-7d9c5-abcde";
const SNAPSHOT_GV = "snapshot.storage.k8s.io/v1";
const EVENTS = findByKind("v1", "Event")!;
let api: ApiServerHandle;
const procs: AgentProcess[] = [];

/** the agents run as the chart's agent ServiceAccount, with exactly the chart's standalone RBAC */
let agentKubeconfig: string;

before(async () => {
  api = await startDouble();
  applyNginxExample(api, POD);
  await waitForPodRunning(api, "nginx-example", POD);
  agentKubeconfig = api.addUser(serviceAccountUser("hookguard", "hookguard-agent"), [
    "system:serviceaccounts",
  ]).kubeconfigPath;
  api.setPolicy([
    { groups: ["system:masters"], verbs: ["*"], resources: ["*"] },
    ...policyFromChart(await renderChart({ agent: { mode: "standalone" } })),
  ]);
});

after(async () => {
  for (const p of procs) await kill(p);
  await api?.stop();
});

function agent(storageDir: string, identity: string, extra: string[] = []): AgentProcess {
  const p = spawnAgent([
    "--kubeconfig",
    agentKubeconfig,
    "--storage-dir",
    storageDir,
    "--metrics-port",
    "0",
    "--metrics-bind-address",
    "127.0.0.1",
    "--volume-snapshot-class",
    "csi-snapclass",
    "--no-leader-elect",
    "--identity",
    identity,
    "--log-level",
    "info",
    ...extra,
  ]);
  procs.push(p);
  return p;
}

const snapshot = (backup: string) =>
  api.getObject(SNAPSHOT_GV, "VolumeSnapshot", "nginx-example", `${backup}-nginx-logs`);
const backup = (name: string) => api.getObject("velero.io/v1", "Backup", "velero", name);
const files = (storageDir: string, name: string) =>
  [archivePath(storageDir, name), backupLogPath(storageDir, name), resultsPath(storageDir, name)].filter(
    (p) => existsSync(p),
  );

async function runToCompletion(name: string, spec: Record<string, unknown> = {}): Promise<void> {
  api.createObject(newBackup(name, { includedNamespaces: ["nginx-example"], ...spec }));
  await waitFor(`${name} to finish`, () => (backupPhase(api, name) === "Completed" ? true : undefined));
}

async function kubectl(args: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "hookguard-kubectl-"));
  const r = await runProcess("kubectl", ["--kubeconfig", api.kubeconfigPath, "--cache-dir", dir, ...args], {
    env: { ...process.env, KUBECONFIG: "" },
  });
  assert.equal(r.code, 0, r.stderr);
}

/** Moves a Backup's expiration into the past, as 30 days of waiting would. */
function expire(name: string): void {
  const b = backup(name);
  api.setStatus("velero.io/v1", "Backup", "velero", name, {
    ...b.status,
    expiration: new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
  });
}

test("GC deletes exactly the expired Backups with their VolumeSnapshots and files, and an agent killed mid-way is finished by the next", async () => {
  const storageDir = mkdtempSync(join(tmpdir(), "hookguard-gc-"));
  // a long interval: the first pass at start is the only one, unless a failure is retried
  const first = agent(storageDir, "agent-one", ["--gc-interval", "1h"]);
  await first.ready;
  await runToCompletion("old", { ttl: "24h0m0s" });
  await runToCompletion("young");
  // Velero's status.expiration, fixed at the start from spec.ttl (720h when unset)
  const exp = (n: string) =>
    Date.parse(backup(n).status.expiration) - Date.parse(backup(n).status.startTimestamp);
  // (whole seconds, as Kubernetes writes times: at most 1s before start + ttl)
  for (const [n, ttl] of [
    ["old", 24 * 3600_000],
    ["young", 720 * 3600_000],
  ] as const)
    assert.ok(exp(n) > ttl - 1000 && exp(n) <= ttl, `${n}: ${exp(n)}`);
  for (const n of ["old", "young"]) {
    assert.equal(snapshot(n)?.metadata.labels["hookguard.io/backup-uid"], backup(n).metadata.uid);
    assert.equal(files(storageDir, n).length, 3, `${n}'s archive, log and results`);
  }
  // a Backup Velero ran, long expired, with a CSI snapshot of its own: never hookguard's to delete
  api.createObject({
    ...newBackup("velero-made", { includedNamespaces: ["nginx-example"] }),
    status: {
      phase: "Completed",
      expiration: "2020-01-01T00:00:00Z",
      startTimestamp: "2019-12-01T00:00:00Z",
    },
  });
  api.createObject({
    apiVersion: SNAPSHOT_GV,
    kind: "VolumeSnapshot",
    metadata: {
      name: "velero-velero-made-x1",
      namespace: "nginx-example",
      labels: { "velero.io/backup-name": "velero-made" },
    },
    spec: { volumeSnapshotClassName: "csi-snapclass", source: { persistentVolumeClaimName: "nginx-logs" } },
  });
  await kill(first, "SIGTERM");

  // "old" expires. Its snapshot carries the snapshot controller's bound-protection finalizer; a second
  // one (as a backup tool or a stuck CSI driver would hold it) keeps it after the controller has
  // removed the content: the deletion stops after deleting the VolumeSnapshot, waiting for it to go
  expire("old");
  const contentOf = (n: string) =>
    api.getObject(
      SNAPSHOT_GV,
      "VolumeSnapshotContent",
      undefined,
      snapshot(n).status.boundVolumeSnapshotContentName,
    );
  const oldContent = snapshot("old").status.boundVolumeSnapshotContentName;
  assert.ok(contentOf("old"));
  assert.deepEqual(snapshot("old").metadata.finalizers, [BOUND_PROTECTION_FINALIZER]);
  await kubectl([
    "patch",
    "volumesnapshot",
    "old-nginx-logs",
    "-n",
    "nginx-example",
    "--type",
    "json",
    "-p",
    '[{"op":"add","path":"/metadata/finalizers/-","value":"test.hookguard.dev/hold"}]',
  ]);
  // --snapshot-timeout also bounds how long a deletion waits for its VolumeSnapshots to go
  const killed = agent(storageDir, "agent-killed", ["--gc-interval", "1h", "--snapshot-timeout", "2s"]);
  await killed.ready;
  await waitFor("the VolumeSnapshot of old to be deleted (held by its finalizer)", () =>
    snapshot("old")?.metadata.deletionTimestamp ? true : undefined,
  );
  await waitFor("the BackupDeletionFailed Event", () =>
    api.store
      .list(EVENTS)
      .some((e: any) => e.reason === "BackupDeletionFailed" && e.involvedObject.name === "old")
      ? true
      : undefined,
  );
  await kill(killed, "SIGKILL");
  // the Backup and its files stay: they are the record that the deletion is not finished
  assert.ok(backup("old"), "old is not forgotten while its snapshot remains");
  assert.equal(files(storageDir, "old").length, 3);

  // the controller has deleted the content and dropped its own finalizer; the other one goes now, and
  // a new agent resumes and completes the deletion
  await waitFor("the snapshot controller to finish", () =>
    JSON.stringify(snapshot("old")?.metadata.finalizers) === '["test.hookguard.dev/hold"]' ? true : undefined,
  );
  assert.equal(api.getObject(SNAPSHOT_GV, "VolumeSnapshotContent", undefined, oldContent), undefined);
  await kubectl([
    "patch",
    "volumesnapshot",
    "old-nginx-logs",
    "-n",
    "nginx-example",
    "--type",
    "json",
    "-p",
    '[{"op":"remove","path":"/metadata/finalizers/0"}]',
  ]);
  assert.equal(snapshot("old"), undefined);
  const second = agent(storageDir, "agent-two", ["--gc-interval", "1h"]);
  await second.ready;
  await waitFor("old to be deleted", () => (backup("old") ? undefined : true));
  assert.deepEqual(files(storageDir, "old"), []);
  assert.equal(existsSync(join(storageDir, "old")), false);

  // exactly that one: the unexpired Backup and Velero's, with their snapshots and files, remain
  assert.equal(backup("young").status.phase, "Completed");
  assert.ok(snapshot("young"));
  assert.ok(contentOf("young"));
  assert.equal(files(storageDir, "young").length, 3);
  assert.equal(backup("velero-made").status.phase, "Completed");
  assert.ok(api.getObject(SNAPSHOT_GV, "VolumeSnapshot", "nginx-example", "velero-velero-made-x1"));
  // the Events: started (by each agent that took it up), the failure, and the end (just after the delete)
  const reasons = () =>
    api.store
      .list(EVENTS)
      .filter((e: any) => e.involvedObject.name === "old")
      .map((e: any) => e.reason as string);
  await waitFor("the BackupDeleted Event", () => (reasons().includes("BackupDeleted") ? true : undefined));
  assert.ok(reasons().includes("BackupDeleting"), reasons().join(","));
  await kill(second, "SIGTERM");
});

test("hookguard backup delete: refuses without --confirm off a terminal and for a Velero-run Backup; with --confirm the agent deletes it", async () => {
  // one agent only: none left over from the test before (with its own storage dir) may take part
  for (const p of procs) await kill(p);
  const storageDir = mkdtempSync(join(tmpdir(), "hookguard-delete-"));
  mkdirSync(storageDir, { recursive: true });
  const a = agent(storageDir, "agent-delete", ["--gc-interval", "1h"]);
  await a.ready;
  await runToCompletion("unwanted");
  assert.ok(snapshot("unwanted"));
  const cli = (args: string[]) =>
    runCli(["backup", "delete", ...args, "--kubeconfig", api.kubeconfigPath, "-n", "velero"]);

  // stdin is not a terminal here: no prompt, a refusal, and nothing marked
  const noConfirm = await cli(["unwanted"]);
  assert.equal(noConfirm.code, 2, noConfirm.stderr);
  assert.match(
    noConfirm.stderr,
    /^error: refusing to delete backup "unwanted" without --confirm: stdin is not a terminal/,
  );
  assert.equal(backup("unwanted").metadata.annotations["hookguard.io/delete-requested"], undefined);

  // on a terminal (util-linux `script` gives it one) it asks as velero does; "n" cancels
  const asked = await runProcess(
    "script",
    [
      "-qec",
      `${process.execPath} bin/hookguard.js backup delete unwanted --kubeconfig ${api.kubeconfigPath} -n velero`,
      "/dev/null",
    ],
    { cwd: ROOT, env: { ...process.env, KUBECONFIG: "" }, input: "n\n" },
  );
  assert.equal(asked.code, 0, asked.stdout);
  assert.match(asked.stdout, /Are you sure you want to continue \(Y\/N\)\? /);
  assert.match(asked.stdout, /Cancelled\./);
  assert.equal(backup("unwanted").metadata.annotations["hookguard.io/delete-requested"], undefined);

  // a Backup hookguard did not run: refused, pointing to Velero's own deletion
  api.createObject({ ...newBackup("theirs"), status: { phase: "Completed" } });
  const theirs = await cli(["theirs", "--confirm"]);
  assert.equal(theirs.code, 1);
  assert.match(
    theirs.stderr,
    /not run by hookguard's standalone agent.*velero backup delete theirs -n velero/,
  );
  assert.equal(backup("theirs").metadata.annotations?.["hookguard.io/delete-requested"], undefined);

  const missing = await cli(["no-such-backup", "--confirm"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /backups.velero.io "no-such-backup" not found/);

  const done = await cli(["unwanted", "--confirm"]);
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /Request to delete backup "unwanted" submitted successfully/);
  await waitFor("unwanted to be deleted", () => (backup("unwanted") ? undefined : true));
  assert.equal(snapshot("unwanted"), undefined);
  assert.equal(existsSync(join(storageDir, "unwanted")), false);
  assert.ok(backup("theirs"), "Velero's Backup stays");
  // the snapshot controller took a moment to remove the snapshot: waited for, not a failure
  const reasons = () =>
    api.store
      .list(EVENTS)
      .filter((e: any) => e.involvedObject.name === "unwanted" && e.reason.startsWith("BackupDelet"))
      .map((e: any) => e.reason as string);
  // the last Event follows the Backup's deletion
  await waitFor("the BackupDeleted Event", () => (reasons().includes("BackupDeleted") ? true : undefined));
  // (the store lists Events by name, not by time)
  assert.deepEqual(reasons().sort(), ["BackupDeleted", "BackupDeleting"]);
  await kill(a, "SIGTERM");
});
