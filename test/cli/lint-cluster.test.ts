// `hookguard lint --cluster` as a user runs it, against the API-server double: the real CLI reads the
// live objects through the kubeconfig, reports `KIND NAMESPACE/NAME` findings in lint's format, and
// exits as lint does; an unreachable cluster, a wrong context or a forbidden kind exit 2.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { runProcess, type ProcessResult } from "../helpers/process.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
let api: ApiServerHandle;

function lint(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ProcessResult> {
  return runProcess(process.execPath, ["bin/hookguard.js", "lint", ...args], {
    cwd: root,
    env: { ...process.env, KUBECONFIG: "", ...env },
    timeoutMs: 120_000,
  });
}

const TIMEOUT = '"pre.hook.backup.velero.io/timeout"';

before(async () => {
  api = await startApiServer({ namespaces: ["shop", "other"] });
  const containers = [{ name: "app", image: "busybox:1.36" }];
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
    spec: { containers },
  });
  api.createObject({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "plain", namespace: "shop" },
    spec: { containers },
  });
  api.createObject({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "shop" },
    spec: {
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: {
          labels: { app: "web" },
          annotations: {
            "pre.hook.backup.velero.io/command": '["/bin/sync"]',
            "pre.hook.backup.velero.io/on-error": "continue",
          },
        },
        spec: { containers },
      },
    },
  });
  api.createObject({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "cache",
      namespace: "other",
      annotations: { "post.hook.backup.velero.io/container": "app" },
    },
    spec: { containers },
  });
  api.createObject({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "cache",
      namespace: "default",
      annotations: { "post.hook.backup.velero.io/container": "app" },
    },
    spec: { containers },
  });
  api.createObject({
    apiVersion: "velero.io/v1",
    kind: "Backup",
    metadata: { name: "nightly-1", namespace: "velero" },
    spec: {
      hooks: { resources: [{ name: "h", pre: [{ exec: { command: ["/bin/sync"], onError: "fail" } }] }] },
    },
  });
});

after(async () => {
  await api?.stop();
});

describe("hookguard lint --cluster", { concurrency: 3 }, () => {
  test("one namespace: a line per finding as KIND NAMESPACE/NAME, exit 1; the summary names the context", async () => {
    const r = await lint(["--cluster", "--kubeconfig", api.kubeconfigPath, "-n", "shop"]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split("\n"), [
      `error: Pod shop/db-0: metadata.annotations[${TIMEOUT}]: timeout "300" is not a Go duration (time: missing unit in duration "300"); write e.g. "300s"`,
      `error: Deployment shop/web: spec.template.metadata.annotations["pre.hook.backup.velero.io/on-error"]: on-error "continue" is not valid: values are case-sensitive; did you mean "Continue"?`,
    ]);
    assert.match(
      r.stderr,
      /2 error\(s\), 0 warning\(s\) in 3 object\(s\) from context admin \(namespace shop\)/,
    );
  });

  test("all namespaces, JSON, through $KUBECONFIG: every kind, lint's keys without file and line", async () => {
    const r = await lint(["--cluster", "--all-namespaces", "-o", "json"], { KUBECONFIG: api.kubeconfigPath });
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.context, "admin");
    assert.equal(out.namespace, null);
    assert.deepEqual(
      out.findings.map((f: any) => `${f.severity} ${f.kind} ${f.namespace}/${f.name}`).sort(),
      [
        "error Backup velero/nightly-1",
        "error Deployment shop/web",
        "error Pod shop/db-0",
        "warning Pod default/cache",
        "warning Pod other/cache",
      ].sort(),
    );
    for (const f of out.findings) assert.match(f.code, /^[a-z-]+$/, "the domain's finding code");
    assert.deepEqual(Object.keys(out.findings[0]).sort(), [
      "code",
      "kind",
      "message",
      "name",
      "namespace",
      "path",
      "severity",
    ]);
    assert.equal(out.errorCount, 3);
    assert.equal(out.warningCount, 2);
  });

  test("the context's namespace is the default (default when it has none); --strict fails on warnings", async () => {
    const strict = await lint(["--cluster", "--kubeconfig", api.kubeconfigPath, "--strict"]);
    assert.equal(strict.code, 1, strict.stderr);
    assert.match(strict.stdout, /^warning: Pod default\/cache: /);
    assert.match(
      strict.stderr,
      /0 error\(s\), 1 warning\(s\) in 1 object\(s\) from context admin \(namespace default\)/,
    );
  });
});
