// The admission routes are reached without express's router when the path is exactly /validate or
// /mutate (src/server/app.ts); every other spelling express accepts still reaches the same handler
// through express. Whichever way a review arrives, the user gets the same answer and it is counted.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Agent } from "node:https";
import { pod, post, review, startTestWebhook, type TestWebhook } from "./helpers.js";

const BAD = {
  "pre.hook.backup.velero.io/command": '["/sbin/fsfreeze", "--freeze", "/data"',
  "pre.hook.backup.velero.io/on-error": "continue",
};

describe("admission routes", () => {
  let wh: TestWebhook;
  before(async () => {
    wh = await startTestWebhook();
  });
  after(async () => wh.stop());

  async function counted(): Promise<number> {
    const m = await wh.metrics.requests.get();
    return m.values.reduce((sum, v) => sum + v.value, 0);
  }

  it("answers the API server's ?timeout= form and express's spellings of /validate alike", async () => {
    const paths = ["/validate", "/validate?timeout=10s", "/validate/", "/VALIDATE", "/validate/?timeout=5s"];
    const before = await counted();
    const answers: Array<Record<string, any>> = [];
    for (const path of paths) {
      const uid = `uid-${answers.length}`;
      const r = await wh.post(path, review({ kind: "Pod", operation: "CREATE", object: pod(BAD), uid }));
      assert.equal(r.status, 200, path);
      assert.equal(r.json.response.uid, uid, path);
      answers.push({ ...r.json.response, uid: "" });
    }
    assert.equal(answers[0].allowed, false);
    assert.match(answers[0].status.message, /on-error/);
    for (const a of answers.slice(1)) assert.deepEqual(a, answers[0]);
    assert.equal((await counted()) - before, paths.length);
  });

  it("answers /mutate?timeout= with the same patch as /mutate", async () => {
    const object = pod({ "pre.hook.backup.velero.io/command": '["/usr/bin/sync"]' });
    const one = await wh.post("/mutate", review({ kind: "Pod", operation: "CREATE", object, uid: "m1" }));
    const two = await wh.post(
      "/mutate?timeout=10s",
      review({ kind: "Pod", operation: "CREATE", object, uid: "m2" }),
    );
    assert.equal(one.json.response.uid, "m1");
    assert.equal(one.json.response.patchType, "JSONPatch", "the mutating webhook makes the hook explicit");
    assert.equal(two.json.response.uid, "m2");
    assert.deepEqual({ ...two.json.response, uid: "" }, { ...one.json.response, uid: "" });
  });

  it("leaves other methods and paths to express: a JSON 404 naming the routes", async () => {
    for (const [method, path] of [
      ["GET", "/validate"],
      ["PUT", "/mutate?timeout=10s"],
      ["POST", "/validated"],
      ["POST", "/validate/extra"],
    ] as const) {
      // A connection of its own each: node closes one whose request body was left unread.
      const agent = new Agent({ ca: wh.ca, keepAlive: false });
      const r = await post({ port: wh.port, agent, path, body: "{}", method });
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.match(r.json.error, /hookguard serves POST \/validate, POST \/mutate/);
    }
  });
});
