// The Velero-server double through a crash: a SIGKILL between a block's pre and post hooks leaves the
// Backup InProgress until a server starts again and fails it with Velero's exact reason; no log
// exists for it; the container restarts in the same pod (or a new pod replaces it with --reschedule).
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { Kubectl } from "../apiserver-double/helpers.js";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { waitFor } from "../agent/double.js";
import { findByKind } from "../apiserver/resources.js";
import { bslCa, httpsGet, kubeConfig, requestDownload, spawnVelero, type VeleroProcess } from "./harness.js";

let api: ApiServerHandle;
let kubectl: Kubectl;
const running: VeleroProcess[] = [];

function start(args: string[]): VeleroProcess {
  const p = spawnVelero(api.kubeconfigPath, ["--store-dir", `${api.dir}/bucket`, ...args]);
  running.push(p);
  return p;
}

function backup(name: string): any {
  return api.getObject("velero.io/v1", "Backup", "velero", name);
}

const PODS = findByKind("v1", "Pod")!;

/** The server pods, by the install's pod label. */
function veleroPods(): any[] {
  return api.store.list(PODS, "velero").filter((p) => p.metadata.labels?.deploy === "velero");
}

before(async () => {
  api = await startApiServer({ namespaces: ["db"] });
  kubectl = new Kubectl(api.kubeconfigPath);
  api.createObject({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "mysql-0", namespace: "db", annotations: { "pre.hook.backup.velero.io/command": '["/bin/sh","-c","echo frozen"]', "post.hook.backup.velero.io/command": '["/bin/sh","-c","echo thawed"]' } },
    spec: { containers: [{ name: "mysql", image: "busybox" }] },
  });
  await waitFor("mysql-0 Running", () => api.getObject("v1", "Pod", "db", "mysql-0")?.status?.phase === "Running" || undefined);
});

// A failed test must not leave its server running into the next one (two servers would race).
afterEach(async () => {
  for (const p of running.splice(0)) await p.kill("SIGKILL");
});

after(async () => {
  kubectl?.cleanup();
  await api?.stop();
});

test("SIGKILL between pre and post hooks leaves the Backup InProgress; the next start fails it with Velero's reason", async () => {
  const velero = start(["--hold-items", "10m"]);
  await velero.ready;
  const before = veleroPods()[0];
  const created = await kubectl.run(["create", "-f", "-"], JSON.stringify({ apiVersion: "velero.io/v1", kind: "Backup", metadata: { name: "crash", namespace: "velero" }, spec: { includedNamespaces: ["db"] } }));
  assert.equal(created.code, 0, created.stderr);
  // The pre hook ran (the dual-mode logger also writes the backup log to stdout), the post hook not yet.
  await waitFor("pre hook output", () => velero.stdout().includes("msg=\"stdout: frozen\\n\"") || undefined, 60_000, 100);
  assert.equal(backup("crash").status.phase, "InProgress");
  await velero.kill("SIGKILL");
  assert.ok(!velero.stdout().includes("thawed"));
  assert.equal(backup("crash").status.phase, "InProgress", "nothing fails a Backup while no server runs");

  const again = start([]);
  await again.ready;
  const b = backup("crash");
  assert.equal(b.status.phase, "Failed");
  assert.equal(b.status.failureReason, 'found a backup with status "InProgress" during the server starting, mark it as "Failed"');
  assert.ok(Date.parse(b.status.completionTimestamp) >= Date.parse(b.status.startTimestamp));
  assert.ok(again.stdout().includes('level=warning msg="found a backup with status \\"InProgress\\" during the server starting, mark it as \\"Failed\\"" backup=crash'));

  // The container restarted in the same pod (restartPolicy Always).
  const after = veleroPods();
  assert.equal(after.length, 1);
  assert.equal(after[0].metadata.name, before.metadata.name);
  assert.equal(after[0].status.containerStatuses[0].restartCount, (before.status.containerStatuses[0].restartCount ?? 0) + 1);
  assert.equal(after[0].status.containerStatuses[0].lastState.terminated.exitCode, 137);

  // Its log lived in the dead process: the DownloadRequest is answered, the object is not there.
  const kc = kubeConfig(api.kubeconfigPath);
  const dr = await requestDownload(kc, "BackupLog", "crash");
  const res = await httpsGet(dr.url, await bslCa(kc));
  assert.equal(res.status, 404);
  assert.match(res.body.toString(), /<Code>NoSuchKey<\/Code>/);
  await again.kill();

  const moved = start(["--reschedule"]);
  await moved.ready;
  const now = await waitFor("one Running velero pod", () => {
    const pods = veleroPods();
    return pods.length === 1 && pods[0].status?.phase === "Running" ? pods : undefined;
  });
  assert.notEqual(now[0].metadata.name, before.metadata.name, "--reschedule: a new pod replaces the old one");
  assert.notEqual(now[0].metadata.uid, before.metadata.uid);
  await moved.kill();
});
