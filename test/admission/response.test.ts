// The response constructors and the finaliser, field by field (controller-runtime response_test.go).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { allowed, capWarnings, complete, denialMessage, denied, errored, patched, warningLine, withWarnings } from "../../src/admission/response.js";
import { validateObject } from "../../src/domain/index.js";

describe("admission responses", () => {
  it("allowed / denied / errored / patched complete to the wire shape", () => {
    assert.deepEqual(complete(allowed(), "u"), { uid: "u", allowed: true, status: { code: 200 } });
    assert.deepEqual(complete(denied("no"), "u"), { uid: "u", allowed: false, status: { code: 403, reason: "Forbidden", message: "no" } });
    assert.deepEqual(complete(errored(413, "too big"), "u"), { uid: "u", allowed: false, status: { code: 413, message: "too big" } });
    const ops = [{ op: "add" as const, path: "/metadata/annotations/a~1b", value: "x" }];
    assert.deepEqual(complete(patched(ops), "u"), {
      uid: "u",
      allowed: true,
      status: { code: 200 },
      patch: Buffer.from(JSON.stringify(ops)).toString("base64"),
      patchType: "JSONPatch",
    });
    assert.equal(complete(patched([]), "u").patchType, undefined);
  });

  it("withWarnings appends and denials keep their warnings", () => {
    const r = withWarnings(withWarnings(denied("no"), ["a"]), ["b"]);
    assert.deepEqual(complete(r, "u").warnings, ["a", "b"]);
    assert.equal(complete(r, "u").allowed, false);
  });

  it("denialMessage joins PATH: MESSAGE with '; '", () => {
    assert.equal(
      denialMessage([
        { severity: "error", code: "c1", path: "spec.x", message: "bad x" },
        { severity: "error", code: "c2", path: "", message: "bad object" },
      ]),
      "spec.x: bad x; bad object",
    );
  });

  it("capWarnings keeps each under 120 and the total under 4096", () => {
    const long = "p".repeat(60) + ": " + "m".repeat(100);
    assert.deepEqual(capWarnings([long]), [`${long.slice(0, 116)}...`]);
    assert.equal(capWarnings(["short"])[0], "short");
    const many = capWarnings(Array.from({ length: 100 }, (_, i) => `w${i}: ${"x".repeat(100)}`));
    assert.ok(many.reduce((n, w) => n + w.length, 0) < 4096);
    assert.match(many.at(-1)!, /^\d+ more warnings omitted; run hookguard lint for all of them$/);
  });
});

describe("warning lines keep their advice", () => {
  it("a long template annotation path is shortened to its key before anything is cut", () => {
    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d", namespace: "n" },
      spec: {
        template: {
          metadata: { annotations: { "pre.hook.backup.velero.io/command": '/bin/sh -c "sync && echo frozen"' } },
          spec: { containers: [{ name: "app", image: "busybox" }] },
        },
      },
    };
    const finding = validateObject(deployment).findings.find((f) => f.code === "command-whitespace");
    assert.ok(finding, "the whitespace-command warning is reported");
    const line = warningLine(finding);
    assert.ok(line.length < 120, line);
    assert.ok(line.startsWith("pre.hook.backup.velero.io/command: "), line);
    assert.match(line, /use a JSON array$/);
  });

  it("a short path is kept whole", () => {
    const f = { severity: "warning" as const, code: "c", path: "spec.hooks.resources[0].name", message: "duplicate" };
    assert.equal(warningLine(f), "spec.hooks.resources[0].name: duplicate");
  });
});
