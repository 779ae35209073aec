// The user's path through the real CLI against the double with the agent running: `backup create
// --wait`, `backup describe`, `backup logs | grep hookCommand`, `backup plan` (nothing executed).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { createServer, type AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { proxyGet } from "../../src/kube/service-proxy.js";
import { findByKind } from "../apiserver/resources.js";
import { hookguard } from "../cli/backup-create-spawn.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningAgent } from "../../src/cli/agent-main.js";
import { readContainerFile } from "../apiserver/exec/index.js";
import type { ApiServerHandle } from "../apiserver/server.js";
import { applyNginxExample, startDouble, startTestAgent, waitForPodRunning } from "./double.js";
import { runCli } from "./spawn.js";

const POD = "nginx-deployment-7d9c5-cli01";
let api: ApiServerHandle;
let agent: RunningAgent;
let storageDir: string;
let common: string[];
/** plan reads no storage dir and takes -n only with a NAME */
const kube = (): string[] => common.slice(0, 2);

before(async () => {
  api = await startDouble();
  storageDir = mkdtempSync(join(tmpdir(), "hookguard-cli-"));
  common = ["--kubeconfig", api.kubeconfigPath, "-n", "velero", "--storage-dir", storageDir];
  agent = await startTestAgent(api, storageDir, "cli-agent");
  applyNginxExample(api, POD);
  await waitForPodRunning(api, "nginx-example", POD);
});

after(async () => {
  await agent?.stop();
  await api?.stop();
});

test("backup plan shows the block and both hooks and executes nothing", async () => {
  const r = await runCli(["backup", "plan", ...kube(), "--include-namespaces", "nginx-example"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /ItemBlock 1: pods\/nginx-example\/nginx-deployment-7d9c5-cli01, persistentvolumeclaims\/nginx-example\/nginx-logs, persistentvolumes\/pv-nginx-logs/,
  );
  assert.match(
    r.stdout,
    /pre: annotation <from-annotation> container=fsfreeze onError=Fail timeout=30s argv=\["\/sbin\/fsfreeze","--freeze","\/var\/log\/nginx"\]/,
  );
  assert.match(
    r.stdout,
    /post: annotation <from-annotation> container=fsfreeze onError=Continue timeout=30s/,
  );
  const pod = api.getObject("v1", "Pod", "nginx-example", POD);
  assert.equal(
    await readContainerFile(
      join(api.dir, "exec"),
      pod.metadata.uid,
      "fsfreeze",
      "/var/lib/fsfreeze-standin/log",
    ),
    undefined,
    "plan ran no hook",
  );
  // a Backup manifest with spec hooks: the plan says the annotation overrides them
  const dir = mkdtempSync(join(tmpdir(), "hookguard-plan-"));
  const file = join(dir, "backup.yaml");
  writeFileSync(
    file,
    "apiVersion: velero.io/v1\nkind: Backup\nmetadata:\n  name: x\nspec:\n  includedNamespaces: [nginx-example]\n  hooks:\n    resources:\n      - name: sync\n        pre:\n          - exec:\n              command: [/bin/sync]\n",
  );
  const r2 = await runCli(["backup", "plan", ...kube(), "--from-backup-file", file]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(
    r2.stdout,
    /pre: skipped spec hook sync: the pod's pre annotation hook overrides spec hooks for this phase/,
  );
  const bad = await runCli(["backup", "plan", ...kube(), "--from-backup-file", join(dir, "missing.yaml")]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error: .*missing\.yaml/m);
});

test("create --wait, then describe shows HooksAttempted 2 / HooksFailed 0 and logs | grep hookCommand shows both hooks", async () => {
  const created = await runCli([
    "backup",
    "create",
    "nginx-hook-test",
    ...common.filter((_, i) => i < 4),
    "--include-namespaces",
    "nginx-example",
    "--wait",
  ]);
  assert.equal(created.code, 0, created.stdout + created.stderr);

  const d = await runCli(["backup", "describe", "nginx-hook-test", ...common]);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /^Phase:  Completed$/m);
  assert.match(d.stdout, /^HooksAttempted:  2\nHooksFailed:     0$/m);
  assert.match(
    d.stdout,
    /^ {2}nginx-example\/nginx-deployment-7d9c5-cli01 +fsfreeze +pre +annotation +<from-annotation> +succeeded +0 +\S+$/m,
  );
  assert.match(
    d.stdout,
    /^ {2}nginx-example\/nginx-deployment-7d9c5-cli01 +fsfreeze +post +annotation +<from-annotation> +succeeded +0 +\S+$/m,
  );
  assert.match(d.stdout, /^Errors:    0\nWarnings:  0$/m);

  const logs = await runCli(["backup", "logs", "nginx-hook-test", ...common]);
  assert.equal(logs.code, 0, logs.stderr);
  const lines = logs.stdout
    .split("\n")
    .filter((l) => l.includes("hookCommand"))
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    lines.map((l) => `${l.msg.split(":")[0]} ${l.hookPhase} ${l.hookCommand.join(" ")}`),
    [
      "running exec hook pre /sbin/fsfreeze --freeze /var/log/nginx",
      "stdout pre /sbin/fsfreeze --freeze /var/log/nginx",
      "stderr pre /sbin/fsfreeze --freeze /var/log/nginx",
      "running exec hook post /sbin/fsfreeze --unfreeze /var/log/nginx",
      "stdout post /sbin/fsfreeze --unfreeze /var/log/nginx",
      "stderr post /sbin/fsfreeze --unfreeze /var/log/nginx",
    ],
  );

  // plan NAME: the existing Backup's spec, resolved again; -n/--storage-dir are not plan's flags without NAME
  const planned = await runCli(["backup", "plan", "nginx-hook-test", ...kube(), "-n", "velero"]);
  assert.equal(planned.code, 0, planned.stderr);
  assert.match(planned.stdout, /ItemBlock 1: pods\/nginx-example\/nginx-deployment-7d9c5-cli01/);
  const stray = await runCli(["backup", "plan", ...kube(), "-n", "velero"]);
  assert.equal(stray.code, 2);
  assert.match(stray.stderr, /-n\/--namespace is the namespace of the Backup NAME: give NAME too/);
  const noStorage = await runCli(["backup", "plan", ...common]);
  assert.equal(noStorage.code, 2);
  assert.match(noStorage.stderr, /unknown option '--storage-dir'/);

  const missing = await runCli(["backup", "describe", "no-such-backup", ...common]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /backup velero\/no-such-backup not found/);
  const noLog = await runCli(["backup", "logs", "no-such-backup", ...common]);
  assert.equal(noLog.code, 1);
  assert.match(noLog.stderr, /backup velero\/no-such-backup not found/);
});

/** The chart's stored-files Service, with the Endpoints an endpoints controller would write, pointed at `port`. */
function pointResultsService(port: number): void {
  if (!api.getObject("v1", "Service", "hookguard", "hookguard-agent-results")) {
    api.createObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: "hookguard" } });
    api.createObject({
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "hookguard-agent-results",
        namespace: "hookguard",
        labels: { "app.kubernetes.io/name": "hookguard", "app.kubernetes.io/component": "agent-results" },
      },
      spec: { ports: [{ name: "https-results", port: 8443, targetPort: "results", protocol: "TCP" }] },
    });
  } else api.store.remove(findByKind("v1", "Endpoints")!, "hookguard", "hookguard-agent-results");
  api.createObject({
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name: "hookguard-agent-results", namespace: "hookguard" },
    subsets: [
      { addresses: [{ ip: "127.0.0.1" }], ports: [{ name: "https-results", port, protocol: "TCP" }] },
    ],
  });
}

test("without a storage dir, describe, logs and download read the agent through the service proxy, byte for byte", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "hookguard-laptop-"));
  const laptop = (args: string[]) => hookguard(args, undefined, { HOOKGUARD_STORAGE_DIR: undefined }, cwd);
  pointResultsService(agent.resultsPort!);
  const k = kube();
  for (const cmd of ["describe", "logs"]) {
    const remote = await laptop(["backup", cmd, "nginx-hook-test", ...k]);
    const localCopy = await laptop(["backup", cmd, "nginx-hook-test", ...common]);
    assert.equal(remote.code, 0, remote.stderr);
    assert.equal(localCopy.code, 0, localCopy.stderr);
    assert.ok(remote.stdout.length > 200, remote.stdout);
    assert.equal(remote.stdout, localCopy.stdout, cmd);
  }
  const got = await laptop(["backup", "download", "nginx-hook-test", ...k]);
  assert.equal(got.code, 0, got.stderr);
  assert.equal(
    got.stdout,
    `Backup nginx-hook-test has been successfully downloaded to nginx-hook-test-data.tar.gz\n`,
  );
  const stored = readFileSync(join(storageDir, "nginx-hook-test", "nginx-hook-test.tar.gz"));
  assert.ok(stored.length > 0);
  assert.ok(readFileSync(join(cwd, "nginx-hook-test-data.tar.gz")).equals(stored));
  const again = await laptop(["backup", "download", "nginx-hook-test", ...k]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /nginx-hook-test-data\.tar\.gz already exists/);
  const fromCopy = await laptop(["backup", "download", "nginx-hook-test", ...common, "-o", "copy.tar.gz"]);
  assert.equal(fromCopy.code, 0, fromCopy.stderr);
  assert.ok(readFileSync(join(cwd, "copy.tar.gz")).equals(stored));
  assert.deepEqual(
    readdirSync(cwd).sort(),
    ["copy.tar.gz", "nginx-hook-test-data.tar.gz"],
    "no partial file left behind",
  );

  // the agent's index, through the proxy with the admin's credentials
  const index = await proxyGet(kubeConfigOf(api.kubeconfigPath), svcRef(), "/backups");
  assert.ok(index.ok);
  const body = JSON.parse(await text(index.value));
  assert.deepEqual(body.backups, [{ name: "nginx-hook-test", results: true, log: true, archive: true }]);
});

test("the stored files refuse traversal, the proxy refuses a user without services/proxy, and a down agent or missing results say so", async () => {
  // traversal: straight at the agent and through the proxy; no path leaves the storage dir
  for (const path of [
    "/backups/../log",
    "/backups/..%2F..%2Fetc/log",
    "/backups/a%2Fb/log",
    "/backups/%2e%2e/archive",
  ]) {
    const direct = await rawGet(agent.resultsPort!, path);
    assert.ok(direct.status === 400 || direct.status === 404, `${path}: ${direct.status}`);
    assert.match(direct.body, /"error":"(invalid backup name|not found)"/);
  }
  const viaProxy = await proxyGet(kubeConfigOf(api.kubeconfigPath), svcRef(), "/backups/..%2F..%2Fetc/log");
  assert.ok(!viaProxy.ok && viaProxy.error.kind === "agent" && viaProxy.error.status === 400);
  const bad = await runCli(["backup", "download", "../etc", ...kube()]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid backup name "\.\.\/etc"/);

  // a reader who may read Backups and find the Service but not use its proxy
  const reader = api.addUser("laptop-reader", ["readers"]);
  api.setPolicy([{ users: ["laptop-reader"], verbs: ["get", "list"], resources: ["backups", "services"] }]);
  try {
    const r = await runCli(["backup", "describe", "nginx-hook-test", "--kubeconfig", reader.kubeconfigPath]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stderr,
      /cannot get resource "services\/proxy" in API group "" in the namespace "hookguard"/,
    );
    assert.match(r.stderr, /needs get on services\/proxy for Service hookguard\/hookguard-agent-results/);
  } finally {
    api.setPolicy(undefined);
  }

  // a Backup the agent claimed but stored nothing for
  api.createObject({
    apiVersion: "velero.io/v1",
    kind: "Backup",
    metadata: { name: "lost-1", namespace: "velero", annotations: { "hookguard.io/owner": "gone" } },
    spec: {},
    status: { phase: "Completed" },
  });
  const lost = await runCli(["backup", "logs", "lost-1", ...kube()]);
  assert.equal(lost.code, 1);
  assert.match(lost.stderr, /backup lost-1 has no stored log on the hookguard agent/);

  // the agent down: its endpoint refuses connections
  pointResultsService(await closedPort());
  const down = await runCli(["backup", "logs", "nginx-hook-test", ...kube()]);
  assert.equal(down.code, 1);
  assert.match(
    down.stderr,
    /the hookguard agent behind Service hookguard\/hookguard-agent-results is not answering/,
  );
  assert.match(down.stderr, /connection refused/);
  pointResultsService(agent.resultsPort!);
});

const svcRef = () => ({ namespace: "hookguard", name: "hookguard-agent-results", port: 8443 });

function kubeConfigOf(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: "127.0.0.1", port, path, rejectUnauthorized: false }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
