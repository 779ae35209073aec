// Backup/Schedule spec hooks: edge cases E25-E37 (docs/velero-hook-semantics.md) and every spec finding.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  matchLabelSelector,
  parseBackupHooks,
  resolvePodHooks,
  validateObject,
} from "../../src/domain/index.js";
import { PRE, POST, brief, essence, pod } from "./builders.js";

const R = "spec.hooks.resources";
const exec = (command: unknown, more: Record<string, unknown> = {}) => ({ exec: { command, ...more } });
const hooksOf = (...resources: unknown[]) => ({ resources });

test("E25 spec hook without onError: effective Fail, not explicit, no finding", () => {
  const r = parseBackupHooks(hooksOf({ name: "h", pre: [exec(["/bin/false"])] }));
  assert.deepEqual(r.findings, []);
  assert.deepEqual(essence(r.resources[0]!.pre[0]), {
    argv: ["/bin/false"],
    container: "",
    onError: "Fail",
    timeoutMs: 30000,
    legacy: false,
  });
  assert.equal(r.resources[0]!.pre[0]!.onErrorExplicit, false);
  assert.equal(r.resources[0]!.pre[0]!.source, "spec");
});

test("E26 spec pre hooks keep their order, index and onError", () => {
  const r = parseBackupHooks(
    hooksOf({
      name: "h",
      pre: [
        exec(["h0"]),
        exec(["h1"], { onError: "Fail" }),
        exec(["h2"], { onError: "Continue", timeout: "2m" }),
      ],
    }),
  );
  assert.deepEqual(
    r.resources[0]!.pre.map((h) => [
      h.argv[0],
      h.index,
      h.resourceIndex,
      h.onError,
      h.onErrorExplicit,
      h.timeoutMs,
    ]),
    [
      ["h0", 0, 0, "Fail", false, 30000],
      ["h1", 1, 0, "Fail", true, 30000],
      ["h2", 2, 0, "Continue", true, 120000],
    ],
  );
});

test("E27 empty name is an error and blocks every hook of the entry", () => {
  const r = parseBackupHooks(hooksOf({ name: "", pre: [exec(["a"])], post: [exec(["b"])] }));
  assert.deepEqual(brief(r.findings), [`error name-empty ${R}[0].name`]);
  assert.deepEqual(
    r.resources[0]!.pre[0]!.blockers.map((b) => b.code),
    ["name-empty"],
  );
  assert.deepEqual(
    r.resources[0]!.post[0]!.blockers.map((b) => b.code),
    ["name-empty"],
  );
});

test("E28 duplicate names: warning; both hooks still resolve for the pod", () => {
  const entry = { name: "q", pre: [exec(["/bin/sync"], { container: "db" })] };
  const r = parseBackupHooks(hooksOf(entry, entry));
  assert.deepEqual(brief(r.findings), [`warning name-duplicate ${R}[1].name`]);
  const resolved = resolvePodHooks(pod({}, { containers: [{ name: "db" }] }), r.resources, "pre");
  assert.deepEqual(
    resolved.hooks.map((h) => [h.name, h.resourceIndex, h.container]),
    [
      ["q", 0, "db"],
      ["q", 1, "db"],
    ],
  );
});

test("E29 includedResources [deployments]: warning, never applies", () => {
  const r = parseBackupHooks(hooksOf({ name: "h", includedResources: ["deployments"], pre: [exec(["a"])] }));
  assert.deepEqual(brief(r.findings), [`warning resources-exclude-pods ${R}[0].includedResources`]);
  const resolved = resolvePodHooks(pod({}), r.resources, "pre");
  assert.equal(resolved.source, "none");
  assert.deepEqual(resolved.skipped, [
    { reason: "includedResources/excludedResources do not select pods", hookName: "h", source: "spec" },
  ]);
});

test("excludedResources [pods]: warning at excludedResources", () => {
  const r = parseBackupHooks(hooksOf({ name: "h", excludedResources: ["po"], pre: [exec(["a"])] }));
  assert.deepEqual(brief(r.findings), [`warning resources-exclude-pods ${R}[0].excludedResources`]);
});

test("E30 includedResources [po] and [pod] resolve to pods", () => {
  for (const name of ["po", "pod", "pods", "Pods", "*"]) {
    const r = parseBackupHooks(hooksOf({ name: "h", includedResources: [name], pre: [exec(["a"])] }));
    assert.deepEqual(r.findings, [], name);
    assert.equal(resolvePodHooks(pod({}), r.resources, "pre").hooks.length, 1, name);
  }
});

test("E31 namespace globs; excludes win over includes", () => {
  const r = parseBackupHooks(
    hooksOf({
      name: "h",
      includedNamespaces: ["team-*"],
      excludedNamespaces: ["team-b"],
      pre: [exec(["a"])],
    }),
  );
  assert.deepEqual(r.findings, []);
  assert.equal(resolvePodHooks(pod({}, { namespace: "team-a" }), r.resources, "pre").hooks.length, 1);
  assert.equal(resolvePodHooks(pod({}, { namespace: "team-b" }), r.resources, "pre").hooks.length, 0);
  assert.equal(resolvePodHooks(pod({}, { namespace: "other" }), r.resources, "pre").hooks.length, 0);
});

test("E32 invalid selector operator: error; Velero's failure text from matchLabelSelector", () => {
  const sel = { matchExpressions: [{ key: "app", operator: "Foo", values: ["x"] }] };
  const r = parseBackupHooks(hooksOf({ name: "h", labelSelector: sel, pre: [exec(["a"])] }));
  assert.deepEqual(brief(r.findings), [
    `error selector-operator-invalid ${R}[0].labelSelector.matchExpressions[0].operator`,
  ]);
  assert.deepEqual(matchLabelSelector(sel, { app: "x" }), {
    ok: false,
    error: `"Foo" is not a valid label selector operator`,
  });
  assert.deepEqual(
    resolvePodHooks(pod({}), r.resources, "pre").skipped[0]?.reason,
    `invalid labelSelector: "Foo" is not a valid label selector operator`,
  );
});

test("E33 onError fail: error with the right case suggested", () => {
  const r = parseBackupHooks(hooksOf({ name: "h", pre: [exec(["a"], { onError: "fail" })] }));
  assert.deepEqual(brief(r.findings), [`error on-error-invalid ${R}[0].pre[0].exec.onError`]);
  assert.equal(
    r.findings[0]!.message,
    `onError "fail" is not valid: values are case-sensitive; did you mean "Fail"?`,
  );
});

test('E34 timeout 10 (number) and "10 seconds" are errors', () => {
  const r = parseBackupHooks(
    hooksOf({ name: "h", pre: [exec(["a"], { timeout: 10 }), exec(["b"], { timeout: "10 seconds" })] }),
  );
  assert.deepEqual(brief(r.findings), [
    `error type-invalid ${R}[0].pre[0].exec.timeout`,
    `error timeout-invalid ${R}[0].pre[1].exec.timeout`,
  ]);
  assert.equal(
    r.findings[0]!.message,
    `timeout must be a string, not number 10; quote it as a Go duration, e.g. "30s"`,
  );
});

test('E35 command [] / missing exec / [""]', () => {
  const r = parseBackupHooks(hooksOf({ name: "h", pre: [exec([]), {}, exec([""])] }));
  assert.deepEqual(brief(r.findings), [
    `error command-empty-array ${R}[0].pre[0].exec.command`,
    `error exec-missing ${R}[0].pre[1].exec`,
    `error command-empty-element ${R}[0].pre[2].exec.command[0]`,
  ]);
  // entries without exec are skipped as Velero does; the others are kept with blockers
  assert.deepEqual(
    r.resources[0]!.pre.map((h) => [h.index, h.blockers.map((b) => b.code)]),
    [
      [0, ["command-empty-array"]],
      [2, ["command-empty-element"]],
    ],
  );
});

test("E36 post annotation + spec pre/post: pre from spec, post from annotation", () => {
  const r = parseBackupHooks(hooksOf({ name: "h", pre: [exec(["spec-pre"])], post: [exec(["spec-post"])] }));
  const p = pod({ [POST + "command"]: '["ann-post"]' });
  const pre = resolvePodHooks(p, r.resources, "pre");
  const post = resolvePodHooks(p, r.resources, "post");
  assert.deepEqual([pre.source, pre.hooks.map((h) => h.argv[0])], ["spec", ["spec-pre"]]);
  assert.deepEqual([post.source, post.hooks.map((h) => h.argv[0])], ["annotation", ["ann-post"]]);
  assert.deepEqual(post.skipped, [
    {
      reason: "the pod's post annotation hook overrides spec hooks for this phase",
      hookName: "h",
      source: "spec",
    },
  ]);
});

test("E37 pre annotation wins over matching spec pre hooks", () => {
  const r = parseBackupHooks(
    hooksOf({ name: "a", pre: [exec(["s1"]), exec(["s2"])] }, { name: "b", pre: [exec(["s3"])] }),
  );
  const resolved = resolvePodHooks(pod({ [PRE + "command"]: '["ann"]' }), r.resources, "pre");
  assert.deepEqual(
    resolved.hooks.map((h) => [h.source, h.argv[0]]),
    [["annotation", "ann"]],
  );
  assert.deepEqual(
    resolved.skipped.map((s) => s.hookName),
    ["a", "a", "b"],
  );
});

test("restore-only fields are errors (the API server prunes them silently)", () => {
  const r = parseBackupHooks(
    hooksOf({ name: "h", pre: [exec(["a"], { execTimeout: "1m", waitTimeout: "2m", waitForReady: true })] }),
  );
  assert.deepEqual(brief(r.findings), [
    `error restore-only-field ${R}[0].pre[0].exec.execTimeout`,
    `error restore-only-field ${R}[0].pre[0].exec.waitTimeout`,
    `error restore-only-field ${R}[0].pre[0].exec.waitForReady`,
  ]);
  const postHooks = parseBackupHooks(hooksOf({ name: "h", postHooks: [exec(["a"])] }));
  assert.deepEqual(brief(postHooks.findings), [
    `error restore-only-field ${R}[0].postHooks`,
    `warning no-hooks ${R}[0]`,
  ]);
});

test("unknown fields are warnings with a suggestion", () => {
  const r = parseBackupHooks(
    hooksOf({ name: "h", includedNamespace: ["a"], pre: [exec(["a"], { onerror: "Fail" })] }),
  );
  assert.deepEqual(brief(r.findings), [
    `warning unknown-field ${R}[0].includedNamespace`,
    `warning unknown-field ${R}[0].pre[0].exec.onerror`,
  ]);
  assert.equal(
    r.findings[1]!.message,
    `unknown field "onerror" is pruned by the API server; did you mean "onError"?`,
  );
});

test("missing name, label selector values rules, invalid globs", () => {
  const r = parseBackupHooks(
    hooksOf({
      includedNamespaces: ["app-[", "ok-*"],
      excludedNamespaces: ["{a,b"],
      labelSelector: {
        matchLabels: { app: "bad value!" },
        matchExpressions: [
          { key: "a", operator: "In" },
          { key: "b", operator: "NotIn", values: [] },
          { key: "c", operator: "Exists", values: ["x"] },
          { key: "d", operator: "DoesNotExist" },
        ],
      },
      pre: [exec(["a"])],
    }),
  );
  assert.deepEqual(brief(r.findings), [
    `error name-missing ${R}[0].name`,
    `error namespace-glob-invalid ${R}[0].includedNamespaces[0]`,
    `error namespace-glob-invalid ${R}[0].excludedNamespaces[0]`,
    `error selector-label-invalid ${R}[0].labelSelector.matchLabels["app"]`,
    `error selector-values-missing ${R}[0].labelSelector.matchExpressions[0].values`,
    `error selector-values-missing ${R}[0].labelSelector.matchExpressions[1].values`,
    `error selector-values-unexpected ${R}[0].labelSelector.matchExpressions[2].values`,
  ]);
});

test("spec command checks: whitespace, shell syntax, typographic quotes", () => {
  const r = parseBackupHooks(
    hooksOf({
      name: "h",
      pre: [
        exec(["/bin/sh -c sync"]),
        exec(["mysql", "-e", "a; b"]),
        exec(["\u201csync\u201d"]),
        exec(["/bin/sh", "-c", "a && b"]),
      ],
    }),
  );
  assert.deepEqual(brief(r.findings), [
    `error command-shell-string ${R}[0].pre[0].exec.command[0]`,
    `warning command-shell-syntax ${R}[0].pre[1].exec.command[2]`,
    `error command-typographic-quotes ${R}[0].pre[2].exec.command[0]`,
  ]);
});

test("spec timeouts: negative error, zero warning, valid value in ms", () => {
  const r = parseBackupHooks(
    hooksOf({
      name: "h",
      post: [
        exec(["a"], { timeout: "-1s" }),
        exec(["b"], { timeout: "0s" }),
        exec(["c"], { timeout: "1h30m" }),
      ],
    }),
  );
  assert.deepEqual(brief(r.findings), [
    `error timeout-negative ${R}[0].post[0].exec.timeout`,
    `warning timeout-zero ${R}[0].post[1].exec.timeout`,
  ]);
  assert.deepEqual(
    r.resources[0]!.post.map((h) => h.timeoutMs),
    [30000, 30000, 5_400_000],
  );
});

test("wrong shapes are reported, never thrown", () => {
  for (const bad of [
    "x",
    3,
    [],
    { resources: "x" },
    { resources: [null, 5, { name: 3 }] },
    { resources: [{ name: "h", pre: "x" }] },
  ]) {
    const r = parseBackupHooks(bad);
    assert.ok(r.findings.length > 0, JSON.stringify(bad));
    assert.ok(
      r.findings.every((f) => f.path.startsWith("spec.hooks")),
      JSON.stringify(r.findings),
    );
  }
  assert.deepEqual(parseBackupHooks(undefined), { resources: [], findings: [] });
  assert.deepEqual(parseBackupHooks({}), { resources: [], findings: [] });
});

test("Schedule hooks are validated under spec.template.hooks", () => {
  const schedule = {
    apiVersion: "velero.io/v1",
    kind: "Schedule",
    metadata: { name: "s" },
    spec: {
      schedule: "0 1 * * *",
      template: { hooks: hooksOf({ name: "h", pre: [exec(["a"], { onError: "continue" })] }) },
    },
  };
  assert.deepEqual(brief(validateObject(schedule).findings), [
    `error on-error-invalid spec.template.hooks.resources[0].pre[0].exec.onError`,
  ]);
  const backup = {
    apiVersion: "velero.io/v1",
    kind: "Backup",
    metadata: { name: "b" },
    spec: { hooks: hooksOf({ name: "", pre: [exec(["a"])] }) },
  };
  assert.deepEqual(brief(validateObject(backup).findings), [`error name-empty spec.hooks.resources[0].name`]);
  assert.equal(validateObject({ apiVersion: "velero.io/v1", kind: "Restore", spec: {} }).handled, false);
});

test("field names that collide with Object.prototype are ordinary unknown fields", () => {
  const r = parseBackupHooks({
    toString: 0,
    resources: [
      { name: "h", includedResources: ["constructor"], pre: [{ exec: { command: ["a"], valueOf: 1 } }] },
    ],
  });
  assert.deepEqual(brief(r.findings), [
    `warning unknown-field spec.hooks.toString`,
    `warning unknown-field ${R}[0].pre[0].exec.valueOf`,
    `warning resources-exclude-pods ${R}[0].includedResources`,
  ]);
});

test("hooks the Backup itself makes unreachable are warnings (Backup and Schedule)", () => {
  const hooks = hooksOf(
    { name: "db", includedNamespaces: ["db"], pre: [exec(["a"])] },
    { name: "any", includedNamespaces: ["team-*"], pre: [exec(["b"])] },
  );
  const backup = (spec: Record<string, unknown>) => ({
    apiVersion: "velero.io/v1",
    kind: "Backup",
    metadata: { name: "b" },
    spec: { ...spec, hooks },
  });
  // "db" is not in the backup, and no namespace matches both "team-*" and "web"
  assert.deepEqual(brief(validateObject(backup({ includedNamespaces: ["web"] })).findings), [
    `warning hook-namespaces-not-in-backup ${R}[0].includedNamespaces`,
    `warning hook-namespaces-not-in-backup ${R}[1].includedNamespaces`,
  ]);
  assert.deepEqual(
    brief(validateObject(backup({ includedNamespaces: ["*"], excludedNamespaces: ["db"] })).findings),
    [`warning hook-namespaces-not-in-backup ${R}[0].includedNamespaces`],
  );
  assert.deepEqual(brief(validateObject(backup({ includedNamespaces: ["d*"] })).findings), [
    `warning hook-namespaces-not-in-backup ${R}[1].includedNamespaces`,
  ]);
  assert.deepEqual(brief(validateObject(backup({ includedNamespaces: ["d*", "t*"] })).findings), []);
  assert.deepEqual(brief(validateObject(backup({})).findings), []);
  assert.deepEqual(brief(validateObject(backup({ includedResources: ["deployments", "pvc"] })).findings), [
    `warning backup-excludes-pods spec.includedResources`,
  ]);
  assert.deepEqual(brief(validateObject(backup({ excludedResources: ["pods"] })).findings), [
    `warning backup-excludes-pods spec.excludedResources`,
  ]);
  const schedule = {
    apiVersion: "velero.io/v1",
    kind: "Schedule",
    metadata: { name: "s" },
    spec: {
      schedule: "0 1 * * *",
      template: { includedResources: ["po"], includedNamespaces: ["web"], hooks },
    },
  };
  assert.deepEqual(brief(validateObject(schedule).findings), [
    `warning hook-namespaces-not-in-backup spec.template.hooks.resources[0].includedNamespaces`,
    `warning hook-namespaces-not-in-backup spec.template.hooks.resources[1].includedNamespaces`,
  ]);
});
