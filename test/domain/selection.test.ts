import { test } from "node:test";
import assert from "node:assert/strict";
import {
  compileGlob,
  matchLabelSelector,
  matchNamespace,
  resourceHookAppliesTo,
  resourceIncluded,
} from "../../src/domain/index.js";
import type { ResourceHookSpec } from "../../src/domain/index.js";

test("matchNamespace: gobwas/glob include/exclude semantics", () => {
  const rows: Array<[string, string[], string[], boolean]> = [
    ["a", [], [], true],
    ["a", ["*"], [], true],
    ["team-a", ["team-*"], [], true],
    ["team-a", ["team-?"], [], true],
    ["team-ab", ["team-?"], [], false],
    ["team-a", ["team-[ab]"], [], true],
    ["team-c", ["team-[!ab]"], [], true],
    ["team-a", ["team-[!ab]"], [], false],
    ["team-x", ["team-[a-z]"], [], true],
    ["prod", ["{prod,stage}"], [], true],
    ["dev", ["{prod,stage}"], [], false],
    ["team-a", ["team-*"], ["team-a"], false],
    ["team-a", ["*"], ["team-*"], false],
    ["a.b", ["a?b"], [], true],
    ["a*b", ["a\\*b"], [], true],
    ["axb", ["a\\*b"], [], false],
    ["other", ["app"], [], false],
    // a pattern that fails to compile ends the set match with false (Velero globStringSet.match, sorted order)
    ["app", ["app-[", "app"], [], true],
    ["zzz", ["a[", "zzz"], [], false],
    ["app", [], ["["], true],
  ];
  for (const [ns, inc, exc, want] of rows)
    assert.equal(matchNamespace(ns, inc, exc), want, `${ns} ${inc} ${exc}`);
});

test("compileGlob rejects unclosed classes, braces and trailing escapes", () => {
  for (const bad of ["a[", "{a,b", "a\\", "[]"]) assert.equal(compileGlob(bad), null, bad);
  for (const good of ["*", "a-*", "{a,b}", "[!x]", "a}b"]) assert.notEqual(compileGlob(good), null, good);
});

test("resourceIncluded resolves shortcuts and ignores * in excludes", () => {
  const rows: Array<[string, string[], string[], boolean]> = [
    ["pods", [], [], true],
    ["pods", ["po"], [], true],
    ["pods", ["pod"], [], true],
    ["pods", ["deployments"], [], false],
    ["pods", ["deploy", "pods"], [], true],
    ["pods", [], ["pods"], false],
    ["pods", [], ["*"], true],
    ["pods", ["p*"], [], true],
    ["persistentvolumeclaims", ["pvc"], [], true],
    ["persistentvolumes", ["pv"], [], true],
    ["persistentvolumes", ["pvc"], [], false],
    ["pvc", ["persistentvolumeclaims"], [], true],
  ];
  for (const [r, inc, exc, want] of rows)
    assert.equal(resourceIncluded(r, inc, exc), want, `${r} ${inc} ${exc}`);
});

test("matchLabelSelector: all four operators and matchLabels", () => {
  const labels = { app: "db", tier: "data" };
  const rows: Array<[Parameters<typeof matchLabelSelector>[0], boolean]> = [
    [undefined, true],
    [{}, true],
    [{ matchLabels: { app: "db" } }, true],
    [{ matchLabels: { app: "web" } }, false],
    [{ matchExpressions: [{ key: "app", operator: "In", values: ["db", "x"] }] }, true],
    [{ matchExpressions: [{ key: "app", operator: "In", values: ["x"] }] }, false],
    [{ matchExpressions: [{ key: "app", operator: "NotIn", values: ["x"] }] }, true],
    [{ matchExpressions: [{ key: "missing", operator: "NotIn", values: ["x"] }] }, true],
    [{ matchExpressions: [{ key: "app", operator: "NotIn", values: ["db"] }] }, false],
    [{ matchExpressions: [{ key: "tier", operator: "Exists" }] }, true],
    [{ matchExpressions: [{ key: "nope", operator: "Exists" }] }, false],
    [{ matchExpressions: [{ key: "nope", operator: "DoesNotExist" }] }, true],
    [{ matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, false],
  ];
  for (const [sel, want] of rows)
    assert.deepEqual(matchLabelSelector(sel, labels), { ok: true, value: want }, JSON.stringify(sel));
  assert.equal(matchLabelSelector({ matchExpressions: [{ key: "a", operator: "In" }] }, labels).ok, false);
  assert.equal(
    matchLabelSelector({ matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] }, labels).ok,
    false,
  );
  assert.deepEqual(matchLabelSelector({ matchExpressions: [{ key: "a", operator: "exists" }] }, labels), {
    ok: false,
    error: `"exists" is not a valid label selector operator`,
  });
});

test("resourceHookAppliesTo combines namespace, resource and labels", () => {
  const spec = (over: Partial<ResourceHookSpec>): ResourceHookSpec => ({
    name: "h",
    index: 0,
    includedNamespaces: [],
    excludedNamespaces: [],
    includedResources: [],
    excludedResources: [],
    pre: [],
    post: [],
    ...over,
  });
  assert.equal(resourceHookAppliesTo(spec({}), { namespace: "x" }), true);
  assert.equal(resourceHookAppliesTo(spec({ includedNamespaces: ["y"] }), { namespace: "x" }), false);
  assert.equal(
    resourceHookAppliesTo(spec({ includedResources: ["deployments"] }), { namespace: "x" }),
    false,
  );
  assert.equal(
    resourceHookAppliesTo(spec({ labelSelector: { matchLabels: { app: "db" } } }), {
      namespace: "x",
      labels: { app: "db" },
    }),
    true,
  );
  assert.equal(
    resourceHookAppliesTo(spec({ labelSelector: { matchLabels: { app: "db" } } }), { namespace: "x" }),
    false,
  );
  assert.equal(
    resourceHookAppliesTo(spec({ labelSelector: { matchExpressions: [{ key: "a", operator: "Foo" }] } }), {
      namespace: "x",
    }),
    false,
  );
});
