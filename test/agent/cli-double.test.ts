// The user's path through the real CLI against the double with the agent running: `backup create
// --wait`, `backup describe`, `backup logs | grep hookCommand`, `backup plan` (nothing executed).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
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
