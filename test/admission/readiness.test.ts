// /readyz means warm: a fresh server is not ready until it has sent representative reviews through
// its own HTTPS port and got decisions back; those reviews are not counted in the admission metrics,
// never ask the API server for a SubjectAccessReview, and a server that cannot answer them stays
// not ready and says why.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ExecAuthorizer } from "../../src/admission/authz.js";
import { post, startTestWebhook } from "./helpers.js";
import { pino } from "pino";
import type { Logger } from "../../src/log.js";

function capturingLogger(): {
  log: Logger;
  lines: Array<{ level: number; msg: string; [k: string]: unknown }>;
} {
  const lines: Array<{ level: number; msg: string }> = [];
  const log = pino(
    { level: "debug", base: undefined },
    { write: (s: string) => void lines.push(JSON.parse(s)) },
  );
  return { log, lines };
}

describe("readiness waits for the warm-up", () => {
  it("is not ready before the warm-up, ready after it; warm-up reviews are neither counted, logged nor authorized", async () => {
    const { log, lines } = capturingLogger();
    let reviews = 0;
    const authorizer = new ExecAuthorizer(async () => {
      reviews++;
      return { ok: true, value: true };
    });
    const wh = await startTestWebhook({
      log,
      validate: { authorizer },
      warmupRounds: 3,
      skipWarmupWait: true,
    });
    try {
      // Same tick as start(): the warm-up needs network round trips, so it cannot be done yet.
      assert.deepEqual(await wh.server.ready(), {
        ok: false,
        reason: "warming up: validating representative reviews",
      });
      const warm = await wh.server.warmedUp();
      assert.deepEqual(warm, { ok: true, value: { reviews: 15 } });
      const ready = await post({ port: wh.port, agent: wh.agent, path: "/readyz", body: "", method: "GET" });
      assert.deepEqual([ready.status, ready.text], [200, "ok"]);
      assert.deepEqual((await wh.metrics.requests.get()).values, [], "no admission request counted");
      assert.equal(
        (await wh.metrics.duration.get()).values.filter(
          (v) => v.metricName?.endsWith("_count") && v.value > 0,
        ).length,
        0,
      );
      assert.equal(reviews, 0, "no SubjectAccessReview");
      assert.equal(lines.filter((l) => l.msg === "admission request").length, 0);
      assert.ok(lines.some((l) => l.msg.startsWith("warmed up") && l.reviews === 15));
    } finally {
      await wh.stop();
    }
  });

  it("with --enforcement warn, the warm-up's copy and denial reviews are not counted as copies or would-be denials", async () => {
    const counted: string[] = [];
    const wh = await startTestWebhook({
      validate: {
        enforcement: "warn",
        onControllerCopy: (k) => counted.push(`copy ${k}`),
        onWouldDeny: (k) => counted.push(`would-deny ${k}`),
      },
      warmupRounds: 3,
      skipWarmupWait: true,
    });
    try {
      assert.deepEqual(await wh.server.warmedUp(), { ok: true, value: { reviews: 15 } });
      assert.deepEqual(counted, []);
    } finally {
      await wh.stop();
    }
  });

  it("stays not ready, with the reason, while the warm-up's reviews cannot be answered", async () => {
    const { log, lines } = capturingLogger();
    // A body limit below any review: every warm-up review is refused with 413.
    const wh = await startTestWebhook({ log, maxRequestBytes: 100, skipWarmupWait: true });
    try {
      const warm = await wh.server.warmedUp();
      assert.equal(warm.ok, false);
      const ready = await post({ port: wh.port, agent: wh.agent, path: "/readyz", body: "", method: "GET" });
      assert.equal(ready.status, 503);
      assert.match(
        ready.text,
        /^not ready: warm-up failed \(\/(validate|mutate) answered HTTP 413: request entity is too large; limit is 100 bytes\); retrying$/,
      );
      assert.ok(lines.some((l) => l.level === 50 && l.msg.startsWith("warm-up failed")));
      // The probe started another attempt, which fails the same way: still not ready.
      assert.equal((await wh.server.warmedUp()).ok, false);
      assert.equal(
        (await post({ port: wh.port, agent: wh.agent, path: "/readyz", body: "", method: "GET" })).status,
        503,
      );
    } finally {
      await wh.stop();
    }
  });
});
