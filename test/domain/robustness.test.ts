// Property tests: whatever shape arrives (linted YAML can hold anything), the domain returns
// findings and never throws; normalisation is idempotent for every pod it accepts.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  normalizePodHooks,
  parseBackupHooks,
  parsePodHooks,
  resolvePodHooks,
  validateObject,
} from "../../src/domain/index.js";
import type { PodLike } from "../../src/domain/index.js";

const KEYS = ["container", "command", "on-error", "timeout", "comand"].flatMap((f) => [
  `pre.hook.backup.velero.io/${f}`,
  `post.hook.backup.velero.io/${f}`,
  `hook.backup.velero.io/${f}`,
]);
const value = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "Fail",
    "Continue",
    "continue",
    "30s",
    "0",
    "-1s",
    "300",
    "1d",
    '["/bin/sync"]',
    "[]",
    '[""]',
    "[x",
    "/bin/sync",
    "a b",
    "app",
    "proxy",
    "\u201cx\u201d",
  ),
  fc.string({ maxLength: 12 }),
);

test("parsePodHooks, validateObject and resolvePodHooks never throw on arbitrary JSON", () => {
  fc.assert(
    fc.property(fc.anything({ maxDepth: 4 }), (anything) => {
      const wrapped = [
        anything,
        { kind: "Pod", apiVersion: "v1", metadata: anything, spec: anything },
        {
          kind: "Pod",
          apiVersion: "v1",
          metadata: { annotations: anything },
          spec: { containers: anything },
        },
      ];
      for (const obj of wrapped) {
        parsePodHooks(obj as PodLike);
        validateObject(obj);
        resolvePodHooks(
          obj as PodLike,
          parseBackupHooks({
            resources: [{ name: "x", labelSelector: anything, pre: [{ exec: { command: ["a"] } }] }],
          }).resources,
          "pre",
        );
      }
    }),
    { numRuns: 300 },
  );
});

test("parseBackupHooks reports instead of throwing on arbitrary hook shapes", () => {
  fc.assert(
    fc.property(fc.anything({ maxDepth: 5 }), (anything) => {
      const r1 = parseBackupHooks(anything);
      const r2 = parseBackupHooks({
        resources: [anything, { name: "n", pre: [anything, { exec: anything }] }],
      });
      for (const f of [...r1.findings, ...r2.findings])
        assert.ok(f.path.startsWith("spec.hooks") && f.message.length > 0);
    }),
    { numRuns: 300 },
  );
});

test("normalizePodHooks is idempotent, only adds absent keys and never touches a hook with an error", () => {
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 8 }), (annotations) => {
      const pod: PodLike = {
        metadata: { name: "p", namespace: "n", annotations },
        spec: { containers: [{ name: "app" }, { name: "proxy" }] },
      };
      const { edits } = normalizePodHooks(pod);
      // GitOps-safe: a key the user wrote is never in the edits
      assert.ok(
        edits.every((e) => annotations[e.key] === undefined),
        JSON.stringify({ annotations, edits }),
      );
      const after: PodLike = {
        ...pod,
        metadata: {
          ...pod.metadata,
          annotations: { ...annotations, ...Object.fromEntries(edits.map((e) => [e.key, e.value])) },
        },
      };
      assert.deepEqual(normalizePodHooks(after).edits, []);
      // the effective hooks are unchanged by normalisation
      const before = parsePodHooks(pod);
      const normalised = parsePodHooks(after);
      for (const phase of ["pre", "post"] as const) {
        const a = before[phase];
        const b = normalised[phase];
        assert.deepEqual(
          b && { argv: b.argv, container: b.container, onError: b.onError, timeoutMs: b.timeoutMs },
          a && { argv: a.argv, container: a.container, onError: a.onError, timeoutMs: a.timeoutMs },
        );
        if (a && [...a.blockers, ...a.warnings].some((f) => f.severity === "error")) {
          assert.ok(
            edits.every((e) => !e.key.startsWith(`${phase}.`)),
            JSON.stringify({ annotations, edits }),
          );
        }
      }
    }),
    { numRuns: 500 },
  );
});

test("an annotation key whose hook domain is misspelt by one or two edits is always reported", () => {
  const domains = [
    "pre.hook.backup.velero.io",
    "post.hook.backup.velero.io",
    "hook.backup.velero.io",
    "post.hook.restore.velero.io",
    "init.hook.restore.velero.io",
  ];
  const edit = fc.record({
    at: fc.nat(),
    kind: fc.constantFrom("substitute", "delete", "insert"),
    char: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz.-"),
  });
  const apply = (s: string, e: { at: number; kind: string; char: string }): string => {
    const i = e.at % (s.length + 1);
    if (e.kind === "insert") return s.slice(0, i) + e.char + s.slice(i);
    if (i === s.length) return s;
    return e.kind === "delete" ? s.slice(0, i) + s.slice(i + 1) : s.slice(0, i) + e.char + s.slice(i + 1);
  };
  fc.assert(
    fc.property(
      fc.constantFrom(...domains),
      fc.array(edit, { minLength: 1, maxLength: 2 }),
      (domain, edits) => {
        const misspelt = edits.reduce(apply, domain);
        if (domains.includes(misspelt)) return;
        const key = `${misspelt}/command`;
        const pod = {
          apiVersion: "v1",
          kind: "Pod",
          metadata: {
            name: "p",
            annotations: { [key]: '["/bin/true"]', "kubectl.kubernetes.io/default-container": "app" },
          },
          spec: { containers: [{ name: "app" }] },
        };
        const findings = validateObject(pod).findings.filter((f) => f.code === "unknown-key");
        assert.deepEqual(
          findings.map((f) => f.path),
          [`metadata.annotations[${JSON.stringify(key)}]`],
          `typo ${key} not reported`,
        );
      },
    ),
    { numRuns: 500 },
  );
});
