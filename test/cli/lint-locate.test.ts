// In-process checks of the lint module: field paths to source lines, identities, exit codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { splitFieldPath } from "../../src/lint/locate.js";
import { exitCodeOf, lintSource } from "../../src/lint/lint.js";

test("splitFieldPath understands dotted fields, indices and quoted annotation keys", () => {
  assert.deepEqual(
    splitFieldPath(`spec.template.metadata.annotations["pre.hook.backup.velero.io/timeout"]`),
    ["spec", "template", "metadata", "annotations", "pre.hook.backup.velero.io/timeout"],
  );
  assert.deepEqual(splitFieldPath("spec.hooks.resources[0].pre[12].exec.command[1]"), [
    "spec",
    "hooks",
    "resources",
    0,
    "pre",
    12,
    "exec",
    "command",
    1,
  ]);
  assert.deepEqual(splitFieldPath(`a.matchLabels["x\\"y"]`), ["a", "matchLabels", `x"y`]);
});

const text = `apiVersion: velero.io/v1
kind: Backup
metadata:
  name: b
  namespace: velero
spec:
  hooks:
    resources:
      - includedNamespaces: [a]
        pre:
          - exec:
              command: ["/bin/sync"]
              timeout: 5 minutes
---
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "annotations": {"post.hook.backup.velero.io/command": "[]"}},
 "spec": {"containers": [{"name": "c"}]}}
`;

test("findings point at the field's line, or the nearest existing parent for a missing field", () => {
  const report = lintSource({ file: "x.yaml", text });
  assert.deepEqual(
    report.findings.map((f) => [f.line, f.kind, f.namespace, f.name, f.code]),
    [
      [9, "Backup", "velero", "b", "name-missing"],
      [13, "Backup", "velero", "b", "timeout-invalid"],
      [15, "Pod", "", "p", "command-empty-array"],
    ],
  );
  assert.equal(report.objectsChecked, 2);
  assert.equal(exitCodeOf(report, false), 1);
});

test("documents that are not objects, empty documents and comments are skipped", () => {
  const report = lintSource({ file: "y.yaml", text: "# only a comment\n---\n- a\n- b\n---\n42\n---\n" });
  assert.deepEqual(report, { findings: [], problems: [], objectsChecked: 0 });
  assert.equal(exitCodeOf(report, true), 0);
});

test("duplicate keys make the file invalid (exit 2) rather than silently picking one", () => {
  const report = lintSource({ file: "d.yaml", text: "kind: Pod\nkind: Pod\n" });
  assert.equal(report.problems.length, 1);
  assert.match(report.problems[0]!.message, /^invalid YAML\/JSON: line 2: /);
  assert.equal(exitCodeOf(report, false), 2);
});
