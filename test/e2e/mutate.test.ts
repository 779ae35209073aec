// Mutation end to end: in a namespace labelled hookguard.io/mutate=enabled, the chart's
// MutatingWebhookConfiguration sends hooked pods to the real `hookguard webhook`, which makes the
// effective hook explicit; the double applies its JSONPatch and kubectl shows the stored result.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { eventually, podYaml, startE2e, type E2e } from "./harness.js";

const NS = "shop";
const HOOK = "pre.hook.backup.velero.io";
let e: E2e;

before(async () => {
  // debug: the webhook logs allowed requests too, with `patched: true` when it emitted a patch
  e = await startE2e({ webhookArgs: ["--log-level", "debug"] });
  const ns = await e.run(
    "apply",
    "-f",
    e.manifest(
      "ns.yaml",
      stringify({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: NS, labels: { "hookguard.io/mutate": "enabled" } },
      }),
    ),
  );
  assert.equal(ns.code, 0, ns.stderr);
});

after(async () => {
  await e?.stop();
});

/** The webhook's log records for /mutate requests about pod `name` in NS. */
const mutateLogs = (name: string): any[] =>
  e.admissionLogs().filter((l) => l.webhook === "mutate" && l.namespace === NS && l.name === name);

describe("mutation in a namespace labelled hookguard.io/mutate=enabled", () => {
  test("a pod with only a command gets on-error, timeout and container made explicit, once", async () => {
    const file = e.manifest(
      "api.yaml",
      podYaml(
        "api",
        { [`${HOOK}/command`]: '["/bin/sync"]' },
        { namespace: NS, containers: ["app", "sidecar"] },
      ),
    );
    const created = await e.run("apply", "-f", file);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /pod\/api created/);

    const pod = await e.getJson("pod", "api", NS);
    const ann = pod.metadata.annotations;
    assert.equal(ann[`${HOOK}/command`], '["/bin/sync"]');
    assert.equal(ann[`${HOOK}/on-error`], "Fail");
    assert.equal(ann[`${HOOK}/timeout`], "30s");
    assert.equal(ann[`${HOOK}/container`], "app", "the first container, Velero's default");
    await eventually(
      "the create's mutate log line",
      async () => mutateLogs("api").some((l) => l.operation === "CREATE" && l.patched === true),
      20_000,
      50,
    );

    // the same manifest again: kubectl's three-way merge finds nothing to change
    const again = await e.run("apply", "-f", file);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /pod\/api unchanged/);
    const after = await e.getJson("pod", "api", NS);
    assert.equal(after.metadata.resourceVersion, pod.metadata.resourceVersion, "nothing was written");
    assert.deepEqual(after.metadata.annotations, ann);

    // an update that does reach /mutate (the pod has hooks): the explicit hook yields no second patch
    const labelled = await e.run("label", "pod", "api", "-n", NS, "tier=api");
    assert.equal(labelled.code, 0, labelled.stderr);
    const update = await eventually(
      "the label update's mutate log line",
      async () => mutateLogs("api").find((l) => l.operation === "UPDATE"),
      20_000,
      50,
    );
    assert.equal(update.decision, "allowed");
    assert.equal(update.patched, undefined, "no patch on the second pass");
    assert.deepEqual((await e.getJson("pod", "api", NS)).metadata.annotations, ann);
  });

  test("a plain single-word command is left as written, with a warning showing its JSON-array form", async () => {
    const created = await e.run(
      "create",
      "-f",
      e.manifest("worker.yaml", podYaml("worker", { [`${HOOK}/command`]: "/bin/sync" }, { namespace: NS })),
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(
      created.stderr,
      /Warning: pre\.hook\.backup\.velero\.io\/command: left as written; write \["\/bin\/sync"\] to make the argv explicit/,
    );
    const ann = (await e.getJson("pod", "worker", NS)).metadata.annotations;
    assert.equal(ann[`${HOOK}/command`], "/bin/sync");
    assert.equal(ann[`${HOOK}/container`], "app");
  });

  test("GitOps: apply twice, then kubectl diff (a server-side dry run through the webhooks) shows nothing", async () => {
    const manifest = stringify({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: NS },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" }, annotations: { [`${HOOK}/command`]: "/bin/sync" } },
          spec: { containers: [{ name: "app", image: "busybox" }] },
        },
      },
    });
    const file = e.manifest("web.yaml", manifest);
    for (const round of [1, 2]) {
      const applied = await e.run("apply", "-f", file);
      assert.equal(applied.code, 0, `apply ${round}: ${applied.stderr}`);
    }
    const stored = (await e.getJson("deployment", "web", NS)).spec.template.metadata.annotations;
    assert.equal(stored[`${HOOK}/command`], "/bin/sync", "the value in git is the value in the cluster");
    assert.equal(stored[`${HOOK}/on-error`], "Fail", "what was absent was added");
    const diff = await e.run("diff", "-f", file);
    assert.equal(diff.stdout, "", diff.stdout);
    assert.equal(diff.code, 0, diff.stderr);
    // the dry run really goes through mutation, and stores nothing: a post hook added to the manifest
    // shows with the keys the webhook adds
    const changed = e.manifest(
      "web-changed.yaml",
      manifest.replace(
        `${HOOK}/command: /bin/sync`,
        `${HOOK}/command: /bin/sync\n        post.hook.backup.velero.io/command: /bin/true`,
      ),
    );
    const changedDiff = await e.run("diff", "-f", changed);
    assert.equal(changedDiff.code, 1, changedDiff.stderr);
    for (const line of ["command: /bin/true", "on-error: Fail", "timeout: 30s", "container: app"]) {
      assert.match(
        changedDiff.stdout,
        new RegExp(`^\\+\\s+post\\.hook\\.backup\\.velero\\.io/${line}$`, "m"),
        changedDiff.stdout,
      );
    }
    assert.equal(
      (await e.getJson("deployment", "web", NS)).spec.template.metadata.annotations[
        "post.hook.backup.velero.io/command"
      ],
      undefined,
    );
  });

  test("an invalid on-error is not rewritten into a valid one: validation still refuses it", async () => {
    const r = await e.run(
      "apply",
      "-f",
      e.manifest(
        "bad.yaml",
        podYaml(
          "bad",
          { [`${HOOK}/command`]: '["/bin/sync"]', [`${HOOK}/on-error`]: "continue" },
          { namespace: NS },
        ),
      ),
    );
    assert.notEqual(r.code, 0, r.stdout);
    assert.ok(
      r.stderr.includes('admission webhook "pods.validate.hookguard.io" denied the request:'),
      r.stderr,
    );
    assert.ok(r.stderr.includes('on-error "continue" is not valid'), r.stderr);
  });

  test("in a namespace without the label, nothing is added", async () => {
    const created = await e.run(
      "apply",
      "-f",
      e.manifest("plain-ns.yaml", podYaml("api", { [`${HOOK}/command`]: '["/bin/sync"]' })),
    );
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual(
      Object.keys((await e.getJson("pod", "api", "default")).metadata.annotations).filter((k) =>
        k.startsWith(HOOK),
      ),
      [`${HOOK}/command`],
    );
  });
});
