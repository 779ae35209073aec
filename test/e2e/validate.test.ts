// The real kubectl against the API-server double, which calls the real `hookguard webhook` process over
// TLS through the chart's own ValidatingWebhookConfiguration: what a user sees at `kubectl apply` and
// `kubectl annotate` time for bad hooks, warnings, and objects that carry no hook at all.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { deploymentYaml, eventually, podYaml, startE2e, type E2e } from "./harness.js";

const SYNC = '["/bin/sync"]';
let e: E2e;

before(async () => {
  // debug: allowed admission requests are logged too, so the logs show every request that arrived
  e = await startE2e({ webhookArgs: ["--log-level", "debug"] });
});

after(async () => {
  await e?.stop();
});

/** kubectl's message for an object that was never stored. */
async function assertAbsent(kind: string, name: string, namespace?: string): Promise<void> {
  const r = await e.run("get", kind, name, ...(namespace ? ["-n", namespace] : []));
  assert.notEqual(r.code, 0, `${kind} ${name} must not exist`);
  assert.match(r.stderr, /NotFound|not found/);
}

describe("bad hook annotations are refused at kubectl apply time", () => {
  test("a Deployment whose pod template says on-error: continue", async () => {
    const file = e.manifest(
      "web.yaml",
      deploymentYaml("web", {
        "pre.hook.backup.velero.io/command": SYNC,
        "pre.hook.backup.velero.io/on-error": "continue",
      }),
    );
    const r = await e.run("apply", "-f", file);
    assert.notEqual(r.code, 0, r.stdout);
    assert.ok(
      r.stderr.includes('admission webhook "workloads.validate.hookguard.io" denied the request:'),
      r.stderr,
    );
    assert.ok(
      r.stderr.includes('spec.template.metadata.annotations["pre.hook.backup.velero.io/on-error"]'),
      r.stderr,
    );
    assert.ok(r.stderr.includes('did you mean "Continue"?'), r.stderr);
    await assertAbsent("deployment", "web");
  });

  test("a Pod that says on-error: continue", async () => {
    const file = e.manifest(
      "db.yaml",
      podYaml("db", {
        "pre.hook.backup.velero.io/command": SYNC,
        "pre.hook.backup.velero.io/on-error": "continue",
      }),
    );
    const r = await e.run("apply", "-f", file);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(
      r.stderr,
      /^Error from server \(Forbidden\): error when creating ".*db\.yaml": admission webhook "pods\.validate\.hookguard\.io" denied the request: /m,
    );
    assert.ok(
      r.stderr.includes(
        'metadata.annotations["pre.hook.backup.velero.io/on-error"]: on-error "continue" is not valid',
      ),
      r.stderr,
    );
    assert.ok(r.stderr.includes('"Continue"'), r.stderr);
    await assertAbsent("pod", "db");
  });
});

describe("kubectl annotate goes through the same check", () => {
  test("timeout=300 is refused for its missing unit; timeout=30s is stored", async () => {
    const created = await e.run(
      "apply",
      "-f",
      e.manifest("cache.yaml", podYaml("cache", { "pre.hook.backup.velero.io/command": SYNC })),
    );
    assert.equal(created.code, 0, created.stderr);

    const bad = await e.run("annotate", "pod", "cache", "pre.hook.backup.velero.io/timeout=300");
    assert.notEqual(bad.code, 0, bad.stdout);
    assert.ok(
      bad.stderr.includes('admission webhook "pods.validate.hookguard.io" denied the request:'),
      bad.stderr,
    );
    assert.ok(bad.stderr.includes('metadata.annotations["pre.hook.backup.velero.io/timeout"]'), bad.stderr);
    assert.match(bad.stderr, /missing unit/);
    assert.equal(
      (await e.getJson("pod", "cache")).metadata.annotations["pre.hook.backup.velero.io/timeout"],
      undefined,
      "the refused value is not stored",
    );

    const good = await e.run("annotate", "pod", "cache", "pre.hook.backup.velero.io/timeout=30s");
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /pod\/cache annotated/);
    assert.equal(
      (await e.getJson("pod", "cache")).metadata.annotations["pre.hook.backup.velero.io/timeout"],
      "30s",
    );
  });
});

describe("velero.io/v1 Backup hook specs", () => {
  const backup = (name: string, hook: Record<string, unknown>, exec: Record<string, unknown>): string =>
    stringify({
      apiVersion: "velero.io/v1",
      kind: "Backup",
      metadata: { name, namespace: "velero" },
      spec: {
        includedNamespaces: ["default"],
        hooks: {
          resources: [
            {
              includedNamespaces: ["default"],
              ...hook,
              pre: [{ exec: { container: "app", command: ["/bin/sync"], ...exec } }],
            },
          ],
        },
      },
    });

  test("a hook with an empty name is refused", async () => {
    const r = await e.run("apply", "-f", e.manifest("b-noname.yaml", backup("nightly-1", { name: "" }, {})));
    assert.notEqual(r.code, 0, r.stdout);
    assert.ok(
      r.stderr.includes('admission webhook "velero.validate.hookguard.io" denied the request:'),
      r.stderr,
    );
    assert.ok(r.stderr.includes("spec.hooks.resources[0].name: name is empty"), r.stderr);
    await assertAbsent("backups.velero.io", "nightly-1", "velero");
  });

  test('timeout: "10 seconds" is refused', async () => {
    const r = await e.run(
      "apply",
      "-f",
      e.manifest("b-timeout.yaml", backup("nightly-2", { name: "freeze" }, { timeout: "10 seconds" })),
    );
    assert.notEqual(r.code, 0, r.stdout);
    assert.ok(
      r.stderr.includes('admission webhook "velero.validate.hookguard.io" denied the request:'),
      r.stderr,
    );
    assert.ok(
      r.stderr.includes(
        'spec.hooks.resources[0].pre[0].exec.timeout: timeout "10 seconds" is not a Go duration',
      ),
      r.stderr,
    );
    await assertAbsent("backups.velero.io", "nightly-2", "velero");
  });

  test("a valid Backup with spec hooks is created", async () => {
    const r = await e.run(
      "apply",
      "-f",
      e.manifest("b-ok.yaml", backup("nightly-3", { name: "freeze" }, { timeout: "10s", onError: "Fail" })),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /backup\.velero\.io\/nightly-3 created/);
    assert.equal(r.stderr, "", "no warnings for a clean spec");
    const stored = await e.getJson("backups.velero.io", "nightly-3", "velero");
    assert.equal(stored.spec.hooks.resources[0].pre[0].exec.timeout, "10s");
  });
});

describe("warnings", () => {
  test("a warning-only Pod is created and kubectl prints each warning", async () => {
    const file = e.manifest(
      "warn.yaml",
      podYaml("warn", {
        "pre.hook.backup.velero.io/command": "echo hello world",
        "pre.hook.backup.velero.io/timeout": "0",
      }),
    );
    const r = await e.run("apply", "-f", file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pod\/warn created/);
    const warnings = r.stderr.split("\n").filter((l) => l.startsWith("Warning: "));
    // the long command warning names the annotation by its key so that its advice fits in 120 characters
    assert.ok(
      warnings.some(
        (w) =>
          w.startsWith("Warning: pre.hook.backup.velero.io/command: ") &&
          w.endsWith(`(no shell); write ["echo","hello","world"]`),
      ),
      r.stderr,
    );
    assert.ok(
      warnings.some(
        (w) =>
          w.includes('metadata.annotations["pre.hook.backup.velero.io/timeout"]') &&
          w.includes("30s default"),
      ),
      r.stderr,
    );
    assert.equal(
      (await e.getJson("pod", "warn")).metadata.annotations["pre.hook.backup.velero.io/timeout"],
      "0",
      "warnings never change the object",
    );
  });
});

describe("the chart's matchConditions", () => {
  test("objects without hook annotations never reach the webhook", async () => {
    const podRequests = () =>
      e.metric("hookguard_admission_requests_total", { webhook: "validate", resource: "pods" });
    const deploymentRequests = () =>
      e.metric("hookguard_admission_requests_total", { webhook: "validate", resource: "deployments" });
    const before = { pods: await podRequests(), deployments: await deploymentRequests() };

    const plain = await e.run("apply", "-f", e.manifest("plain.yaml", podYaml("plain", { team: "shop" })));
    assert.equal(plain.code, 0, plain.stderr);
    const annotated = await e.run("annotate", "pod", "plain", "owner=shop");
    assert.equal(annotated.code, 0, annotated.stderr);
    const deploy = await e.run("apply", "-f", e.manifest("plain-deploy.yaml", deploymentYaml("plain", {})));
    assert.equal(deploy.code, 0, deploy.stderr);

    // the control: a hooked pod right after does reach it, so the counter was live all along
    const hooked = await e.run(
      "apply",
      "-f",
      e.manifest("hooked.yaml", podYaml("hooked", { "pre.hook.backup.velero.io/command": SYNC })),
    );
    assert.equal(hooked.code, 0, hooked.stderr);
    await eventually(
      "the hooked pod's admission log line",
      async () => e.admissionLogs().some((l) => l.name === "hooked"),
      20_000,
      50,
    );
    assert.equal(await podRequests(), before.pods + 1, "only the hooked pod was sent");
    assert.equal(await deploymentRequests(), before.deployments, "the plain Deployment was not sent");
    // (lines of earlier tests may still arrive late through the pipe: look at this test's objects only)
    const mine = e
      .admissionLogs()
      .filter((l) => l.name === "plain" || l.name === "hooked")
      .map((l) => `${l.webhook} ${l.kind} ${l.operation} ${l.name}`);
    assert.deepEqual(mine, ["validate Pod CREATE hooked"], "the webhook's log lines for this test's objects");
  });
});

describe("kubectl exec through the double", () => {
  test("echo runs in the pod's container and a non-zero exit code is passed through", async () => {
    const created = await e.run(
      "apply",
      "-f",
      e.manifest("shell.yaml", podYaml("shell", {}, { containers: ["app", "sidecar"] })),
    );
    assert.equal(created.code, 0, created.stderr);
    await eventually(
      "pod shell Running",
      async () => e.api.getObject("v1", "Pod", "default", "shell")?.status?.phase === "Running",
      30_000,
      50,
    );

    const hi = await e.run("exec", "shell", "-c", "sidecar", "--", "echo", "hi");
    assert.equal(hi.code, 0, hi.stderr);
    assert.equal(hi.stdout, "hi\n");

    const failing = await e.run("exec", "shell", "-c", "app", "--", "sh", "-c", "exit 3");
    assert.equal(failing.code, 3, failing.stderr);
    assert.match(failing.stderr, /command terminated with exit code 3/);
  });
});
