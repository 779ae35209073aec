// The Velero-server double as a liveness signal and a log server (one server process for the file,
// as a Velero pod serves a cluster): the Deployment `velero` and its Running pod, the BSL heartbeat,
// ServerStatusRequests, DownloadRequests whose signed URL really expires and which are deleted once
// expired, and a restart into a new pod with --reschedule.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { waitFor } from "../agent/double.js";
import { bslCa, httpsGet, kubeConfig, requestDownload, Sandbox } from "./harness.js";

let sb: Sandbox;

before(async () => {
  sb = await Sandbox.start();
});

after(() => sb?.stop());

test("looks like a live Velero server: Deployment velero, its Running pod, BSL Available with a fresh lastValidationTime", async () => {
  const velero = sb.velero([
    "--store-validation-frequency",
    "1s",
    "--download-url-ttl",
    "4s",
    "--version",
    "1.15",
  ]);
  await velero.ready;
  const deploy = sb.api.getObject("apps/v1", "Deployment", "velero", "velero");
  assert.equal(deploy.metadata.labels.component, "velero");
  assert.deepEqual(deploy.spec.selector.matchLabels, { deploy: "velero" });
  assert.equal(deploy.status.availableReplicas, 1);
  const pod = await waitFor("velero pod Running", () => {
    const pods = sb.veleroPods();
    return pods.length === 1 && pods[0].status?.phase === "Running" ? pods[0] : undefined;
  });
  assert.equal(pod.metadata.labels.component, "velero");
  assert.equal(pod.spec.containers[0].name, "velero");
  assert.ok(pod.metadata.name.startsWith("velero-"));

  const got = await sb.kubectl.run([
    "get",
    "deployments,pods",
    "-n",
    "velero",
    "-l",
    "component=velero",
    "-o",
    "name",
  ]);
  assert.equal(got.code, 0, got.stderr);
  assert.deepEqual(got.stdout.trim().split("\n"), ["deployment.apps/velero", `pod/${pod.metadata.name}`]);

  const bsl = () => sb.api.getObject("velero.io/v1", "BackupStorageLocation", "velero", "default");
  assert.equal(bsl().status.phase, "Available");
  const first = bsl().status.lastValidationTime;
  assert.ok(Date.now() - Date.parse(first) < 60_000);
  await waitFor(
    "a newer lastValidationTime",
    () => (bsl().status.lastValidationTime > first ? true : undefined),
    30_000,
    200,
  );

  // `velero version`'s round trip: a ServerStatusRequest gets Processed with the server's version.
  const ssr = await sb.kubectl.run(
    ["create", "-f", "-"],
    JSON.stringify({
      apiVersion: "velero.io/v1",
      kind: "ServerStatusRequest",
      metadata: { name: "velero-cli-x1", namespace: "velero" },
      spec: {},
    }),
  );
  assert.equal(ssr.code, 0, ssr.stderr);
  const processed = await waitFor("ServerStatusRequest Processed", () => {
    const o = sb.api.getObject("velero.io/v1", "ServerStatusRequest", "velero", "velero-cli-x1");
    return o?.status?.phase === "Processed" ? o : undefined;
  });
  assert.equal(processed.status.serverVersion, "v1.15.2");
  assert.ok(
    processed.status.plugins.some((p: any) => p.name === "velero.io/pvc" && p.kind === "ItemBlockAction"),
  );
});

test("a DownloadRequest's URL serves the gzipped log until it expires; the expired request is deleted", async () => {
  const created = await sb.kubectl.run(
    ["create", "-f", "-"],
    JSON.stringify({
      apiVersion: "velero.io/v1",
      kind: "Backup",
      metadata: { name: "daily", namespace: "velero" },
      spec: { includedNamespaces: ["db"] },
    }),
  );
  assert.equal(created.code, 0, created.stderr);
  await waitFor(
    "daily Completed",
    () => (sb.backup("daily")?.status?.phase === "Completed" ? true : undefined),
    120_000,
    100,
  );
  assert.deepEqual(sb.backup("daily").status.hookStatus, { hooksAttempted: 2 });

  const kc = kubeConfig(sb.api.kubeconfigPath);
  const dr = await requestDownload(kc, "BackupLog", "daily");
  assert.equal(dr.status.phase, "Processed");
  assert.ok(Date.parse(dr.status.expiration) > Date.now());
  const ca = await bslCa(kc);
  const ok = await httpsGet(dr.url, ca);
  assert.equal(ok.status, 200);
  const log = gunzipSync(ok.body).toString("utf8");
  assert.match(
    log,
    /msg="stdout: thawed\\n" backup=velero\/daily hookCommand="\[\/bin\/sh -c echo thawed\]"/,
  );

  const tampered = dr.url.replace(
    /X-Signature=([0-9a-f])/,
    (_m, c: string) => `X-Signature=${c === "0" ? "1" : "0"}`,
  );
  const bad = await httpsGet(tampered, ca);
  assert.equal(bad.status, 403);
  assert.match(bad.body.toString(), /SignatureDoesNotMatch/);

  await waitFor(
    "expiry",
    () => (Date.now() > Date.parse(dr.status.expiration) + 500 ? true : undefined),
    30_000,
    100,
  );
  const late = await httpsGet(dr.url, ca);
  assert.equal(late.status, 403);
  assert.match(late.body.toString(), /Request has expired/);
  await waitFor(
    "the expired DownloadRequest deleted",
    () =>
      sb.api.getObject("velero.io/v1", "DownloadRequest", "velero", dr.name) === undefined ? true : undefined,
    30_000,
    100,
  );
});

test("--reschedule: the restarted server runs in a new pod (new name and uid), the old one is gone", async () => {
  await sb.killAll();
  const old = sb.veleroPods();
  assert.equal(old.length, 1);
  const moved = sb.velero(["--reschedule"]);
  await moved.ready;
  const now = await waitFor("one Running velero pod", () => {
    const pods = sb.veleroPods();
    return pods.length === 1 &&
      pods[0].status?.phase === "Running" &&
      pods[0].metadata.uid !== old[0].metadata.uid
      ? pods
      : undefined;
  });
  assert.notEqual(now[0].metadata.name, old[0].metadata.name);
  assert.equal(now[0].status.containerStatuses[0].restartCount, 0);
});
