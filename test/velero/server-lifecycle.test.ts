// The Velero-server double as a liveness signal and through a crash: the Deployment `velero` and its
// Running pod, the BSL heartbeat, a SIGKILL between a block's pre and post hooks (the Backup stays
// InProgress until a server starts again and fails it with Velero's exact reason, and no log exists
// for it), the container restart in the same pod (or a new pod with --reschedule), and
// DownloadRequests whose signed URL really expires and which are deleted once expired.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
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

test("looks like a live Velero server: Deployment velero, its Running pod, BSL Available with a fresh lastValidationTime", async () => {
  const velero = start(["--store-validation-frequency", "1s"]);
  await velero.ready;
  const deploy = api.getObject("apps/v1", "Deployment", "velero", "velero");
  assert.equal(deploy.metadata.labels.component, "velero");
  assert.deepEqual(deploy.spec.selector.matchLabels, { deploy: "velero" });
  assert.equal(deploy.status.availableReplicas, 1);
  const pod = await waitFor("velero pod Running", () => {
    const pods = veleroPods();
    return pods.length === 1 && pods[0].status?.phase === "Running" ? pods[0] : undefined;
  });
  assert.equal(pod.metadata.labels.component, "velero");
  assert.equal(pod.spec.containers[0].name, "velero");
  assert.ok(pod.metadata.name.startsWith("velero-"));

  const got = await kubectl.run(["get", "deployments,pods", "-n", "velero", "-l", "component=velero", "-o", "name"]);
  assert.equal(got.code, 0, got.stderr);
  assert.deepEqual(got.stdout.trim().split("\n"), ["deployment.apps/velero", `pod/${pod.metadata.name}`]);

  const bsl = () => api.getObject("velero.io/v1", "BackupStorageLocation", "velero", "default");
  assert.equal(bsl().status.phase, "Available");
  const first = bsl().status.lastValidationTime;
  assert.ok(Date.now() - Date.parse(first) < 60_000);
  await waitFor("a newer lastValidationTime", () => (bsl().status.lastValidationTime > first ? true : undefined), 30_000, 200);
  await velero.kill();
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

test("a DownloadRequest's URL serves the gzipped log until it expires; the expired request is deleted", async () => {
  const velero = start(["--download-url-ttl", "4s", "--version", "1.15"]);
  await velero.ready;
  const created = await kubectl.run(["create", "-f", "-"], JSON.stringify({ apiVersion: "velero.io/v1", kind: "Backup", metadata: { name: "daily", namespace: "velero" }, spec: { includedNamespaces: ["db"] } }));
  assert.equal(created.code, 0, created.stderr);
  await waitFor("daily Completed", () => (backup("daily")?.status?.phase === "Completed" ? true : undefined), 120_000, 100);
  assert.deepEqual(backup("daily").status.hookStatus, { hooksAttempted: 2 });

  const kc = kubeConfig(api.kubeconfigPath);
  const dr = await requestDownload(kc, "BackupLog", "daily");
  assert.equal(dr.status.phase, "Processed");
  assert.ok(Date.parse(dr.status.expiration) > Date.now());
  const ca = await bslCa(kc);
  const ok = await httpsGet(dr.url, ca);
  assert.equal(ok.status, 200);
  const log = gunzipSync(ok.body).toString("utf8");
  assert.match(log, /msg="stdout: thawed\\n" backup=velero\/daily hookCommand="\[\/bin\/sh -c echo thawed\]"/);

  const tampered = dr.url.replace(/X-Signature=([0-9a-f])/, (_m, c: string) => `X-Signature=${c === "0" ? "1" : "0"}`);
  const bad = await httpsGet(tampered, ca);
  assert.equal(bad.status, 403);
  assert.match(bad.body.toString(), /SignatureDoesNotMatch/);

  await waitFor("expiry", () => (Date.now() > Date.parse(dr.status.expiration) + 500 ? true : undefined), 30_000, 100);
  const late = await httpsGet(dr.url, ca);
  assert.equal(late.status, 403);
  assert.match(late.body.toString(), /Request has expired/);
  await waitFor("the expired DownloadRequest deleted", () => (api.getObject("velero.io/v1", "DownloadRequest", "velero", dr.name) === undefined ? true : undefined), 30_000, 100);
  await velero.kill();
});
