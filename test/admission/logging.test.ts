// One structured log line per request, with the request's coordinates and never its content:
// annotation values (which can hold secrets) and pieces of malformed bodies stay out of the log.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { pod, review, startTestWebhook, type TestWebhook } from "./helpers.js";

describe("admission logs", () => {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  let wh: TestWebhook;
  before(async () => {
    const log = pino(
      { level: "debug", base: undefined },
      { write: (s: string) => (raw.push(s), lines.push(JSON.parse(s))) },
    );
    wh = await startTestWebhook({ log });
  });
  after(async () => wh.stop());

  it("logs uid, kind, namespace, name, operation, user, decision and latency; no object content", async () => {
    const secret = "s3cr3t-Passw0rd";
    const object = pod({
      "pre.hook.backup.velero.io/command": `["/bin/sh","-c","PGPASSWORD=${secret} psql"]`,
      "pre.hook.backup.velero.io/timeout": `${secret}`,
    });
    await wh.post(
      "/validate",
      review({
        kind: "Pod",
        operation: "CREATE",
        object,
        uid: "log-denied",
        namespace: "shop",
        name: "web-0",
      }),
    );
    await wh.post(
      "/validate",
      review({ kind: "Pod", operation: "CREATE", object: pod(), uid: "log-allowed" }),
    );
    await wh.post("/validate", `{"apiVersion": "${secret}`);
    const denied = lines.find((l) => l.uid === "log-denied")!;
    assert.deepEqual(
      { ...denied, time: undefined, latencyMs: undefined },
      {
        level: 30,
        time: undefined,
        webhook: "validate",
        uid: "log-denied",
        kind: "Pod",
        namespace: "shop",
        name: "web-0",
        operation: "CREATE",
        user: "alice",
        decision: "denied",
        code: 403,
        latencyMs: undefined,
        msg: "admission request",
      },
    );
    assert.equal(typeof denied.latencyMs, "number");
    const allowed = lines.find((l) => l.uid === "log-allowed")!;
    assert.equal(allowed.level, 20, "allowed requests log at debug");
    const bad = lines.find((l) => l.code === 400)!;
    assert.equal(bad.error, "couldn't decode the AdmissionReview (invalid JSON)");
    assert.ok(!raw.join("").includes(secret), raw.join(""));
  });
});
