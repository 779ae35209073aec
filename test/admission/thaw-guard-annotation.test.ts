// The thaw-guard opt-in annotation, as a user meets its validation: the webhook denies an unknown
// value with the fix, and `hookguard lint` (the real binary) reports the same finding.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runProcess } from "../helpers/process.js";
import { pod, review, startTestWebhook, workload, type TestWebhook } from "./helpers.js";

const GUARD = "hookguard.io/thaw-guard";
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

describe("hookguard.io/thaw-guard validation", () => {
  let wh: TestWebhook;
  before(async () => {
    wh = await startTestWebhook();
  });
  after(async () => wh.stop());

  it("the webhook admits enabled and disabled, denies anything else with the fix", async () => {
    for (const value of ["enabled", "disabled"]) {
      const res = await wh.post(
        "/validate",
        review({ kind: "Pod", operation: "CREATE", object: pod({ [GUARD]: value }) }),
      );
      assert.equal(res.json.response.allowed, true, `${value}: ${res.text}`);
    }
    const res = await wh.post(
      "/validate",
      review({
        kind: "Deployment",
        operation: "CREATE",
        object: workload("Deployment", { [GUARD]: "true" }),
      }),
    );
    assert.equal(res.json.response.allowed, false, res.text);
    assert.equal(
      res.json.response.status.message,
      `spec.template.metadata.annotations["${GUARD}"]: thaw-guard "true" is not valid: use "enabled" or "disabled"`,
    );
  });

  it("hookguard lint reports the same error and exits 1", async () => {
    const manifest = JSON.stringify(pod({ [GUARD]: "Enabled" }));
    const r = await runProcess(process.execPath, ["bin/hookguard.js", "lint", "-"], {
      cwd: root,
      input: manifest,
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stdout,
      /error: Pod shop\/web-0: metadata\.annotations\["hookguard\.io\/thaw-guard"\]: thaw-guard "Enabled" is not valid: did you mean "enabled"\?/,
    );
  });
});
