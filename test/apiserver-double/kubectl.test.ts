// The real kubectl against the double: discovery, create, client-side apply (create, then a
// strategic-merge update), get -o json, annotate, label, selectors, delete, and the real error texts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { Kubectl } from "./helpers.js";

describe("kubectl against the API-server double", () => {
  let api: ApiServerHandle;
  let k: Kubectl;
  before(async () => {
    api = await startApiServer();
    k = new Kubectl(api.kubeconfigPath);
  });
  after(async () => {
    await api.stop();
    k.cleanup();
  });

  const deployment = (env: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: main
        image: busybox:1.36
        env: ${env}
      - name: sidecar
        image: busybox:1.36
`;

  test("apply creates, a second apply updates through a strategic merge patch", async () => {
    const first = k.manifest("deploy.yaml", deployment(`[{name: A, value: "1"}, {name: B, value: "x"}]`));
    const created = await k.run(["apply", "-f", first]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /deployment.apps\/web created/);

    const second = k.manifest("deploy.yaml", deployment(`[{name: A, value: "2"}]`));
    const updated = await k.run(["apply", "-f", second, "-v=6"]);
    assert.equal(updated.code, 0, updated.stderr);
    assert.match(updated.stdout, /deployment.apps\/web configured/);
    // -v=6 request lines: kubectl 1.32 writes `PATCH URL 200 OK`, 1.33 (the npm layer's, used where the
    // machine has no kubectl) `"Response" verb="PATCH" url="URL" status="200 OK"`
    const patchUrl = String.raw`https:\/\/127\.0\.0\.1:\d+\/apis\/apps\/v1\/namespaces\/default\/deployments\/web\?fieldManager=kubectl-client-side-apply&fieldValidation=Strict`;
    assert.match(
      updated.stderr,
      new RegExp(`PATCH ${patchUrl} 200 OK|verb="PATCH" url="${patchUrl}" status="200 OK"`),
    );

    const got = await k.run(["get", "deployment", "web", "-o", "json"]);
    assert.equal(got.code, 0, got.stderr);
    const d = JSON.parse(got.stdout);
    assert.deepEqual(
      d.spec.template.spec.containers[0].env,
      [{ name: "A", value: "2" }],
      "B removed by $patch: delete, A updated",
    );
    assert.deepEqual(
      d.spec.template.spec.containers.map((c: any) => c.name),
      ["main", "sidecar"],
      "containers merged by name, order kept",
    );
    assert.equal(d.metadata.generation, 2, "spec change bumps generation");
    assert.ok(
      d.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"].includes('"value":"2"'),
    );

    const again = await k.run(["apply", "-f", second]);
    assert.match(again.stdout, /deployment.apps\/web unchanged/);
  });

  test("annotate, label, label selectors and delete", async () => {
    const pod = k.manifest(
      "pod.yaml",
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p1, labels: {tier: db}}\nspec: {containers: [{name: c, image: busybox}]}\n`,
    );
    assert.equal((await k.run(["create", "-f", pod])).code, 0);
    const ann = await k.run(["annotate", "pod", "p1", "pre.hook.backup.velero.io/timeout=30s"]);
    assert.equal(ann.code, 0, ann.stderr);
    assert.match(ann.stdout, /pod\/p1 annotated/);
    const lab = await k.run(["label", "pod", "p1", "env=prod"]);
    assert.match(lab.stdout, /pod\/p1 labeled/);

    const sel = await k.run(["get", "pods", "-l", "env in (prod,stage),tier!=web", "-o", "name"]);
    assert.equal(sel.stdout.trim(), "pod/p1");
    const none = await k.run(["get", "pods", "-l", "env=dev", "-o", "name"]);
    assert.equal(none.stdout.trim(), "");

    const got = JSON.parse((await k.run(["get", "pod", "p1", "-o", "json"])).stdout);
    assert.equal(got.metadata.annotations["pre.hook.backup.velero.io/timeout"], "30s");
    assert.equal(got.metadata.labels.env, "prod");

    const del = await k.run(["delete", "pod", "p1", "--wait=true", "--timeout=30s"]);
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, /pod "p1" deleted/);
    const gone = await k.run(["get", "pod", "p1"]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /Error from server \(NotFound\): pods "p1" not found/);
  });

  test("real error texts: AlreadyExists, missing namespace, immutable pod spec, unknown fields, invalid name", async () => {
    const pod = k.manifest(
      "pod.yaml",
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p2}\nspec: {containers: [{name: c, image: busybox}]}\n`,
    );
    assert.equal((await k.run(["create", "-f", pod])).code, 0);
    const dup = await k.run(["create", "-f", pod]);
    assert.equal(dup.code, 1);
    assert.match(
      dup.stderr,
      /Error from server \(AlreadyExists\): error when creating ".*pod.yaml": pods "p2" already exists/,
    );

    const elsewhere = await k.run(["create", "-f", pod, "-n", "nowhere"]);
    assert.match(
      elsewhere.stderr,
      /Error from server \(NotFound\): error when creating ".*pod.yaml": namespaces "nowhere" not found/,
    );

    const changed = k.manifest(
      "pod.yaml",
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p2}\nspec: {containers: [{name: c, image: busybox, args: [sleep, "1"]}]}\n`,
    );
    const upd = await k.run(["apply", "-f", changed]);
    assert.equal(upd.code, 1);
    assert.match(
      upd.stderr,
      /Pod "p2" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/,
    );

    const typo = k.manifest(
      "typo.yaml",
      `apiVersion: v1\nkind: Pod\nmetadata: {name: typo, annotation: {a: b}}\nspec: {containers: [{name: c, image: busybox}]}\n`,
    );
    const strict = await k.run(["apply", "-f", typo]);
    assert.match(
      strict.stderr,
      /Error from server \(BadRequest\): error when creating ".*typo.yaml": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "metadata.annotation"/,
    );
    const warn = await k.run(["create", "--validate=warn", "-f", typo]);
    assert.equal(warn.code, 0, warn.stderr);
    assert.match(warn.stderr, /Warning: unknown field "metadata.annotation"/);

    const bad = k.manifest(
      "bad.yaml",
      `apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: c, image: busybox}]}\n`,
    );
    const inv = await k.run(["create", "-f", bad]);
    assert.match(
      inv.stderr,
      /The Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    );
  });

  test("custom resources: Backups apply with a merge patch and list across namespaces", async () => {
    const backup = (ttl: string): string =>
      `apiVersion: velero.io/v1\nkind: Backup\nmetadata: {name: nightly, namespace: velero}\nspec:\n  ttl: ${ttl}\n  hooks:\n    resources:\n    - name: freeze\n      pre: [{exec: {command: ["/sbin/fsfreeze", "--freeze", "/data"], timeout: 30s}}]\n`;
    assert.equal((await k.run(["apply", "-f", k.manifest("b.yaml", backup("24h0m0s"))])).code, 0);
    const upd = await k.run(["apply", "-f", k.manifest("b.yaml", backup("48h0m0s")), "-v=6"]);
    assert.equal(upd.code, 0, upd.stderr);
    assert.match(upd.stdout, /backup.velero.io\/nightly configured/);
    const got = JSON.parse(
      (await k.run(["get", "backups.velero.io", "nightly", "-n", "velero", "-o", "json"])).stdout,
    );
    assert.equal(got.spec.ttl, "48h0m0s");
    assert.equal(got.spec.hooks.resources[0].pre[0].exec.timeout, "30s");
    assert.equal(got.metadata.generation, 2);
    const all = await k.run(["get", "backups", "-A", "-o", "name"]);
    assert.equal(all.stdout.trim(), "backup.velero.io/nightly");
  });

  test("typed commands that send protobuf: create namespace and create secret", async () => {
    const ns = await k.run(["create", "namespace", "hookguard"]);
    assert.equal(ns.code, 0, ns.stderr);
    assert.match(ns.stdout, /namespace\/hookguard created/);
    const sec = await k.run([
      "create",
      "secret",
      "generic",
      "creds",
      "-n",
      "hookguard",
      "--from-literal=password=s3cret",
    ]);
    assert.equal(sec.code, 0, sec.stderr);
    const got = JSON.parse((await k.run(["get", "secret", "creds", "-n", "hookguard", "-o", "json"])).stdout);
    assert.equal(Buffer.from(got.data.password, "base64").toString(), "s3cret");
    assert.equal(got.type, "Opaque");
    const dup = await k.run(["create", "namespace", "hookguard"]);
    assert.match(dup.stderr, /Error from server \(AlreadyExists\): namespaces "hookguard" already exists/);
  });

  test("a namespace being deleted loses its content, refuses new content, and goes once finalizers allow", async () => {
    const ns = k.manifest(
      "ns.yaml",
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: doomed, finalizers: [example.com/hold]}\n`,
    );
    assert.equal((await k.run(["create", "-f", ns])).code, 0);
    const secret = (name: string) =>
      k.manifest(
        "s.yaml",
        `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}, namespace: doomed}\nstringData: {a: b}\n`,
      );
    assert.equal((await k.run(["create", "-f", secret("s")])).code, 0);
    const del = await k.run(["delete", "namespace", "doomed", "--wait=false"]);
    assert.equal(del.code, 0, del.stderr);
    const phase = await k.run(["get", "namespace", "doomed", "-o", "jsonpath={.status.phase}"]);
    assert.equal(phase.stdout, "Terminating");
    assert.equal(api.getObject("v1", "Secret", "doomed", "s"), undefined, "content removed");
    const late = await k.run(["create", "-f", secret("late")]);
    assert.match(
      late.stderr,
      /Error from server \(Forbidden\): error when creating ".*": secrets "late" is forbidden: unable to create new content in namespace doomed because it is being terminated/,
    );
    const release = await k.run([
      "patch",
      "namespace",
      "doomed",
      "--type=merge",
      "-p",
      '{"metadata":{"finalizers":null}}',
    ]);
    assert.equal(release.code, 0, release.stderr);
    assert.equal(api.getObject("v1", "Namespace", undefined, "doomed"), undefined);
  });

  test("short names and cluster-scoped resources resolve through discovery", async () => {
    const ns = await k.run(["get", "ns", "velero", "-o", "json"]);
    assert.equal(ns.code, 0, ns.stderr);
    assert.equal(JSON.parse(ns.stdout).metadata.labels["kubernetes.io/metadata.name"], "velero");
    for (const short of ["po", "pvc", "pv", "deploy", "sts", "ds", "rs", "cj", "vs"]) {
      const r = await k.run(["get", short, "-A", "-o", "name"]);
      assert.equal(r.code, 0, `${short}: ${r.stderr}`);
    }
    const unknown = await k.run(["get", "widgets"]);
    assert.match(unknown.stderr, /the server doesn't have a resource type "widgets"/);
  });
});
