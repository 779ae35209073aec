// The response constructors and the finaliser, field by field (controller-runtime response_test.go).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  allowed,
  capWarnings,
  complete,
  denialMessage,
  denied,
  errored,
  patched,
  warningLine,
  withWarnings,
} from "../../src/admission/response.js";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { normalizePodHooks, validateObject, type Finding } from "../../src/domain/index.js";

describe("admission responses", () => {
  it("allowed / denied / errored / patched complete to the wire shape", () => {
    assert.deepEqual(complete(allowed(), "u"), { uid: "u", allowed: true, status: { code: 200 } });
    assert.deepEqual(complete(denied("no"), "u"), {
      uid: "u",
      allowed: false,
      status: { code: 403, reason: "Forbidden", message: "no" },
    });
    assert.deepEqual(complete(errored(413, "too big"), "u"), {
      uid: "u",
      allowed: false,
      status: { code: 413, message: "too big" },
    });
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
          metadata: {
            annotations: {
              "pre.hook.backup.velero.io/command": '/usr/local/bin/snapshot-helper --flush "all tables"',
            },
          },
          spec: { containers: [{ name: "app", image: "busybox" }] },
        },
      },
    };
    const finding = validateObject(deployment).findings.find((f) => f.code === "command-whitespace");
    assert.ok(finding, "the whitespace-command warning is reported");
    const line = warningLine(finding);
    assert.ok(line.length < 120, line);
    assert.ok(line.startsWith("pre.hook.backup.velero.io/command: "), line);
    assert.match(line, /write \["\/usr\/local\/bin\/snapshot-helper","--flush","all tables"\]$/);
  });

  it("a short path is kept whole", () => {
    const f = {
      severity: "warning" as const,
      code: "c",
      path: "spec.hooks.resources[0].name",
      message: "duplicate",
    };
    assert.equal(warningLine(f), "spec.hooks.resources[0].name: duplicate");
  });
});

// Every finding can reach kubectl as a warning: a warning finding directly, an error as a warning on
// UPDATE when the old object had it too (and in warn-only enforcement). The corpus is every finding
// of examples/broken, as written and moved into longer paths (a CronJob's pod template, a Schedule),
// plus long user values; the mutating webhook's own warnings are included.
function corpus(): Finding[] {
  const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
  const dir = join(root, "examples/broken");
  const objects: any[] = [];
  for (const file of readdirSync(dir))
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), "utf8"))) objects.push(doc.toJS());
  const wrapped = objects.flatMap((o): unknown[] => {
    if (o.kind === "Pod")
      return [
        {
          apiVersion: "batch/v1",
          kind: "CronJob",
          metadata: { name: "c" },
          spec: { jobTemplate: { spec: { template: { metadata: o.metadata, spec: o.spec } } } },
        },
      ];
    if (o.kind === "Backup")
      return [
        { apiVersion: "velero.io/v1", kind: "Schedule", metadata: { name: "s" }, spec: { template: o.spec } },
      ];
    return [];
  });
  const long = "x".repeat(300);
  const longValues = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "d" },
    spec: {
      template: {
        metadata: {
          annotations: {
            "pre.hook.backup.velero.io/command": `/bin/sh -c "${long}"`,
            "pre.hook.backup.velero.io/timeout": long,
            "pre.hook.backup.velero.io/on-error": long,
            "post.hook.backup.velero.io/command": `[${long}`,
            "post.hook.backup.velero.io/container": long,
          },
        },
        spec: { containers: [{ name: "app" }] },
      },
    },
  };
  const findings = [...objects, ...wrapped, longValues].flatMap((o) => validateObject(o).findings);
  findings.push(
    ...normalizePodHooks(
      {
        metadata: {
          annotations: {
            "pre.hook.backup.velero.io/command": "/usr/sbin/a-rather-long-program-name-for-a-hook",
            "pre.hook.backup.velero.io/container": "",
          },
        },
        spec: { containers: [{ name: "app" }] },
      },
      "spec.jobTemplate.spec.template.",
    ).warnings,
  );
  return findings;
}

describe("every finding keeps its fix when it becomes a 120-character warning", () => {
  const findings = corpus();
  it("the corpus covers the findings of every broken example", () => {
    assert.ok(
      new Set(findings.map((f) => f.code)).size >= 20,
      [...new Set(findings.map((f) => f.code))].join(" "),
    );
  });
  for (const f of findings) {
    it(`${f.code} at ${f.path.slice(0, 60)}`, () => {
      const line = warningLine(f);
      assert.ok(line.length < 120, `${line.length}: ${line}`);
      assert.deepEqual(capWarnings([line]), [line], "not cut again on the way out");
      const split = f.message.lastIndexOf("; ");
      if (split >= 0) assert.ok(line.endsWith(f.message.slice(split + 2)), `the fix is kept: ${line}`);
      else assert.ok(line.endsWith(f.message), `a message without a fix fits whole: ${line}`);
    });
  }
});
