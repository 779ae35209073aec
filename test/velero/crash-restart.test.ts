// The Velero-server double through a crash: a SIGKILL between a block's pre and post hooks leaves the
// Backup InProgress until a server starts again and fails it with Velero's exact reason; no log
// exists for it; the container restarts in the same pod.
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { waitFor } from "../agent/double.js";
import { bslCa, httpsGet, kubeConfig, requestDownload, Sandbox } from "./harness.js";

let sb: Sandbox;

before(async () => {
  sb = await Sandbox.start();
});

// A failed test must not leave its server running into the next one (two servers would race).
afterEach(() => sb.killAll());

after(() => sb?.stop());

test("SIGKILL between pre and post hooks leaves the Backup InProgress; the next start fails it with Velero's reason", async () => {
  const velero = sb.velero(["--hold-items", "10m"]);
  await velero.ready;
  const before = sb.veleroPods()[0];
  const created = await sb.kubectl.run(
    ["create", "-f", "-"],
    JSON.stringify({
      apiVersion: "velero.io/v1",
      kind: "Backup",
      metadata: { name: "crash", namespace: "velero" },
      spec: { includedNamespaces: ["db"] },
    }),
  );
  assert.equal(created.code, 0, created.stderr);
  // The pre hook ran (the dual-mode logger also writes the backup log to stdout), the post hook not yet.
  await waitFor(
    "pre hook output",
    () => velero.stdout().includes('msg="stdout: frozen\\n"') || undefined,
    60_000,
    100,
  );
  assert.equal(sb.backup("crash").status.phase, "InProgress");
  await velero.kill("SIGKILL");
  assert.ok(!velero.stdout().includes("thawed"));
  // the kubelet's view of the dead process: the container terminated by SIGKILL, the pod not ready
  const dead = sb.veleroPods()[0];
  assert.equal(dead.status.phase, "Running");
  assert.equal(dead.status.containerStatuses[0].state.terminated.exitCode, 137);
  assert.equal(dead.status.containerStatuses[0].ready, false);
  assert.equal(dead.status.conditions.find((c: any) => c.type === "Ready").status, "False");
  assert.equal(sb.backup("crash").status.phase, "InProgress", "nothing fails a Backup while no server runs");

  const again = sb.velero([]);
  await again.ready;
  const b = sb.backup("crash");
  assert.equal(b.status.phase, "Failed");
  assert.equal(
    b.status.failureReason,
    'found a backup with status "InProgress" during the server starting, mark it as "Failed"',
  );
  assert.ok(Date.parse(b.status.completionTimestamp) >= Date.parse(b.status.startTimestamp));
  assert.ok(
    again
      .stdout()
      .includes(
        'level=warning msg="found a backup with status \\"InProgress\\" during the server starting, mark it as \\"Failed\\"" backup=crash',
      ),
  );

  // The container restarted in the same pod (restartPolicy Always).
  const after = sb.veleroPods();
  assert.equal(after.length, 1);
  assert.equal(after[0].metadata.name, before.metadata.name);
  assert.equal(
    after[0].status.containerStatuses[0].restartCount,
    (before.status.containerStatuses[0].restartCount ?? 0) + 1,
  );
  assert.equal(after[0].status.containerStatuses[0].lastState.terminated.exitCode, 137);

  // Its log lived in the dead process: the DownloadRequest is answered, the object is not there.
  const kc = kubeConfig(sb.api.kubeconfigPath);
  const dr = await requestDownload(kc, "BackupLog", "crash");
  const res = await httpsGet(dr.url, await bslCa(kc));
  assert.equal(res.status, 404);
  assert.match(res.body.toString(), /<Code>NoSuchKey<\/Code>/);
  await again.kill();
});
