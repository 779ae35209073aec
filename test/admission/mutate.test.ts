// /mutate over real TLS: the JSONPatch content, JSON-pointer escaping, and idempotence (applying
// the patch and posting again yields no patch).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { annotationPatch, escapePointer } from "../../src/admission/mutate.js";
import {
  applyPatch,
  backup,
  decodePatch,
  pod,
  review,
  startTestWebhook,
  workload,
  type TestWebhook,
} from "./helpers.js";

describe("POST /mutate", () => {
  let wh: TestWebhook;
  before(async () => {
    wh = await startTestWebhook();
  });
  after(async () => wh.stop());

  it("makes a Pod's hook explicit by adding container, on-error Fail and timeout 30s; the written command stays, with a warning", async () => {
    const object = pod({ "pre.hook.backup.velero.io/command": "sync" });
    const res = await wh.post("/mutate", review({ kind: "Pod", operation: "CREATE", object, uid: "m1" }));
    assert.equal(res.status, 200);
    assert.equal(res.json.response.uid, "m1");
    assert.equal(res.json.response.allowed, true);
    assert.equal(res.json.response.patchType, "JSONPatch");
    // GitOps-safe: nothing the user wrote is replaced (Argo CD / Flux would show it as drift forever)
    assert.deepEqual(res.json.response.warnings, [
      `metadata.annotations["pre.hook.backup.velero.io/command"]: left as written; write ["sync"] to make the argv explicit`,
    ]);
    assert.deepEqual(decodePatch(res.json.response.patch), [
      { op: "add", path: "/metadata/annotations/pre.hook.backup.velero.io~1container", value: "app" },
      { op: "add", path: "/metadata/annotations/pre.hook.backup.velero.io~1on-error", value: "Fail" },
      { op: "add", path: "/metadata/annotations/pre.hook.backup.velero.io~1timeout", value: "30s" },
    ]);
    const patched = applyPatch(object, decodePatch(res.json.response.patch)!);
    assert.equal(patched.metadata.annotations["pre.hook.backup.velero.io/command"], "sync");
    const again = await wh.post(
      "/mutate",
      review({ kind: "Pod", operation: "CREATE", object: patched, uid: "m2" }),
    );
    assert.equal(again.json.response.patch, undefined);
    assert.equal(again.json.response.warnings.length, 1, "the warning stays until the user writes the array");
    // The mutated object passes validation too.
    const valid = await wh.post("/validate", review({ kind: "Pod", operation: "CREATE", object: patched }));
    assert.equal(valid.json.response.allowed, true);
  });

  for (const [kind, base] of [
    ["Deployment", "/spec/template"],
    ["StatefulSet", "/spec/template"],
    ["DaemonSet", "/spec/template"],
    ["ReplicaSet", "/spec/template"],
    ["ReplicationController", "/spec/template"],
    ["Job", "/spec/template"],
    ["CronJob", "/spec/jobTemplate/spec/template"],
  ] as const) {
    it(`${kind}: patches the pod template's annotations and is idempotent`, async () => {
      const object = workload(kind, {
        "post.hook.backup.velero.io/command": '["/bin/true"]',
        "post.hook.backup.velero.io/timeout": "1m",
      });
      const res = await wh.post("/mutate", review({ kind, operation: "CREATE", object }));
      const ops = decodePatch(res.json.response.patch)!;
      assert.deepEqual(ops, [
        {
          op: "add",
          path: `${base}/metadata/annotations/post.hook.backup.velero.io~1container`,
          value: "app",
        },
        {
          op: "add",
          path: `${base}/metadata/annotations/post.hook.backup.velero.io~1on-error`,
          value: "Fail",
        },
      ]);
      const again = await wh.post(
        "/mutate",
        review({ kind, operation: "UPDATE", object: applyPatch(object, ops), oldObject: object }),
      );
      assert.equal(again.json.response.patch, undefined);
      assert.equal(again.json.response.patchType, undefined);
    });
  }

  it("never rewrites invalid values and never patches objects without hooks, Backups, DELETE or CONNECT", async () => {
    const cases = [
      review({
        kind: "Pod",
        operation: "CREATE",
        object: pod({
          "pre.hook.backup.velero.io/command": "sync",
          "pre.hook.backup.velero.io/timeout": "30",
        }),
      }),
      review({
        kind: "Pod",
        operation: "CREATE",
        object: pod({ "pre.hook.backup.velero.io/command": '["broken"' }),
      }),
      review({ kind: "Pod", operation: "CREATE", object: pod() }),
      review({ kind: "Deployment", operation: "CREATE", object: workload("Deployment") }),
      review({
        kind: "Backup",
        operation: "CREATE",
        object: backup({ resources: [{ name: "a", pre: [{ exec: { command: ["sync"] } }] }] }),
        namespace: "velero",
      }),
      review({
        kind: "Pod",
        operation: "DELETE",
        oldObject: pod({ "pre.hook.backup.velero.io/command": "sync" }),
      }),
      review({ kind: "Pod", operation: "CONNECT", object: { kind: "PodExecOptions", apiVersion: "v1" } }),
    ];
    for (const body of cases) {
      const res = await wh.post("/mutate", body);
      assert.deepEqual(
        res.json.response,
        { uid: body.request.uid, allowed: true, status: { code: 200 } },
        JSON.stringify(body.request.object),
      );
    }
  });

  it("a workload's present values are never replaced: an empty container key is left, with a warning", async () => {
    const object = workload("Deployment", {
      "pre.hook.backup.velero.io/command": '["/bin/true"]',
      "pre.hook.backup.velero.io/container": "",
    });
    const res = await wh.post("/mutate", review({ kind: "Deployment", operation: "CREATE", object }));
    assert.deepEqual(decodePatch(res.json.response.patch), [
      {
        op: "add",
        path: "/spec/template/metadata/annotations/pre.hook.backup.velero.io~1on-error",
        value: "Fail",
      },
      {
        op: "add",
        path: "/spec/template/metadata/annotations/pre.hook.backup.velero.io~1timeout",
        value: "30s",
      },
    ]);
    assert.deepEqual(res.json.response.warnings, [
      `pre.hook.backup.velero.io/container: empty, so "app" runs it; write that or drop the key`,
    ]);
  });
});

describe("annotationPatch", () => {
  it("escapes ~ and / in keys (RFC 6901)", () => {
    assert.equal(escapePointer("a~b/c"), "a~0b~1c");
  });
  it("creates a missing metadata or annotations map in one add", () => {
    const edits = [{ key: "pre.hook.backup.velero.io/timeout", value: "30s" }];
    assert.deepEqual(annotationPatch("", undefined, edits), [
      {
        op: "add",
        path: "/metadata",
        value: { annotations: { "pre.hook.backup.velero.io/timeout": "30s" } },
      },
    ]);
    assert.deepEqual(annotationPatch("spec.template.", {}, edits), [
      {
        op: "add",
        path: "/spec/template/metadata/annotations",
        value: { "pre.hook.backup.velero.io/timeout": "30s" },
      },
    ]);
    const doc = { spec: { template: { metadata: {} } } };
    assert.deepEqual(applyPatch(doc, annotationPatch("spec.template.", {}, edits)), {
      spec: { template: { metadata: { annotations: { "pre.hook.backup.velero.io/timeout": "30s" } } } },
    });
  });
});
