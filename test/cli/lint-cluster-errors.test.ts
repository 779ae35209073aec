// `hookguard lint --cluster` when it cannot do its job: usage errors, a wrong context, an unreachable
// cluster and a kind the user may not list all exit 2 with a clear message (split from
// lint-cluster.test.ts: every run starts the real CLI, which is slow on a loaded machine).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { runProcess, type ProcessResult } from "../helpers/process.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
let api: ApiServerHandle;

function lint(args: string[]): Promise<ProcessResult> {
  return runProcess(process.execPath, ["bin/hookguard.js", "lint", ...args], {
    cwd: root,
    env: { ...process.env, KUBECONFIG: "" },
    timeoutMs: 120_000,
  });
}

before(async () => {
  api = await startApiServer({ namespaces: ["shop"] });
  api.createObject({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "db-0",
      namespace: "shop",
      annotations: {
        "pre.hook.backup.velero.io/command": '["/bin/sync"]',
        "pre.hook.backup.velero.io/timeout": "300",
      },
    },
    spec: { containers: [{ name: "app", image: "busybox:1.36" }] },
  });
});

after(async () => {
  await api?.stop();
});

describe("hookguard lint --cluster failures", { concurrency: 3 }, () => {
  test("usage and access errors exit 2 with a clear message", async () => {
    const both = await lint(["--cluster", "examples/"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give either PATHs or --cluster, not both/);
    const context = await lint(["--cluster", "--kubeconfig", api.kubeconfigPath, "--context", "prod"]);
    assert.equal(context.code, 2);
    assert.match(context.stderr, /context "prod" does not exist in .*kubeconfig; it has admin$/m);
    // a cluster nobody answers at: the kubeconfig with its server moved to a closed port
    const text = readFileSync(api.kubeconfigPath, "utf8").replace(
      /server: https:\/\/127\.0\.0\.1:\d+/,
      "server: https://127.0.0.1:9",
    );
    const dead = join(api.dir, "dead-kubeconfig");
    await writeFile(dead, text);
    const unreachable = await lint(["--cluster", "--kubeconfig", dead]);
    assert.equal(unreachable.code, 2, unreachable.stdout);
    assert.equal(
      unreachable.stderr,
      "error: The connection to the server 127.0.0.1:9 was refused - did you specify the right host or port?\n",
    );
  });

  test("a kind the user may not list: findings for the others, then exit 2 naming it", async () => {
    const auditor = api.addUser("auditor", ["auditors"]);
    api.setPolicy([
      { groups: ["system:masters"], verbs: ["*"], resources: ["*"] },
      {
        users: ["auditor"],
        verbs: ["list"],
        resources: [
          "pods",
          "deployments",
          "statefulsets",
          "daemonsets",
          "replicasets",
          "replicationcontrollers",
          "jobs",
          "cronjobs",
          "schedules",
        ],
      },
    ]);
    try {
      const r = await lint(["--cluster", "--kubeconfig", auditor.kubeconfigPath, "-A"]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stdout, /^error: Pod shop\/db-0: /m);
      assert.match(r.stderr, /^error: cannot list backups\.velero\.io in all namespaces: 403 Forbidden: /m);
    } finally {
      api.setPolicy(undefined);
    }
  });
});
