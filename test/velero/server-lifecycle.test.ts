// The Velero-server double as a liveness signal and a log server (one server process for the file,
// as a Velero pod serves a cluster): the Deployment `velero` and its Running pod, the BSL heartbeat,
// ServerStatusRequests, and DownloadRequests whose signed URL really expires and which are deleted
// once expired.
import { after, before, test } from "node:test";
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

after(async () => {
  for (const p of running.splice(0)) await p.kill("SIGKILL");
  kubectl?.cleanup();
  await api?.stop();
});

test("looks like a live Velero server: Deployment velero, its Running pod, BSL Available with a fresh lastValidationTime", async () => {
  const velero = start(["--store-validation-frequency", "1s", "--download-url-ttl", "4s", "--version", "1.15"]);
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

  // `velero version`'s round trip: a ServerStatusRequest gets Processed with the server's version.
  const ssr = await kubectl.run(["create", "-f", "-"], JSON.stringify({ apiVersion: "velero.io/v1", kind: "ServerStatusRequest", metadata: { name: "velero-cli-x1", namespace: "velero" }, spec: {} }));
  assert.equal(ssr.code, 0, ssr.stderr);
  const processed = await waitFor("ServerStatusRequest Processed", () => {
    const o = api.getObject("velero.io/v1", "ServerStatusRequest", "velero", "velero-cli-x1");
    return o?.status?.phase === "Processed" ? o : undefined;
  });
  assert.equal(processed.status.serverVersion, "v1.15.2");
  assert.ok(processed.status.plugins.some((p: any) => p.name === "velero.io/pvc" && p.kind === "ItemBlockAction"));
});

test("a DownloadRequest's URL serves the gzipped log until it expires; the expired request is deleted", async () => {
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
});
