// /validate over real TLS: exact AdmissionReview JSON in, exact response out, for each kind and
// operation. Expected denial messages are built from the domain's findings (the webhook's job is the
// format and the decision), and the headline case is also spelled out literally.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { validateObject, type Finding } from "../../src/domain/index.js";
import { exampleReview } from "../../src/admission/example.js";
import { warningLine } from "../../src/admission/response.js";
import { backup, pod, review, schedule, startTestWebhook, workload, type TestWebhook } from "./helpers.js";

const line = (f: Finding): string => `${f.path}: ${f.message}`;
/**
 * Documented: a warning over 120 characters names the annotation by its key alone and then loses
 * part of its description, never the fix (the cutting itself is tested in response.test.ts).
 */
const warn = warningLine;
function expectedFor(obj: unknown): { errors: string[]; warnings: string[]; errorsAsWarnings: string[] } {
  const findings = validateObject(obj).findings;
  const errors = findings.filter((f) => f.severity === "error");
  return {
    errors: errors.map(line),
    errorsAsWarnings: errors.map(warn),
    warnings: findings.filter((f) => f.severity === "warning").map(warn),
  };
}

const GOOD = {
  "pre.hook.backup.velero.io/container": "app",
  "pre.hook.backup.velero.io/command": '["/bin/sh","-c","sync"]',
  "pre.hook.backup.velero.io/on-error": "Fail",
  "pre.hook.backup.velero.io/timeout": "45s",
};
const BAD = {
  "pre.hook.backup.velero.io/command": '["/usr/bin/sync"]',
  "pre.hook.backup.velero.io/timeout": "30",
};

describe("POST /validate", () => {
  let wh: TestWebhook;
  before(async () => {
    wh = await startTestWebhook();
  });
  after(async () => wh.stop());

  it("refuses the startup example with 403 Forbidden, the finding as PATH: MESSAGE, and its warning", async () => {
    const body = exampleReview("uid-example");
    const res = await wh.post("/validate", body);
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-type"], "application/json");
    assert.equal(res.json.apiVersion, "admission.k8s.io/v1");
    assert.equal(res.json.kind, "AdmissionReview");
    assert.equal(res.json.response.uid, "uid-example");
    assert.equal(res.json.response.allowed, false);
    assert.deepEqual(Object.keys(res.json.response.status).sort(), ["code", "message", "reason"]);
    assert.equal(res.json.response.status.code, 403);
    assert.equal(res.json.response.status.reason, "Forbidden");
    assert.match(
      res.json.response.status.message,
      /^metadata\.annotations\["pre\.hook\.backup\.velero\.io\/on-error"\]: on-error "continue" is not valid/,
    );
    const exp = expectedFor((body as any).request.object);
    assert.equal(res.json.response.status.message, exp.errors.join("; "));
    assert.deepEqual(res.json.response.warnings, exp.warnings);
    assert.ok(exp.warnings.length > 0, "the example carries a warning that must survive the denial");
  });

  it("echoes admission.k8s.io/v1beta1", async () => {
    const body = review({
      kind: "Pod",
      operation: "CREATE",
      object: pod(GOOD),
      apiVersion: "admission.k8s.io/v1beta1",
      uid: "b1",
    });
    const res = await wh.post("/validate", body);
    assert.deepEqual(res.json, {
      apiVersion: "admission.k8s.io/v1beta1",
      kind: "AdmissionReview",
      response: { uid: "b1", allowed: true, status: { code: 200 } },
    });
  });

  for (const kind of [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
  ] as const) {
    it(`${kind}: allows a valid template hook and denies a bad one with the template path`, async () => {
      const ok = await wh.post(
        "/validate",
        review({ kind, operation: "CREATE", object: workload(kind, GOOD), uid: `ok-${kind}` }),
      );
      assert.deepEqual(ok.json.response, { uid: `ok-${kind}`, allowed: true, status: { code: 200 } });
      const obj = workload(kind, BAD);
      const bad = await wh.post(
        "/validate",
        review({ kind, operation: "CREATE", object: obj, uid: `bad-${kind}` }),
      );
      const exp = expectedFor(obj);
      const prefix = kind === "CronJob" ? "spec.jobTemplate.spec.template." : "spec.template.";
      assert.equal(bad.json.response.allowed, false);
      assert.equal(bad.json.response.status.code, 403);
      assert.ok(
        bad.json.response.status.message.startsWith(
          `${prefix}metadata.annotations["pre.hook.backup.velero.io/timeout"]: `,
        ),
        bad.json.response.status.message,
      );
      assert.equal(bad.json.response.status.message, exp.errors.join("; "));
    });
  }

  it("Pod CREATE: a pod without hooks and a pod with valid hooks are allowed exactly", async () => {
    for (const object of [pod(), pod(GOOD)]) {
      const res = await wh.post("/validate", review({ kind: "Pod", operation: "CREATE", object, uid: "p1" }));
      assert.equal(
        res.text,
        '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"p1","allowed":true,"status":{"code":200}}}',
      );
    }
  });

  it("lists every error finding, joined with '; '", async () => {
    const object = pod({
      ...BAD,
      "post.hook.backup.velero.io/command": '["/bin/true"',
      "post.hook.backup.velero.io/on-error": "fail",
    });
    const res = await wh.post("/validate", review({ kind: "Pod", operation: "CREATE", object }));
    const exp = expectedFor(object);
    assert.ok(exp.errors.length >= 3);
    assert.equal(res.json.response.status.message, exp.errors.join("; "));
  });

  it("kubectl annotate (UPDATE) adding a bad hook is denied; dry-run behaves the same", async () => {
    const oldObject = pod();
    const object = pod({
      "pre.hook.backup.velero.io/command": '["/sbin/fsfreeze","--freeze","/data"]',
      "pre.hook.backup.velero.io/on-error": "continue",
    });
    for (const dryRun of [false, true]) {
      const res = await wh.post(
        "/validate",
        review({ kind: "Pod", operation: "UPDATE", object, oldObject, dryRun }),
      );
      assert.equal(res.json.response.allowed, false);
      assert.equal(res.json.response.status.message, expectedFor(object).errors.join("; "));
    }
  });

  it("UPDATE keeps an unchanged legacy error as a warning, so a fix elsewhere is not blocked", async () => {
    const oldObject = pod(BAD);
    const object = pod({ ...BAD, team: "payments" });
    const res = await wh.post(
      "/validate",
      review({ kind: "Pod", operation: "UPDATE", object, oldObject, uid: "u1" }),
    );
    const exp = expectedFor(object);
    assert.equal(res.json.response.allowed, true);
    assert.deepEqual(
      [...res.json.response.warnings].sort(),
      [...exp.errorsAsWarnings, ...exp.warnings].sort(),
    );
  });

  it("UPDATE that changes the bad value is still denied", async () => {
    const oldObject = pod(BAD);
    const object = pod({ ...BAD, "pre.hook.backup.velero.io/timeout": "5" });
    const res = await wh.post("/validate", review({ kind: "Pod", operation: "UPDATE", object, oldObject }));
    assert.equal(res.json.response.allowed, false);
    assert.match(res.json.response.status.message, /timeout "5"/);
    assert.doesNotMatch(res.json.response.status.message, /timeout "30"/);
  });

  it("DELETE and CONNECT are allowed untouched", async () => {
    const del = await wh.post(
      "/validate",
      review({ kind: "Pod", operation: "DELETE", oldObject: pod(BAD), uid: "d1" }),
    );
    assert.deepEqual(del.json.response, { uid: "d1", allowed: true, status: { code: 200 } });
    const con = await wh.post(
      "/validate",
      review({
        kind: "Pod",
        operation: "CONNECT",
        object: { kind: "PodExecOptions", apiVersion: "v1", command: ["sh"] },
        uid: "c1",
      }),
    );
    assert.deepEqual(con.json.response, { uid: "c1", allowed: true, status: { code: 200 } });
  });

  it("Backup and Schedule: spec.hooks findings with their field paths", async () => {
    const hooks = {
      resources: [
        {
          name: "freeze",
          includedNamespaces: ["shop"],
          pre: [
            {
              exec: {
                container: "app",
                command: ["/sbin/fsfreeze", "--freeze", "/data"],
                onError: "Fail",
                timeout: "30",
              },
            },
          ],
        },
      ],
    };
    for (const [kind, object, prefix] of [
      ["Backup", backup(hooks), "spec.hooks."],
      ["Schedule", schedule(hooks), "spec.template.hooks."],
    ] as const) {
      const res = await wh.post(
        "/validate",
        review({ kind, operation: "CREATE", object, namespace: "velero" }),
      );
      const exp = expectedFor(object);
      assert.ok(exp.errors.length > 0);
      assert.equal(res.json.response.allowed, false, kind);
      assert.equal(res.json.response.status.message, exp.errors.join("; "));
      assert.ok(res.json.response.status.message.startsWith(prefix), res.json.response.status.message);
      const fixed = structuredClone(object) as any;
      const h = kind === "Backup" ? fixed.spec.hooks : fixed.spec.template.hooks;
      h.resources[0].pre[0].exec.timeout = "30s";
      const ok = await wh.post(
        "/validate",
        review({ kind, operation: "CREATE", object: fixed, namespace: "velero", uid: `ok-${kind}` }),
      );
      assert.equal(ok.json.response.allowed, true, JSON.stringify(ok.json.response));
    }
  });

  it("keeps each warning under 120 characters and all of them under 4096, saying how many were dropped", async () => {
    // 80 legacy errors left unchanged by an UPDATE all become warnings: far more than 4096 characters.
    const resources = Array.from({ length: 80 }, (_, i) => ({
      name: `hook-${i}`,
      pre: [{ exec: { container: "app", command: ["/usr/bin/sync"], timeout: "-1s" } }],
    }));
    const oldObject = backup({ resources });
    const object = structuredClone(oldObject);
    object.metadata.labels = { team: "payments" };
    const res = await wh.post(
      "/validate",
      review({ kind: "Backup", operation: "UPDATE", object, oldObject, namespace: "velero" }),
    );
    const exp = expectedFor(object);
    assert.equal(exp.errors.length, 80);
    assert.equal(res.json.response.allowed, true);
    const warnings: string[] = res.json.response.warnings;
    for (const w of warnings) assert.ok(w.length < 120, w);
    assert.ok(warnings.reduce((n, w) => n + w.length, 0) < 4096);
    assert.deepEqual(warnings.slice(0, -1), exp.errorsAsWarnings.slice(0, warnings.length - 1));
    assert.equal(
      warnings.at(-1),
      `${80 - (warnings.length - 1)} more warnings omitted; run hookguard lint for all of them`,
    );
  });
});
