// Spawns the real `hookguard lint` binary (async child processes) on fixture files.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { runProcess, type ProcessResult } from "../helpers/process.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const fx = (name: string): string => `test/fixtures/lint/${name}`;

function lint(args: string[], stdin?: string): Promise<ProcessResult> {
  return runProcess(process.execPath, ["bin/hookguard.js", "lint", ...args], {
    cwd: root,
    input: stdin ?? "",
  });
}

// Every run starts the real CLI (tsx + all command modules), which is slow on a loaded machine:
// runs are combined where one invocation shows several behaviours, and tests run concurrently.
describe("hookguard lint", { concurrency: 4 }, () => {
  test("text output: one line per finding at the field's line; multi-doc, List items, directories with -R; other kinds skipped", async () => {
    const r = await lint([
      "-R",
      fx("valid.yaml"),
      fx("invalid.yaml"),
      fx("list-and-multidoc.yaml"),
      fx("dir"),
    ]);
    assert.equal(r.code, 1);
    assert.deepEqual(r.stdout.trimEnd().split("\n"), [
      `${fx("invalid.yaml")}:16: error: Deployment data/db: spec.template.metadata.annotations["pre.hook.backup.velero.io/on-error"]: on-error "continue" is not valid: values are case-sensitive; did you mean "Continue"?`,
      `${fx("invalid.yaml")}:17: error: Deployment data/db: spec.template.metadata.annotations["pre.hook.backup.velero.io/timeout"]: timeout "300" is not a Go duration (time: missing unit in duration "300"); write e.g. "300s"`,
      `${fx("list-and-multidoc.yaml")}:10: warning: Pod a/first: metadata.annotations["post.hook.backup.velero.io/container"]: ignored: no post.hook.backup.velero.io/command; add it or drop this key`,
      `${fx("list-and-multidoc.yaml")}:34: error: Schedule velero/nightly: spec.template.hooks.resources[0].pre[0].exec.onError: onError "fail" is not valid: values are case-sensitive; did you mean "Fail"?`,
      `${fx("dir/nested/pod.yml")}:7: error: Pod n/nested: metadata.annotations["pre.hook.backup.velero.io/timeout"]: timeout "1d" is not a Go duration (time: unknown unit "d" in duration "1d"); write e.g. "24h"`,
      `${fx("dir/pod.json")}:8: error: Pod j/from-json: metadata.annotations["pre.hook.backup.velero.io/command"]: command "[oops" starts with "[" but is not a JSON array of strings (malformed JSON); write ["oops"]`,
    ]);
    // valid.yaml: a Pod and a CronJob checked, its ConfigMap skipped although it has a bad value
    assert.match(r.stderr, /5 error\(s\), 1 warning\(s\) in 7 object\(s\) from 5 file\(s\)/);
  });

  test("--output json prints one object with counts; - reads stdin, named <stdin>", async () => {
    const r = await lint(
      ["--output", "json", "-", fx("warnings-only.yaml")],
      await readFile(join(root, fx("invalid.yaml")), "utf8"),
    );
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as {
      findings: Array<Record<string, unknown>>;
      errorCount: number;
      warningCount: number;
    };
    assert.equal(out.errorCount, 2);
    assert.equal(out.warningCount, 2);
    assert.deepEqual(out.findings[0], {
      file: "<stdin>",
      line: 16,
      kind: "Deployment",
      namespace: "data",
      name: "db",
      severity: "error",
      path: `spec.template.metadata.annotations["pre.hook.backup.velero.io/on-error"]`,
      message: `on-error "continue" is not valid: values are case-sensitive; did you mean "Continue"?`,
      code: "on-error-invalid",
    });
    assert.deepEqual(
      out.findings.slice(2).map((f) => [f.name, f.namespace, f.code, f.line]),
      [
        ["spaced", "", "command-whitespace", 6],
        ["legacy", "", "legacy-keys", 17],
      ],
    );
  });

  test("a directory without -R is read without its subdirectories; a file given twice is reported once", async () => {
    const r = await lint(["--output", "json", fx("dir"), fx("dir/pod.json"), `${fx("dir")}/../dir/pod.json`]);
    const out = JSON.parse(r.stdout) as { findings: Array<{ file: string; code: string }> };
    assert.deepEqual(
      out.findings.map((f) => [f.file, f.code]),
      [[fx("dir/pod.json"), "command-json-invalid"]],
    );
    assert.equal(r.code, 1);
    const text = await lint([fx("dir"), fx("dir/pod.json")]);
    assert.match(text.stderr, /1 error\(s\), 0 warning\(s\) in 1 object\(s\) from 1 file\(s\)/);
  });

  test("warnings alone exit 0 (valid files add nothing); --strict makes them fail", async () => {
    const plain = await lint([fx("valid.yaml"), fx("warnings-only.yaml")]);
    assert.equal(plain.code, 0);
    assert.deepEqual(
      plain.stdout
        .trimEnd()
        .split("\n")
        .map((l) => l.split(":")[0]),
      [fx("warnings-only.yaml"), fx("warnings-only.yaml")],
    );
    const strict = await lint(["--strict", fx("warnings-only.yaml")]);
    assert.equal(strict.code, 1);
  });

  test("invalid YAML and YAML alias bombs: exit 2 naming each file (and the line)", async () => {
    const r = await lint([fx("broken-yaml.yaml"), fx("alias-bomb.yaml")]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^error: test\/fixtures\/lint\/broken-yaml\.yaml: invalid YAML\/JSON: line \d+: /m,
    );
    assert.match(
      r.stderr,
      /^error: test\/fixtures\/lint\/alias-bomb\.yaml: invalid YAML\/JSON: Excessive alias count/m,
    );
  });

  test("unreadable paths: exit 2 naming the path, other files still linted", async () => {
    const r = await lint([fx("missing.yaml"), `${fx("valid.yaml")}/child.yaml`, fx("invalid.yaml")]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^error: test\/fixtures\/lint\/missing\.yaml: cannot read: no such file or directory/m,
    );
    assert.match(r.stderr, /^error: test\/fixtures\/lint\/valid\.yaml\/child\.yaml: cannot read: /m);
    assert.equal(r.stdout.trimEnd().split("\n").length, 2);
  });

  test("usage errors exit 2: no path, unknown output format", async () => {
    const none = await lint([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /missing PATH \(files, directories or - for stdin\), or --cluster/);
    const bad = await lint(["-o", "xml", fx("valid.yaml")]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Allowed choices are text, json/);
  });

  test("examples/ lint clean and every examples/broken file is flagged", async () => {
    // as the README shows it: the directory, not its broken/ subdirectory
    const clean = await lint(["--strict", "examples/"]);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stderr, /0 error\(s\), 0 warning\(s\) in \d+ object\(s\) from 4 file\(s\)/);
    const broken = await lint(["--output", "json", "examples/broken"]);
    const out = JSON.parse(broken.stdout) as { findings: Array<{ file: string; code: string }> };
    const codesByFile = new Map<string, string[]>();
    for (const f of out.findings) codesByFile.set(f.file, [...(codesByFile.get(f.file) ?? []), f.code]);
    assert.deepEqual(
      Object.fromEntries([...codesByFile].map(([f, c]) => [f.replace("examples/broken/", ""), c])),
      {
        "backup-spec-mistakes.yaml": [
          "selector-operator-invalid",
          "on-error-invalid",
          "timeout-invalid",
          "restore-only-field",
          "name-empty",
          "resources-exclude-pods",
        ],
        "block-scalar-newline.yaml": ["on-error-invalid", "timeout-invalid"],
        "broken-json-command.yaml": ["command-json-invalid"],
        "fsfreeze-unprivileged.yaml": ["fsfreeze-unprivileged", "fsfreeze-unprivileged"],
        "hooks-on-workload-metadata.yaml": ["hook-on-workload", "hook-on-workload"],
        "missing-container.yaml": ["container-not-found", "container-init"],
        "namespace-patterns.yaml": ["namespace-pattern-unmatchable", "hook-namespaces-not-in-backup"],
        "on-error-lowercase.yaml": ["on-error-invalid"],
        "one-shot-database-locks.yaml": [
          "mysql-lock-released",
          "pg-backup-removed",
          "bash-on-alpine",
          "pg-backup-session",
        ],
        "shell-string-command.yaml": ["command-shell-string"],
        "timeout-without-unit.yaml": ["timeout-invalid", "timeout-invalid"],
        "typo-in-key.yaml": ["unknown-key"],
        "typographic-quotes.yaml": ["command-typographic-quotes"],
      },
    );
    assert.equal(broken.code, 1);
  });
});
