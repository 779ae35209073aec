// The agent end to end against the API-server double: real HTTPS, the real client-node informer,
// the real exec WebSocket protocol into the `ubuntu` image with its fsfreeze stand-in.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningAgent } from "../../src/cli/agent-main.js";
import { archivePath, readArchive } from "../../src/agent/store/archive.js";
import { backupLogPath } from "../../src/agent/store/backup-log.js";
import { readResults, resultsPath } from "../../src/agent/store/results.js";
import { formatDescribe } from "../../src/cli/describe.js";
import { readContainerFile } from "../apiserver/exec/index.js";
import type { ApiServerHandle } from "../apiserver/server.js";
import { RESOURCES } from "../apiserver/resources.js";
import {
  applyNginxExample,
  backupPhase,
  newBackup,
  startDouble,
  startTestAgent,
  waitFor,
  waitForPodRunning,
} from "./double.js";

let api: ApiServerHandle;
let agent: RunningAgent;
let storageDir: string;

before(async () => {
  api = await startDouble();
  storageDir = mkdtempSync(join(tmpdir(), "hookguard-e2e-"));
  agent = await startTestAgent(api, storageDir, "e2e-agent");
});

after(async () => {
  await agent?.stop();
  await api?.stop();
});

test("the nginx fsfreeze example: freeze, snapshot, unfreeze; HooksAttempted 2, HooksFailed 0; logs and archive", async () => {
  const podName = "nginx-deployment-7d9c5-abcde";
  applyNginxExample(api, podName);
  await waitForPodRunning(api, "nginx-example", podName);
  api.createObject(newBackup("nginx-hook-test", { includedNamespaces: ["nginx-example"] }));
  await waitFor("backup to finish", () =>
    ["Completed", "PartiallyFailed", "Failed"].includes(backupPhase(api, "nginx-hook-test") ?? "")
      ? true
      : undefined,
  );
  const b = api.getObject("velero.io/v1", "Backup", "velero", "nginx-hook-test");
  assert.equal(b.status.phase, "Completed", JSON.stringify(b.status));
  assert.deepEqual(b.status.hookStatus, { hooksAttempted: 2, hooksFailed: 0 });
  assert.deepEqual(b.status.progress, { totalItems: 3, itemsBackedUp: 3 });
  assert.equal(b.metadata.annotations["hookguard.io/owner"], "e2e-agent");
  assert.equal(b.metadata.annotations["hookguard.io/pending-post-hooks"], undefined);

  // inside the "container": one freeze then one unfreeze of /var/log/nginx, and thawed now
  const pod = api.getObject("v1", "Pod", "nginx-example", podName);
  const fslog = await readContainerFile(
    join(api.dir, "exec"),
    pod.metadata.uid,
    "fsfreeze",
    "/var/lib/fsfreeze-standin/log",
  );
  assert.deepEqual(
    fslog
      ?.trim()
      .split("\n")
      .map((l) => l.split(" ").slice(2).join(" ")),
    ["freeze /var/log/nginx", "unfreeze /var/log/nginx"],
  );

  // the log: both hooks with Velero's fields, and the snapshot became ready between them
  const log = readFileSync(backupLogPath(storageDir, "nginx-hook-test"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const grep = log.filter((l) => JSON.stringify(l).includes("hookCommand"));
  assert.deepEqual(
    grep
      .filter((l) => l.msg === "running exec hook")
      .map((l) => [
        l.hookPhase,
        l.hookContainer,
        l.hookName,
        l.hookCommand.join(" "),
        l.hookOnError,
        l.hookTimeout,
      ]),
    [
      ["pre", "fsfreeze", "<from-annotation>", "/sbin/fsfreeze --freeze /var/log/nginx", "Fail", "30s"],
      [
        "post",
        "fsfreeze",
        "<from-annotation>",
        "/sbin/fsfreeze --unfreeze /var/log/nginx",
        "Continue",
        "30s",
      ],
    ],
  );
  const order = log
    .map((l) => (l.msg === "running exec hook" ? `${l.hookPhase} hook` : l.msg))
    .filter((m) =>
      ["pre hook", "post hook", "created VolumeSnapshot", "VolumeSnapshot is ready to use"].includes(m),
    );
  assert.deepEqual(order, [
    "pre hook",
    "created VolumeSnapshot",
    "VolumeSnapshot is ready to use",
    "post hook",
  ]);
  const snap = api.getObject(
    "snapshot.storage.k8s.io/v1",
    "VolumeSnapshot",
    "nginx-example",
    "nginx-hook-test-nginx-logs",
  );
  assert.equal(snap?.status?.readyToUse, true);
  assert.equal(snap.spec.source.persistentVolumeClaimName, "nginx-logs");

  const archive = await readArchive(archivePath(storageDir, "nginx-hook-test"));
  assert.ok(archive.ok);
  assert.equal(
    JSON.parse(archive.value.get(`resources/pods/namespaces/nginx-example/${podName}.json`)!.toString())
      .metadata.name,
    podName,
  );
  assert.ok(archive.value.has("resources/persistentvolumeclaims/namespaces/nginx-example/nginx-logs.json"));
  assert.ok(archive.value.has("resources/persistentvolumes/cluster/pv-nginx-logs.json"));

  const results = await readResults(resultsPath(storageDir, "nginx-hook-test"));
  assert.ok(results.ok && results.value);
  const text = formatDescribe(b, results.value, "");
  assert.match(text, /^HooksAttempted:  2\nHooksFailed:     0$/m);
  assert.match(
    text,
    /nginx-example\/nginx-deployment-7d9c5-abcde +fsfreeze +pre +annotation +<from-annotation> +succeeded +0 /,
  );

  // metrics: real values on the agent's endpoint
  const metrics = await (await fetch(`http://127.0.0.1:${agent.metricsPort}/metrics`)).text();
  assert.match(
    metrics,
    /hookguard_hook_executions_total\{namespace="nginx-example",phase="pre",source="annotation",result="succeeded"\} 1/,
  );
  assert.match(metrics, /hookguard_backups_total\{phase="Completed"\} 1/);
  assert.match(
    metrics,
    /^hookguard_backup_oldest_in_progress_start_timestamp_seconds 0$/m,
    "idle again once the backup ended",
  );
  assert.doesNotMatch(metrics, /nodejs_active_/);
  assert.doesNotMatch(metrics, /nginx-deployment|nginx-hook-test/, "no pod or backup names as labels");
  const lint = await promtoolCheck(metrics);
  assert.equal(lint.code, 0, lint.output);
});

function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("exit", (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

test("exit codes and a missing program come back as Velero's errors through the real exec path", async () => {
  const podName = "tools";
  api.createObject({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: podName,
      namespace: "default",
      annotations: {
        "pre.hook.backup.velero.io/command":
          '["/bin/sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"]',
        "pre.hook.backup.velero.io/on-error": "Continue",
        "post.hook.backup.velero.io/command": '["/no/such/program"]',
        "post.hook.backup.velero.io/on-error": "Continue",
      },
    },
    spec: { containers: [{ name: "main", image: "ubuntu", command: ["/bin/sleep", "infinity"] }] },
  });
  await waitForPodRunning(api, "default", podName);
  api.createObject(newBackup("codes", { includedNamespaces: ["default"] }));
  await waitFor("backup to finish", () =>
    ["Completed", "PartiallyFailed", "Failed"].includes(backupPhase(api, "codes") ?? "") ? true : undefined,
  );
  const b = api.getObject("velero.io/v1", "Backup", "velero", "codes");
  assert.equal(b.status.phase, "PartiallyFailed");
  assert.deepEqual(b.status.hookStatus, { hooksAttempted: 2, hooksFailed: 2 });
  const log = readFileSync(backupLogPath(storageDir, "codes"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.ok(log.some((l) => l.msg === "stdout: to-stdout\n"));
  assert.ok(log.some((l) => l.msg === "stderr: to-stderr\n"));
  const errors = log.filter((l) => l.msg === "Error executing hook").map((l) => l.error);
  assert.equal(errors[0], "command terminated with exit code 3");
  assert.match(errors[1], /exit code 127|no such file|not found/i);
});

test("a Schedule whose time passed while no agent ran yields one catch-up Backup, which the agent runs with its hooks", async () => {
  // daily, 12 hours away from now: three missed runs, and no new one can fall due during the test
  const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000).toISOString().replace(/\.\d+Z$/, "Z");
  const hour = (new Date().getUTCHours() + 12) % 24;
  api.createObject({
    apiVersion: "velero.io/v1",
    kind: "Schedule",
    metadata: { name: "nightly", namespace: "velero" },
    spec: { schedule: `0 ${hour} * * *`, template: { includedNamespaces: ["nginx-example"] } },
    status: { phase: "Enabled", lastBackup: threeDaysAgo },
  });
  const scheduled = await waitFor("the scheduled backup to finish", findScheduled);
  assert.match(scheduled.metadata.name, /^nightly-\d{14}$/);
  assert.equal(scheduled.metadata.labels["velero.io/schedule-name"], "nightly");
  assert.equal(scheduled.status.phase, "Completed");
  assert.deepEqual(scheduled.status.hookStatus, { hooksAttempted: 2, hooksFailed: 0 });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(allScheduled().length, 1, "one catch-up backup, not one per missed run");
});

function listBackups(): any[] {
  return api.store.list(
    RESOURCES.find((r) => r.kind === "Backup")!,
    "velero",
  );
}

function allScheduled(): any[] {
  return listBackups().filter((b) => b.metadata.labels?.["velero.io/schedule-name"] === "nightly");
}

function findScheduled(): any | undefined {
  return allScheduled().find((b) => ["Completed", "PartiallyFailed", "Failed"].includes(b.status?.phase));
}
