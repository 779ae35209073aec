// createCompanionCluster with the real client-node: against the API-server double for Backups (watch,
// get), pods and the checkpoint ConfigMap / DownloadRequests where the double serves those kinds,
// and the signed-URL download (GET + gunzip) against a real local HTTPS server.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { KubeConfig } from "@kubernetes/client-node";
import { silentLogger } from "../../src/log.js";
import type { BackupObject } from "../../src/velero/types.js";
import type { CompanionCluster } from "../../src/agent/companion/ports.js";
import { BackupCheckpoint } from "../../src/agent/companion/checkpoint.js";
import { downloadBackupFile } from "../../src/velero/download.js";
import { createCompanionCluster, fetchGunzipped } from "../../src/kube/companion-cluster.js";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { findResource } from "../apiserver/resources.js";
import { startTestServer, waitFor, type TestServer } from "./helpers/https-server.js";

const servesDownloadRequests = findResource("velero.io", "v1", "downloadrequests") !== undefined;

describe("createCompanionCluster against the API-server double", () => {
  let api: ApiServerHandle;
  let cluster: CompanionCluster;
  let store: TestServer;
  const objects = new Map<string, Buffer>();

  before(async () => {
    api = await startApiServer({ namespaces: ["app", "hookguard"] });
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    store = await startTestServer((req, res) => {
      const body = objects.get((req.url ?? "").split("?")[0]!);
      if (!body) {
        res.writeHead(404).end("<Error><Code>NoSuchKey</Code></Error>");
        return;
      }
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
    });
    cluster = createCompanionCluster(kc, silentLogger(), {
      downloadCaPem: store.caPem,
      retry: { attempts: 2, baseDelayMs: 10 },
    });
  });
  after(async () => {
    await store.stop();
    await api.stop();
  });

  it("watches Velero's Backups: the list, then status changes as updates", async () => {
    api.createObject({
      apiVersion: "velero.io/v1",
      kind: "Backup",
      metadata: { name: "first", namespace: "velero" },
      spec: {},
    });
    const seen: string[] = [];
    const watch = cluster.watchBackups("velero", (type, b) =>
      seen.push(`${type} ${b.metadata.name} ${b.status?.phase ?? "-"}`),
    );
    await watch.start();
    try {
      assert.equal(watch.synced(), true);
      await waitFor(() => seen.includes("add first -"), "the listed Backup");
      api.setStatus("velero.io/v1", "Backup", "velero", "first", {
        phase: "Completed",
        hookStatus: { hooksAttempted: 1 },
      });
      await waitFor(() => seen.includes("update first Completed"), "the status update");
      const got = await cluster.getBackup("velero", "first");
      assert.ok(got.ok && got.value);
      assert.equal((got.value as BackupObject).status?.hookStatus?.hooksAttempted, 1);
      assert.ok(got.value.metadata.uid, "uid for the checkpoint");
    } finally {
      await watch.stop();
    }
  });

  it("lists pods as wire JSON for the Backup's scope", async () => {
    api.createObject({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "p1",
        namespace: "app",
        annotations: { "pre.hook.backup.velero.io/command": '["/bin/sync"]' },
      },
      spec: { containers: [{ name: "c", image: "busybox" }] },
    });
    const pods = await cluster.listPods("app");
    assert.ok(pods.ok);
    assert.deepEqual(
      pods.value.map((p) => [
        p.metadata?.name,
        p.metadata?.annotations?.["pre.hook.backup.velero.io/command"],
      ]),
      [["p1", '["/bin/sync"]']],
    );
  });

  it("keeps the checkpoint in a ConfigMap with resourceVersion-guarded writes", async () => {
    const a = new BackupCheckpoint(cluster, { namespace: "hookguard", name: "hookguard-companion" });
    const b = new BackupCheckpoint(cluster, { namespace: "hookguard", name: "hookguard-companion" });
    assert.ok((await a.load()).ok && (await b.load()).ok);
    const at = new Date(Date.now() + 60_000).toISOString();
    const [ra, rb] = await Promise.all([
      a.commit([{ uid: "u1", name: "x", at }]),
      b.commit([{ uid: "u1", name: "x", at }]),
    ]);
    assert.ok(ra.ok && rb.ok);
    assert.deepEqual([...ra.value.added, ...rb.value.added], ["u1"]);
    const cm = await cluster.getConfigMap("hookguard", "hookguard-companion");
    assert.ok(cm.ok && cm.value);
    assert.match(cm.value.data?.processed ?? "", /"u1"/);
  });

  it(
    "reads a Backup's log through a DownloadRequest, then deletes it",
    { skip: servesDownloadRequests ? false : "the API-server double does not serve DownloadRequests yet" },
    async () => {
      api.createObject({
        apiVersion: "velero.io/v1",
        kind: "Backup",
        metadata: { name: "logged", namespace: "velero" },
        spec: {},
      });
      objects.set(
        "/velero/backups/logged/logged-logs.gz",
        gzipSync('time="t" level=info msg="running exec hook"\n'),
      );
      // what Velero's download-request controller does: Processed and a signed URL
      const answer = setInterval(() => {
        const def = findResource("velero.io", "v1", "downloadrequests")!;
        for (const dr of api.store.list(def, "velero") as Array<{
          metadata: { name: string };
          status?: { downloadURL?: string };
        }>) {
          if (!dr.status?.downloadURL) {
            api.setStatus("velero.io/v1", "DownloadRequest", "velero", dr.metadata.name, {
              phase: "Processed",
              downloadURL: `${store.url}/velero/backups/logged/logged-logs.gz?X-Amz-Signature=secret`,
            });
          }
        }
      }, 20);
      try {
        const text = await downloadBackupFile(cluster, "velero", "logged", "BackupLog", {
          pollMs: 20,
          timeoutMs: 10_000,
        });
        assert.deepEqual(text, { ok: true, value: 'time="t" level=info msg="running exec hook"\n' });
      } finally {
        clearInterval(answer);
      }
      const left = api.requestLog.filter(
        (r) => r.method === "DELETE" && r.url.includes("/downloadrequests/logged-"),
      );
      assert.equal(left.length, 1);
    },
  );

  it(
    "gives up on a DownloadRequest Velero never answers, with a clear error, and deletes it",
    { skip: servesDownloadRequests ? false : "the API-server double does not serve DownloadRequests yet" },
    async () => {
      const r = await downloadBackupFile(cluster, "velero", "nobody-home", "BackupLog", {
        pollMs: 20,
        timeoutMs: 200,
      });
      assert.equal(r.ok, false);
      assert.match(
        !r.ok ? r.error.message : "",
        /Velero did not answer DownloadRequest velero\/nobody-home-.* within 200ms/,
      );
      assert.ok(
        api.requestLog.some((x) => x.method === "DELETE" && x.url.includes("/downloadrequests/nobody-home-")),
      );
    },
  );
});

describe("fetchGunzipped: the signed-URL download", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer((req, res) => {
      const path = (req.url ?? "").split("?")[0];
      if (path === "/log.gz") res.writeHead(200).end(gzipSync("line 1\nline 2\n"));
      else if (path === "/big.gz") res.writeHead(200).end(gzipSync(Buffer.alloc(200_000, "a")));
      else if (path === "/plain") res.writeHead(200).end("not gzip at all");
      else if (path === "/denied")
        res.writeHead(403).end("<Error><Code>SignatureDoesNotMatch</Code></Error>");
      else res.writeHead(404).end();
    });
  });
  after(async () => server.stop());

  it("GETs and gunzips, trusting the given CA", async () => {
    assert.deepEqual(await fetchGunzipped(`${server.url}/log.gz?sig=abc`, { caPem: server.caPem }), {
      ok: true,
      value: "line 1\nline 2\n",
    });
  });

  it("maps 404 to not_found and other statuses to http, never quoting the signed query", async () => {
    const missing = await fetchGunzipped(`${server.url}/gone?X-Amz-Signature=topsecret`, {
      caPem: server.caPem,
    });
    assert.equal(!missing.ok && missing.error.kind, "not_found");
    const denied = await fetchGunzipped(`${server.url}/denied?X-Amz-Signature=topsecret`, {
      caPem: server.caPem,
    });
    assert.ok(!denied.ok && denied.error.kind === "http");
    assert.match(denied.error.message, /^HTTP 403 from 127\.0\.0\.1:\d+: <Error><Code>SignatureDoesNotMatch/);
    assert.doesNotMatch(JSON.stringify([missing, denied]), /topsecret/);
  });

  it("refuses content that is not gzip or too big, and a server it cannot verify", async () => {
    const plain = await fetchGunzipped(`${server.url}/plain`, { caPem: server.caPem });
    assert.equal(!plain.ok && plain.error.kind, "content");
    const big = await fetchGunzipped(`${server.url}/big.gz`, { caPem: server.caPem, maxBytes: 100_000 });
    assert.match(!big.ok ? big.error.message : "", /larger than 100000 bytes/);
    const untrusted = await fetchGunzipped(`${server.url}/log.gz`);
    assert.equal(!untrusted.ok && untrusted.error.kind, "transport");
    const scheme = await fetchGunzipped("file:///etc/passwd");
    assert.match(!scheme.ok ? scheme.error.message : "", /unsupported download URL scheme file:/);
  });
});
