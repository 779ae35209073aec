// The webhook goes away while its configurations stay registered: the chart's failurePolicy decides,
// and the double answers as a real API server does (workloads and Backups: Fail, bare Pods: Ignore;
// objects the matchConditions exclude are not affected at all).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { deploymentYaml, podYaml, startE2e, type E2e } from "./harness.js";

const HOOK = { "pre.hook.backup.velero.io/command": '["/bin/sync"]' };
let e: E2e;

before(async () => {
  e = await startE2e();
});

after(async () => {
  await e?.stop();
});

describe("with the webhook stopped", () => {
  before(async () => {
    // first proof that it is wired in: a bad template is refused while the webhook runs
    const r = await e.run(
      "apply",
      "-f",
      e.manifest(
        "live.yaml",
        deploymentYaml("live", { ...HOOK, "pre.hook.backup.velero.io/on-error": "continue" }),
      ),
    );
    assert.ok(
      r.stderr.includes('admission webhook "workloads.validate.hookguard.io" denied the request:'),
      r.stderr,
    );
    await e.webhook.stop();
  });

  test("a hooked Deployment (failurePolicy Fail) is refused with the API server's own message", async () => {
    const r = await e.run("apply", "-f", e.manifest("web.yaml", deploymentYaml("web", HOOK)));
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(
      r.stderr,
      /Error from server \(InternalError\): error when creating ".*web\.yaml": Internal error occurred: failed calling webhook "workloads\.validate\.hookguard\.io": failed to call webhook: Post "https:\/\/127\.0\.0\.1:\d+\/validate\?timeout=5s"/,
    );
    const get = await e.run("get", "deployment", "web");
    assert.match(get.stderr, /NotFound/);
  });

  test("a hooked Backup (failurePolicy Fail) is refused too", async () => {
    const backup = stringify({
      apiVersion: "velero.io/v1",
      kind: "Backup",
      metadata: { name: "nightly", namespace: "velero" },
      spec: {
        hooks: {
          resources: [{ name: "freeze", pre: [{ exec: { container: "app", command: ["/bin/sync"] } }] }],
        },
      },
    });
    const r = await e.run("apply", "-f", e.manifest("backup.yaml", backup));
    assert.notEqual(r.code, 0, r.stdout);
    assert.ok(r.stderr.includes('failed calling webhook "velero.validate.hookguard.io"'), r.stderr);
  });

  test("a bare hooked Pod (failurePolicy Ignore) is admitted, unchecked", async () => {
    // on-error: continue would be refused by a running webhook; Ignore lets it through unseen
    const r = await e.run(
      "apply",
      "-f",
      e.manifest("pod.yaml", podYaml("db", { ...HOOK, "pre.hook.backup.velero.io/on-error": "continue" })),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pod\/db created/);
    assert.equal(
      (await e.getJson("pod", "db")).metadata.annotations["pre.hook.backup.velero.io/on-error"],
      "continue",
    );
  });

  test("a Deployment without hooks is not affected: matchConditions exclude it before any call", async () => {
    const r = await e.run("apply", "-f", e.manifest("plain.yaml", deploymentYaml("plain", {})));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /deployment\.apps\/plain created/);
  });
});
