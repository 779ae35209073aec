// Property tests: whatever shape arrives (linted YAML can hold anything), the domain returns
// findings and never throws; normalisation is idempotent for every pod it accepts.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { normalizePodHooks, parseBackupHooks, parsePodHooks, resolvePodHooks, validateObject } from "../../src/domain/index.js";
import type { PodLike } from "../../src/domain/index.js";

const KEYS = ["container", "command", "on-error", "timeout", "comand"].flatMap((f) => [`pre.hook.backup.velero.io/${f}`, `post.hook.backup.velero.io/${f}`, `hook.backup.velero.io/${f}`]);
const value = fc.oneof(
  fc.constantFrom("", " ", "Fail", "Continue", "continue", "30s", "0", "-1s", "300", "1d", '["/bin/sync"]', "[]", '[""]', "[x", "/bin/sync", "a b", "app", "proxy", "\u201cx\u201d"),
  fc.string({ maxLength: 12 }),
);

test("parsePodHooks, validateObject and resolvePodHooks never throw on arbitrary JSON", () => {
  fc.assert(
    fc.property(fc.anything({ maxDepth: 4 }), (anything) => {
      const wrapped = [anything, { kind: "Pod", apiVersion: "v1", metadata: anything, spec: anything }, { kind: "Pod", apiVersion: "v1", metadata: { annotations: anything }, spec: { containers: anything } }];
      for (const obj of wrapped) {
        parsePodHooks(obj as PodLike);
        validateObject(obj);
        resolvePodHooks(obj as PodLike, parseBackupHooks({ resources: [{ name: "x", labelSelector: anything, pre: [{ exec: { command: ["a"] } }] }] }).resources, "pre");
      }
    }),
    { numRuns: 300 },
  );
});

test("parseBackupHooks reports instead of throwing on arbitrary hook shapes", () => {
  fc.assert(
    fc.property(fc.anything({ maxDepth: 5 }), (anything) => {
      const r1 = parseBackupHooks(anything);
      const r2 = parseBackupHooks({ resources: [anything, { name: "n", pre: [anything, { exec: anything }] }] });
      for (const f of [...r1.findings, ...r2.findings]) assert.ok(f.path.startsWith("spec.hooks") && f.message.length > 0);
    }),
    { numRuns: 300 },
  );
});

test("normalizePodHooks is idempotent and never touches a hook with an error", () => {
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 8 }), (annotations) => {
      const pod: PodLike = { metadata: { name: "p", namespace: "n", annotations }, spec: { containers: [{ name: "app" }, { name: "proxy" }] } };
      const edits = normalizePodHooks(pod);
      const after: PodLike = { ...pod, metadata: { ...pod.metadata, annotations: { ...annotations, ...Object.fromEntries(edits.map((e) => [e.key, e.value])) } } };
      assert.deepEqual(normalizePodHooks(after), []);
      // the effective hooks are unchanged by normalisation
      const before = parsePodHooks(pod);
      const normalised = parsePodHooks(after);
      for (const phase of ["pre", "post"] as const) {
        const a = before[phase];
        const b = normalised[phase];
        assert.deepEqual(b && { argv: b.argv, container: b.container, onError: b.onError, timeoutMs: b.timeoutMs }, a && { argv: a.argv, container: a.container, onError: a.onError, timeoutMs: a.timeoutMs });
        if (a && [...a.blockers, ...a.warnings].some((f) => f.severity === "error")) {
          assert.ok(edits.every((e) => !e.key.startsWith(`${phase}.`)), JSON.stringify({ annotations, edits }));
        }
      }
    }),
    { numRuns: 500 },
  );
});
