// The Velero double's renderings and rules on their own: Go quoting and durations, logrus' text and
// JSON lines, the results buckets, Velero's command/annotation parsing, selectors and the hook
// tracker per version, and the dev:velero flags.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseFlags } from "./flags.js";
import { formatGoDuration, goQuote, parseGoDuration } from "./go-format.js";
import {
  compileResourceHooks,
  globMatch,
  handleHooks,
  hookFromAnnotations,
  HookTracker,
  parseCommand,
  shouldInclude,
  type ExecOutcome,
  type ResourceHook,
} from "./hooks.js";
import { BackupLog, formatJson, formatText, GoValue, resultsJson } from "./logrus.js";
import { VERSIONS } from "./versions.js";

const T = new Date("2026-12-04T10:11:12.345Z");

test("goQuote is strconv.Quote", () => {
  assert.equal(goQuote('no such container: "x"'), '"no such container: \\"x\\""');
  assert.equal(goQuote("a\nb\tc\\"), '"a\\nb\\tc\\\\"');
  assert.equal(goQuote("\x01\x7f"), '"\\x01\\x7f"');
  assert.equal(goQuote("é ü 日本"), '"é ü 日本"');
  assert.equal(goQuote("\u00a0\u200b"), '"\\u00a0\\u200b"');
});

test("Go durations: parse errors as Velero logs them, String() as hookTimeout shows them", () => {
  assert.deepEqual(parseGoDuration("300"), { ok: false, error: 'time: missing unit in duration "300"' });
  assert.deepEqual(parseGoDuration("1d"), { ok: false, error: 'time: unknown unit "d" in duration "1d"' });
  assert.deepEqual(parseGoDuration(""), { ok: false, error: 'time: invalid duration ""' });
  assert.deepEqual(parseGoDuration("-5s"), { ok: true, ns: -5e9 });
  assert.deepEqual(parseGoDuration("0"), { ok: true, ns: 0 });
  assert.deepEqual(parseGoDuration("1h30m"), { ok: true, ns: 5400e9 });
  assert.deepEqual(parseGoDuration("1.5s"), { ok: true, ns: 1.5e9 });
  assert.equal(formatGoDuration(5400e9), "1h30m0s");
  assert.equal(formatGoDuration(30e9), "30s");
  assert.equal(formatGoDuration(150e9), "2m30s");
  assert.equal(formatGoDuration(-5e9), "-5s");
  assert.equal(formatGoDuration(250e6), "250ms");
  assert.equal(formatGoDuration(1.5e9), "1.5s");
});

test("logrus text: time level msg first, other keys sorted, bare only for [A-Za-z0-9-._/@^+], empty values bare", () => {
  const line = formatText({
    time: T,
    level: "warning",
    msg: "Backed up",
    fields: {
      progress: "",
      backup: "velero/b-1",
      hookTimeout: new GoValue("{30s}", "30s"),
      hookCommand: new GoValue("[/bin/sh -c echo hi]", ["/bin/sh", "-c", "echo hi"]),
      name: "a_b@c^d+e",
      error: 'x "y"',
    },
  });
  assert.equal(
    line,
    'time="2026-12-04T10:11:12Z" level=warning msg="Backed up" backup=velero/b-1 error="x \\"y\\"" hookCommand="[/bin/sh -c echo hi]" hookTimeout="{30s}" name=a_b@c^d+e progress=',
  );
  assert.equal(
    formatText({ time: T, level: "info", msg: "", fields: { a: "b" } }),
    'time="2026-12-04T10:11:12Z" level=info a=b',
    "an empty message is left out",
  );
});

test("logrus JSON: one object, keys sorted, arrays kept, HTML escaped, clashing fields renamed", () => {
  const line = formatJson({
    time: T,
    level: "error",
    msg: "Error <x> & y",
    fields: { hookCommand: new GoValue("[a b]", ["a", "b"]), "error.message": "boom", level: "clash" },
  });
  assert.equal(
    line,
    '{"error.message":"boom","fields.level":"clash","hookCommand":["a","b"],"level":"error","msg":"Error \\u003cx\\u003e \\u0026 y","time":"2026-12-04T10:11:12Z"}',
  );
});

test("the log counter: a namespace field picks the namespaces bucket, none goes to velero; JSON mode uses error.message", () => {
  const text = new BackupLog("text", { backup: "velero/b" });
  text.log(
    "error",
    "Error executing hook",
    "x.go:1",
    { name: "p", namespace: "shop", resource: "pods" },
    { message: "command terminated with exit code 1" },
  );
  text.log(
    "error",
    "Error executing hook",
    "x.go:1",
    {},
    {
      message: 'no such container: "c"',
      origin: { file: "/go/src/f.go:193", function: "pkg.ensureContainerExists" },
    },
  );
  text.log("warning", "w", "x.go:2", { namespace: "" });
  assert.deepEqual(text.counts, { warning: 1, error: 2 });
  assert.match(
    text.lines[1]!,
    / error="no such container: \\"c\\"" error.file="\/go\/src\/f.go:193" error.function=pkg.ensureContainerExists /,
  );
  assert.equal(
    resultsJson(text.results),
    '{"errors":{"namespaces":{"shop":[" resource: /pods name: /p message: /Error executing hook error: /command terminated with exit code 1"]},"velero":[" message: /Error executing hook error: /no such container: \\"c\\""]},"warnings":{"cluster":[" message: /w"]}}\n',
  );
  const json = new BackupLog("json", { backup: "velero/b" });
  json.log("error", "Error executing hook", "x.go:1", {}, { message: "boom" });
  assert.equal(JSON.parse(json.lines[0]!)["error.message"], "boom");
  assert.deepEqual(json.results.errors, { velero: [" message: /Error executing hook error: /boom"] });
});

test("Velero's command parsing: JSON only from a leading [ that decodes as strings, else one argv word", () => {
  assert.deepEqual(parseCommand('["/bin/sh","-c","echo hi"]'), ["/bin/sh", "-c", "echo hi"]);
  assert.deepEqual(parseCommand('/bin/sh -c "echo hi"'), ['/bin/sh -c "echo hi"']);
  assert.deepEqual(parseCommand("[blarg"), ["[blarg"]);
  assert.deepEqual(parseCommand(' ["a"]'), [' ["a"]']);
  assert.deepEqual(parseCommand('["a", 1]'), ['["a", 1]']);
  assert.deepEqual(parseCommand("['/bin/sync']"), ["['/bin/sync']"]);
  assert.deepEqual(parseCommand("[]"), []);
});

test("annotation hooks: on-error copied only when exact, bad timeouts warned and ignored, negative kept", () => {
  const warnings: string[] = [];
  const h = hookFromAnnotations(
    {
      "pre.hook.backup.velero.io/command": "/bin/sync",
      "pre.hook.backup.velero.io/on-error": "continue",
      "pre.hook.backup.velero.io/timeout": "1d",
    },
    "pre",
    (m) => warnings.push(m),
  );
  assert.deepEqual(h, { container: "", command: ["/bin/sync"], onError: "", timeoutNs: 0 });
  assert.deepEqual(warnings, [
    'Unable to parse provided timeout 1d, using default: time: unknown unit "d" in duration "1d"',
  ]);
  assert.equal(
    hookFromAnnotations(
      { "post.hook.backup.velero.io/command": "x", "post.hook.backup.velero.io/timeout": "-5s" },
      "post",
      () => undefined,
    )?.timeoutNs,
    -5e9,
  );
  assert.equal(
    hookFromAnnotations({ "pre.hook.backup.velero.io/container": "c" }, "pre", () => undefined),
    undefined,
    "no command, no hook",
  );
  assert.equal(
    hookFromAnnotations({ "hook.backup.velero.io/command": "x" }, "", () => undefined)?.command[0],
    "x",
    "the legacy keys (read for pre only by the caller)",
  );
});

test("selectors: globs, exclude wins, pods resolved from short names, an unknown operator fails the backup", () => {
  assert.ok(globMatch("team-*", "team-a"));
  assert.ok(!globMatch("team-?", "team-ab"));
  assert.ok(globMatch("{a,b}-x", "b-x"));
  assert.ok(!shouldInclude(["*"], ["team-*"], "team-a"));
  assert.ok(shouldInclude([], [], "anything"));
  const hooks = compileResourceHooks([
    { name: "q", includedResources: ["po"], includedNamespaces: ["shop"] },
    { name: "r", includedResources: ["deployments"] },
  ]);
  assert.ok(hooks.ok);
  if (hooks.ok) {
    assert.equal(hooks.hooks[0]!.applies("shop", {}), true);
    assert.equal(hooks.hooks[0]!.applies("other", {}), false);
    assert.equal(hooks.hooks[1]!.applies("shop", {}), false, "hooks only ever apply to pods");
  }
  assert.deepEqual(
    compileResourceHooks([
      { name: "q", labelSelector: { matchExpressions: [{ key: "a", operator: "Foo" }] } },
    ]),
    { ok: false, error: '"Foo" is not a valid label selector operator' },
  );
});

test("HookTracker: first record wins, duplicates collapse; the hook index is part of the key only from 1.17", () => {
  for (const [withIndex, attempted, failed] of [
    [true, 3, 1],
    [false, 1, 0],
  ] as const) {
    const t = new HookTracker(withIndex);
    // Spec pre hooks [ok, Fail fails, never run] of one entry on one container.
    t.add("ns", "p", "", "spec", "q", "pre", 0);
    t.record("ns", "p", "", "spec", "q", "pre", 0, false);
    t.add("ns", "p", "", "spec", "q", "pre", 1);
    t.record("ns", "p", "", "spec", "q", "pre", 1, true);
    t.add("ns", "p", "", "spec", "q", "pre", 2);
    assert.deepEqual(t.stat(), { attempted, failed });
  }
});

test("dev:velero flags: Velero's defaults, clear errors", () => {
  const f = parseFlags(["--kubeconfig", "/k"]);
  assert.equal(f.namespace, "velero");
  assert.equal(f.version, "1.18");
  assert.equal(f.logFormat, "text");
  assert.equal(f.storeValidationMs, 60_000);
  assert.equal(f.downloadUrlTtlMs, 600_000);
  assert.equal(parseFlags(["--kubeconfig", "/k", "--hold-items", "1m30s"]).holdItemsMs, 90_000);
  assert.throws(() => parseFlags([]), /--kubeconfig is required/);
  assert.throws(
    () => parseFlags(["--kubeconfig", "/k", "--version", "1.16"]),
    /--version "1.16": one of 1.14, 1.15.0, 1.15, 1.18/,
  );
  assert.throws(() => parseFlags(["--kubeconfig", "/k", "--log-format", "yaml"]), /text or json/);
  assert.throws(
    () => parseFlags(["--kubeconfig", "/k", "--hold-items", "10"]),
    /not a non-negative Go duration/,
  );
  assert.throws(() => parseFlags(["--kubeconfig", "/k", "--bogus"]), /Unknown option '--bogus'/);
});

/** handleHooks against a scripted exec: what ran, and the lines and counts Velero would write. */
async function runHooks(
  pod: any,
  phase: "pre" | "post",
  exec: (argv: string[]) => Promise<ExecOutcome>,
  resources: ResourceHook[] = [],
) {
  const log = new BackupLog("text", { backup: "velero/b" });
  const tracker = new HookTracker(true);
  const ran: string[][] = [];
  const compiled = compileResourceHooks(resources);
  assert.ok(compiled.ok);
  const err = await handleHooks(
    {
      version: VERSIONS["1.18"],
      log,
      tracker,
      resourceHooks: compiled.ok ? compiled.hooks : [],
      exec: (_ns, _pod, _c, argv) => (ran.push(argv), exec(argv)),
    },
    pod,
    phase,
  );
  return {
    err,
    ran,
    lines: log.lines.map((l) => l.replace(/^time="[^"]+" /, "")),
    stat: tracker.stat(),
    counts: log.counts,
  };
}

const podWith = (annotations: Record<string, string>, phase = "Running"): any => ({
  metadata: { name: "p", namespace: "ns", annotations, labels: { app: "x" } },
  spec: { containers: [{ name: "app" }, { name: "side" }] },
  status: { phase },
});

test("a Succeeded pod's hook is counted attempted, not run, not failed; a missing container fails first", async () => {
  const done = await runHooks(
    podWith({ "pre.hook.backup.velero.io/command": "/bin/sync" }, "Succeeded"),
    "pre",
    async () => ({ stdout: "", stderr: "" }),
  );
  assert.deepEqual(done.ran, []);
  assert.deepEqual(done.stat, { attempted: 1, failed: 0 });
  assert.match(
    done.lines[0]!,
    /^level=info msg="Pod entered phase Succeeded before some post-backup exec hooks ran" .* hookCommand="\[\/bin\/sync\]" hookContainer=app /,
  );
  const missing = await runHooks(
    podWith(
      { "pre.hook.backup.velero.io/command": "/bin/sync", "pre.hook.backup.velero.io/container": "db" },
      "Succeeded",
    ),
    "pre",
    async () => ({ stdout: "", stderr: "" }),
  );
  assert.deepEqual(missing.stat, { attempted: 1, failed: 1 });
  assert.equal(missing.err, undefined, "absent on-error: Velero carries on");
  assert.equal(
    missing.lines[0],
    'level=error msg="Error executing hook" backup=velero/b error="no such container: \\"db\\"" error.file="/go/src/github.com/vmware-tanzu/velero/pkg/podexec/pod_command_executor.go:193" error.function=github.com/vmware-tanzu/velero/pkg/podexec.ensureContainerExists hookPhase=pre hookSource=annotation hookType=exec logSource="internal/hook/item_hook_handler.go:239"',
  );
});

test("timeouts: a hung command times out with Velero's error and no output lines; a negative timeout waits", async () => {
  const hung = await runHooks(
    podWith({
      "post.hook.backup.velero.io/command": "sleep",
      "post.hook.backup.velero.io/timeout": "200ms",
      "post.hook.backup.velero.io/on-error": "Fail",
    }),
    "post",
    () => new Promise(() => undefined),
  );
  assert.equal(hung.err?.message, "timed out after 200ms");
  assert.ok(!hung.lines.some((l) => l.includes("stdout:")));
  assert.match(hung.lines[0]!, /hookTimeout="\{200ms\}"/);
  const slow = await runHooks(
    podWith({ "pre.hook.backup.velero.io/command": "sleep", "pre.hook.backup.velero.io/timeout": "-5s" }),
    "pre",
    () => new Promise((r) => setTimeout(() => r({ stdout: "done", stderr: "" }), 300)),
  );
  assert.equal(slow.err, undefined);
  assert.ok(
    slow.lines.some(
      (l) => l.startsWith('level=info msg="stdout: done"') && l.includes('hookTimeout="{-5s}"'),
    ),
  );
});

test("annotation beats spec per phase; legacy keys only for pre; spec Fail stops the rest but they count", async () => {
  const spec: ResourceHook[] = [
    {
      name: "q",
      pre: [
        { exec: { command: ["a"] } },
        { exec: { command: ["b"], onError: "Fail" } },
        { exec: { command: ["c"] } },
      ],
      post: [{ exec: { command: ["z"] } }],
    },
  ];
  const fail = async (argv: string[]): Promise<ExecOutcome> =>
    argv[0] === "b"
      ? { stdout: "", stderr: "", error: { message: "command terminated with exit code 1" } }
      : { stdout: "", stderr: "" };
  const specOnly = await runHooks(podWith({}), "pre", fail, spec);
  assert.deepEqual(specOnly.ran, [["a"], ["b"]]);
  assert.deepEqual(specOnly.stat, { attempted: 3, failed: 1 });
  assert.equal(specOnly.err?.message, "command terminated with exit code 1");
  const legacy = {
    "hook.backup.velero.io/command": '["legacy"]',
    "pre.hook.backup.velero.io/container": "side",
  };
  const pre = await runHooks(podWith(legacy), "pre", fail, spec);
  assert.deepEqual(pre.ran, [["legacy"]], "the legacy hook replaces the spec's pre hooks");
  assert.ok(
    pre.lines.some((l) => l.includes("hookContainer=app")),
    "pre.…/container is not mixed into the legacy set",
  );
  const post = await runHooks(podWith(legacy), "post", fail, spec);
  assert.deepEqual(post.ran, [["z"]], "legacy keys are never read for post");
});
