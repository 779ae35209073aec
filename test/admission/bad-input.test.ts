// Bad input never crashes or hangs the server: each gets an AdmissionReview (with the uid when one
// could be read: HTTP 200; without: HTTP 400/413), exceptions become 500 and are counted, and the
// metrics endpoint's output passes the real `promtool check metrics`.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { get } from "node:http";
import { ExecAuthorizer } from "../../src/admission/authz.js";
import { MetricsServer } from "../../src/server/metrics-server.js";
import { pod, post, review, startTestWebhook, workload, type TestWebhook } from "./helpers.js";

const V1 = "admission.k8s.io/v1";
function errored(uid: string, code: number, message: string): object {
  return {
    apiVersion: V1,
    kind: "AdmissionReview",
    response: { uid, allowed: false, status: { code, message } },
  };
}
const HOOK = { "pre.hook.backup.velero.io/command": '["/usr/bin/sync"]' };

describe("bad input on /validate and /mutate", () => {
  let wh: TestWebhook;
  before(async () => {
    // The exec-permission check throws (a programming error, not a SAR failure) for user "boom",
    // which is how these tests reach the catch-all.
    const authorizer = new ExecAuthorizer(async (user) => {
      if (user.username === "boom") throw new Error("unexpected failure inside the handler");
      return { ok: true, value: true };
    });
    wh = await startTestWebhook({ validate: { authorizer }, maxRequestBytes: 7 * 1024 * 1024 });
  });
  after(async () => wh.stop());

  const table: Array<{
    name: string;
    body: string | Buffer;
    headers?: Record<string, string>;
    status: number;
    expect: object;
  }> = [
    { name: "empty body", body: "", status: 400, expect: errored("", 400, "request body is empty") },
    {
      name: "not JSON",
      body: "hello",
      status: 400,
      expect: errored(
        "",
        400,
        `couldn't decode the AdmissionReview: ${(() => {
          try {
            JSON.parse("hello");
          } catch (e) {
            return (e as Error).message;
          }
        })()}`,
      ),
    },
    {
      name: "JSON but not an object",
      body: "[1,2]",
      status: 400,
      expect: errored("", 400, "couldn't decode the AdmissionReview: the body is not a JSON object"),
    },
    {
      name: "no request",
      body: JSON.stringify({ apiVersion: V1, kind: "AdmissionReview" }),
      status: 400,
      expect: errored("", 400, "the AdmissionReview has no request"),
    },
    {
      name: "wrong kind",
      body: JSON.stringify({ apiVersion: V1, kind: "Pod", request: { uid: "k1" } }),
      status: 200,
      expect: errored("k1", 400, 'expected kind "AdmissionReview", got "Pod"'),
    },
    {
      name: "unknown apiVersion",
      body: JSON.stringify({
        apiVersion: "admission.k8s.io/v2",
        kind: "AdmissionReview",
        request: { uid: "a1" },
      }),
      status: 200,
      expect: errored(
        "a1",
        400,
        'unsupported AdmissionReview apiVersion "admission.k8s.io/v2"; expected admission.k8s.io/v1 or admission.k8s.io/v1beta1',
      ),
    },
    {
      name: "wrong content type (uid still answered)",
      body: JSON.stringify(review({ kind: "Pod", operation: "CREATE", object: pod(), uid: "ct1" })),
      headers: { "content-type": "text/plain" },
      status: 200,
      expect: errored("ct1", 400, "contentType=text/plain, expected application/json"),
    },
    {
      name: "unknown kind",
      body: JSON.stringify({
        ...review({ kind: "Pod", operation: "CREATE", uid: "uk1" }),
        request: {
          ...review({ kind: "Pod", operation: "CREATE", uid: "uk1" }).request,
          kind: { group: "", version: "v1", kind: "ConfigMap" },
          object: { apiVersion: "v1", kind: "ConfigMap" },
        },
      }),
      status: 200,
      expect: errored(
        "uk1",
        400,
        "hookguard does not handle core/v1 ConfigMap; it handles v1 Pod, v1 ReplicationController, apps/v1 Deployment, apps/v1 StatefulSet, apps/v1 DaemonSet, apps/v1 ReplicaSet, batch/v1 Job, batch/v1 CronJob, velero.io/v1 Backup, velero.io/v1 Schedule",
      ),
    },
    {
      name: "object of another kind",
      body: JSON.stringify(
        review({ kind: "Pod", operation: "CREATE", object: workload("Deployment"), uid: "mm1" }),
      ),
      status: 200,
      expect: errored(
        "mm1",
        400,
        'request.object is "apps/v1" "Deployment", which does not match the request kind v1 Pod',
      ),
    },
    {
      name: "annotations that are not strings",
      body: JSON.stringify(
        review({
          kind: "Pod",
          operation: "CREATE",
          object: { ...pod(), metadata: { annotations: { "pre.hook.backup.velero.io/timeout": 30 } } },
          uid: "an1",
        }),
      ),
      status: 200,
      expect: errored(
        "an1",
        400,
        'request.object does not match kind Pod: request.object.metadata.annotations["pre.hook.backup.velero.io/timeout"] must be a string',
      ),
    },
    {
      name: "CREATE without object",
      body: JSON.stringify(review({ kind: "Pod", operation: "CREATE", uid: "no1" })),
      status: 200,
      expect: errored("no1", 400, "request.object: there is no content to decode"),
    },
    {
      name: "UPDATE without oldObject",
      body: JSON.stringify(review({ kind: "Pod", operation: "UPDATE", object: pod(), uid: "no2" })),
      status: 200,
      expect: errored("no2", 400, "request.oldObject: there is no content to decode"),
    },
    {
      name: "unsupported operation",
      body: JSON.stringify({
        ...review({ kind: "Pod", operation: "CREATE", object: pod(), uid: "op1" }),
        request: {
          ...review({ kind: "Pod", operation: "CREATE", object: pod(), uid: "op1" }).request,
          operation: "PATCH",
        },
      }),
      status: 200,
      expect: errored("op1", 400, 'unsupported operation "PATCH"'),
    },
  ];

  for (const webhook of ["validate", "mutate"] as const) {
    for (const c of table) {
      // The defaulter reads only the object (controller-runtime defaulter_custom.go), so a missing
      // oldObject is not its concern; the non-string annotation case shares the decoder tested above.
      if (
        webhook === "mutate" &&
        (c.name === "annotations that are not strings" || c.name === "UPDATE without oldObject")
      )
        continue;
      it(`${webhook}: ${c.name}`, async () => {
        const res = await wh.post(`/${webhook}`, c.body, c.headers);
        assert.equal(res.status, c.status);
        assert.equal(res.headers["content-type"], "application/json");
        assert.deepEqual(res.json, c.expect);
      });
    }
  }

  it("a body over 7 MiB gets HTTP 413 with an errored AdmissionReview, and the server keeps serving", async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 0x20);
    const res = await wh.post("/validate", big);
    assert.equal(res.status, 413);
    assert.deepEqual(
      res.json,
      errored("", 413, `request entity is too large; limit is ${7 * 1024 * 1024} bytes`),
    );
    // Also without a Content-Length (chunked): the cap applies while reading.
    const chunked = await wh.post("/validate", big, { "transfer-encoding": "chunked" });
    assert.equal(chunked.status, 413);
    const ok = await wh.post(
      "/validate",
      review({ kind: "Pod", operation: "CREATE", object: pod(), uid: "after" }),
    );
    assert.equal(ok.json.response.uid, "after");
    assert.equal(ok.json.response.allowed, true);
  });

  it("an exception inside the handler is answered 500 with the uid and counted in hookguard_admission_panics_total", async () => {
    const before = (await wh.metrics.panics.get()).values[0]?.value ?? 0;
    const body = review({
      kind: "Pod",
      operation: "CREATE",
      object: pod(HOOK),
      uid: "p500",
      user: { username: "boom" },
    });
    const res = await wh.post("/validate", body);
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.json,
      errored(
        "p500",
        500,
        "internal error in hookguard while handling request p500; the webhook's log has the details",
      ),
    );
    assert.equal((await wh.metrics.panics.get()).values[0]?.value, before + 1);
    const ok = await wh.post(
      "/validate",
      review({ kind: "Pod", operation: "CREATE", object: pod(HOOK), uid: "fine" }),
    );
    assert.equal(ok.json.response.allowed, true);
  });

  it("unknown paths and methods get a JSON 404, /healthz and /readyz answer ok", async () => {
    const nf = await wh.post("/nope", "{}");
    assert.equal(nf.status, 404);
    assert.match(nf.json.error, /no route for POST \/nope/);
    const health = await post({ port: wh.port, agent: wh.agent, path: "/healthz", body: "", method: "GET" });
    assert.deepEqual([health.status, health.text], [200, "ok"]);
    const ready = await post({ port: wh.port, agent: wh.agent, path: "/readyz", body: "", method: "GET" });
    assert.deepEqual([ready.status, ready.text], [200, "ok"]);
  });

  it("counts requests by webhook/resource/operation/decision and passes promtool check metrics", async () => {
    await wh.post(
      "/validate",
      review({
        kind: "Pod",
        operation: "CREATE",
        object: pod({ "pre.hook.backup.velero.io/timeout": "x", ...HOOK }),
      }),
    );
    const metricsServer = new MetricsServer(wh.metrics.registry);
    const { port } = await metricsServer.start(0, "127.0.0.1");
    try {
      const text = await new Promise<string>((resolve, reject) => {
        get({ host: "127.0.0.1", port, path: "/metrics" }, (res) => {
          let s = "";
          res.on("data", (c: Buffer) => (s += c.toString()));
          res.on("end", () => resolve(s));
        }).on("error", reject);
      });
      assert.match(
        text,
        /hookguard_admission_requests_total\{webhook="validate",resource="pods",operation="CREATE",decision="denied"\} [1-9]/,
      );
      assert.match(
        text,
        /hookguard_admission_requests_total\{webhook="validate",resource="other",operation="other",decision="errored"\} [1-9]/,
      );
      assert.match(text, /hookguard_admission_duration_seconds_bucket\{le="0.0005",webhook="validate"\}/);
      assert.match(text, /hookguard_admission_duration_seconds_bucket\{le="1",webhook="mutate"\}/);
      assert.match(text, /hookguard_admission_panics_total [1-9]/);
      assert.match(text, /hookguard_build_info\{version="\d+\.\d+\.\d+"\} 1/);
      assert.match(text, /hookguard_certificate_expiry_timestamp_seconds\{certificate="serving"\} \d{10}/);
      assert.match(text, /process_cpu_seconds_total/);
      assert.doesNotMatch(text, /nodejs_active_handles_total/);
      const check = await promtoolCheck(text);
      assert.equal(check.code, 0, check.output);
    } finally {
      await metricsServer.stop();
    }
  });
});

function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}
