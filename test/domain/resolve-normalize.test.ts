import { test } from "node:test";
import assert from "node:assert/strict";
import {
  normalizePodHooks,
  parseBackupHooks,
  parsePodHooks,
  resolvePodHooks,
} from "../../src/domain/index.js";
import type { PodLike } from "../../src/domain/index.js";
import { LEGACY, POST, PRE, brief, pod } from "./builders.js";

test("spec hooks bind to the pod: container defaulted to the first container, missing container blocks", () => {
  const specs = parseBackupHooks({
    resources: [
      {
        name: "h",
        pre: [
          { exec: { command: ["a"] } },
          { exec: { command: ["b"], container: "db" } },
          { exec: { command: ["c"], container: "setup" } },
        ],
      },
    ],
  }).resources;
  const p = pod(
    {},
    { containers: [{ name: "web" }, { name: "sidecar" }], initContainers: [{ name: "setup" }] },
  );
  const resolved = resolvePodHooks(p, specs, "pre");
  assert.equal(resolved.source, "spec");
  assert.deepEqual(
    resolved.hooks.map((h) => [
      h.argv[0],
      h.containerAsWritten,
      h.container,
      h.blockers.map((b) => `${b.code} ${b.path}`),
    ]),
    [
      ["a", "", "web", []],
      ["b", "db", "db", ["container-not-found spec.hooks.resources[0].pre[1].exec.container"]],
      ["c", "setup", "setup", ["container-init spec.hooks.resources[0].pre[2].exec.container"]],
    ],
  );
  // the parsed specs themselves are not mutated by binding
  assert.equal(specs[0]!.pre[0]!.container, "");
});

test("spec fsfreeze hook on an unprivileged container gets a warning when bound", () => {
  const specs = parseBackupHooks({
    resources: [{ name: "h", pre: [{ exec: { command: ["/sbin/fsfreeze", "--freeze", "/d"] } }] }],
  }).resources;
  const hook = resolvePodHooks(pod({}), specs, "pre").hooks[0]!;
  assert.deepEqual(
    hook.warnings.map((w) => w.code),
    ["fsfreeze-unprivileged"],
  );
});

test("non-matching specs are explained in skipped; no hooks means source none", () => {
  const specs = parseBackupHooks({
    resources: [
      { name: "ns", includedNamespaces: ["other"], pre: [{ exec: { command: ["a"] } }] },
      { name: "labels", labelSelector: { matchLabels: { app: "db" } }, pre: [{ exec: { command: ["b"] } }] },
      { name: "postonly", post: [{ exec: { command: ["c"] } }] },
    ],
  }).resources;
  const resolved = resolvePodHooks(pod({}), specs, "pre");
  assert.equal(resolved.source, "none");
  assert.deepEqual(resolved.hooks, []);
  assert.deepEqual(resolved.skipped, [
    {
      reason: `namespace "ns1" is not selected by includedNamespaces/excludedNamespaces`,
      hookName: "ns",
      source: "spec",
    },
    { reason: "pod labels do not match labelSelector", hookName: "labels", source: "spec" },
  ]);
});

test("E17/E18: empty pre command or container-only annotation leaves spec hooks in charge", () => {
  const specs = parseBackupHooks({
    resources: [{ name: "h", pre: [{ exec: { command: ["spec"] } }] }],
  }).resources;
  for (const annotations of [{ [PRE + "command"]: "" }, { [PRE + "container"]: "proxy" }]) {
    const resolved = resolvePodHooks(pod(annotations), specs, "pre");
    assert.deepEqual([resolved.source, resolved.hooks.map((h) => h.argv[0])], ["spec", ["spec"]]);
  }
});

test("E19 legacy annotation counts as the pre annotation hook and overrides spec pre hooks", () => {
  const specs = parseBackupHooks({
    resources: [
      { name: "h", pre: [{ exec: { command: ["spec"] } }], post: [{ exec: { command: ["spec-post"] } }] },
    ],
  }).resources;
  const p = pod({ [LEGACY + "command"]: '["legacy"]' });
  assert.deepEqual(
    resolvePodHooks(p, specs, "pre").hooks.map((h) => [h.source, h.legacy, h.argv[0]]),
    [["annotation", true, "legacy"]],
  );
  assert.deepEqual(
    resolvePodHooks(p, specs, "post").hooks.map((h) => [h.source, h.argv[0]]),
    [["spec", "spec-post"]],
  );
});

function applied(p: PodLike, edits: Array<{ key: string; value: string }>): PodLike {
  const annotations = { ...(p.metadata?.annotations ?? {}) };
  for (const e of edits) annotations[e.key] = e.value;
  return { ...p, metadata: { ...p.metadata, annotations } };
}

test("normalizePodHooks adds the missing defaults, keeps a written command as it is, and is idempotent", () => {
  const p = pod({
    [PRE + "command"]: "/bin/sync",
    [POST + "command"]: '["/bin/true"]',
    [POST + "timeout"]: "1m",
  });
  const { edits, warnings } = normalizePodHooks(p);
  assert.deepEqual(edits, [
    { key: PRE + "container", value: "app" },
    { key: PRE + "on-error", value: "Fail" },
    { key: PRE + "timeout", value: "30s" },
    { key: POST + "container", value: "app" },
    { key: POST + "on-error", value: "Fail" },
  ]);
  // the single-word command is not rewritten to ["/bin/sync"] (GitOps tools would see drift): a warning says how
  assert.deepEqual(
    warnings.map((w) => [w.code, w.path, w.message]),
    [
      [
        "command-not-array",
        `metadata.annotations["${PRE}command"]`,
        `left as written; write ["/bin/sync"] to make the argv explicit`,
      ],
    ],
  );
  const after = applied(p, edits);
  assert.deepEqual(normalizePodHooks(after).edits, []);
  assert.deepEqual(brief(parsePodHooks(after).findings), []);
  assert.deepEqual(parsePodHooks(after).pre?.argv, ["/bin/sync"]);
  assert.equal(after.metadata?.annotations?.[PRE + "command"], "/bin/sync");
});

test("normalizePodHooks leaves an empty container key alone, with a warning naming the effective one", () => {
  const { edits, warnings } = normalizePodHooks(
    pod({ [PRE + "command"]: '["x"]', [PRE + "container"]: "" }),
    "spec.template.",
  );
  assert.deepEqual(edits, [
    { key: PRE + "on-error", value: "Fail" },
    { key: PRE + "timeout", value: "30s" },
  ]);
  assert.deepEqual(
    warnings.map((w) => [w.code, w.path]),
    [["container-empty", `spec.template.metadata.annotations["${PRE}container"]`]],
  );
});

test("normalizePodHooks never rewrites a phase with an error, nor legacy hooks, nor phases without a hook", () => {
  const none = { edits: [], warnings: [] };
  assert.deepEqual(
    normalizePodHooks(pod({ [PRE + "command"]: '["x"]', [PRE + "on-error"]: "continue" })),
    none,
  );
  assert.deepEqual(normalizePodHooks(pod({ [PRE + "command"]: "[broken" })), none);
  assert.deepEqual(normalizePodHooks(pod({ [PRE + "command"]: '["x"]', [PRE + "container"]: "nope" })), none);
  assert.deepEqual(normalizePodHooks(pod({ [LEGACY + "command"]: "/bin/sync" })), none);
  assert.deepEqual(normalizePodHooks(pod({ [PRE + "container"]: "app" })), none);
  // a phase with an error does not stop the other phase from being normalised
  assert.deepEqual(
    normalizePodHooks(
      pod({
        [PRE + "command"]: '["x"]',
        [PRE + "timeout"]: "300",
        [POST + "command"]: '["y"]',
        [POST + "container"]: "proxy",
        [POST + "on-error"]: "Continue",
      }),
    ).edits,
    [{ key: POST + "timeout", value: "30s" }],
  );
  // a warning (not an error) does not prevent normalising, and the warned value is left alone
  const spaced = pod({ [PRE + "command"]: "/usr/bin/backup now", [PRE + "timeout"]: "0" });
  assert.deepEqual(normalizePodHooks(spaced).edits, [
    { key: PRE + "container", value: "app" },
    { key: PRE + "on-error", value: "Fail" },
  ]);
});
