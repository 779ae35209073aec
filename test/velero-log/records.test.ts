// Velero-run hooks as records: pairing a log's hook lines into executions, results, and attribution
// to a pod (from ≤1.14 lines, or from the one pod in scope that holds the hook).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseBackupHooks, type PodLike } from "../../src/domain/index.js";
import { extractHookEvents, parseBackupLog } from "../../src/velero/log-parse.js";
import {
  buildHookRecords,
  pairHookEvents,
  type CompanionHookRecord,
  type ScopeInput,
} from "../../src/velero/hook-records.js";
import { V112_TEXT, V114_JSON, V114_TEXT, V115_TEXT, V118_JSON, V118_TEXT } from "./fixtures.js";

const PRE = "pre.hook.backup.velero.io/";
const POST = "post.hook.backup.velero.io/";

function pod(
  namespace: string,
  name: string,
  opts: { annotations?: Record<string, string>; labels?: Record<string, string>; containers?: string[] } = {},
): PodLike {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      namespace,
      name,
      uid: `uid-${namespace}-${name}`,
      annotations: opts.annotations ?? {},
      labels: opts.labels ?? {},
    },
    spec: { containers: (opts.containers ?? ["app"]).map((c) => ({ name: c })) },
    status: { phase: "Running" },
  };
}

const records = (log: string, scope: ScopeInput): CompanionHookRecord[] =>
  buildHookRecords(extractHookEvents(parseBackupLog(log)).events, scope);

/** What a user reads in `backup describe`: where, which hook, result, error. */
function row(r: CompanionHookRecord): string {
  const where =
    r.attribution === "unattributed"
      ? `unattributed(${r.candidates})`
      : `${r.namespace}/${r.pod}(${r.attribution})`;
  const what = r.name === undefined ? "?" : r.name || "<a>";
  return `${where} ${r.phase}/${r.source} ${what} ${r.result}${r.error ? ` ${JSON.stringify(r.error)}` : ""}${r.pairing === "ambiguous" ? " ambiguous" : ""}`;
}

const nginx = pod("nginx-example", "nginx-7d9c", {
  containers: ["fsfreeze", "nginx"],
  annotations: {
    [`${PRE}container`]: "fsfreeze",
    [`${PRE}command`]: '["/sbin/fsfreeze", "--freeze", "/var/log/nginx"]',
    [`${POST}container`]: "fsfreeze",
    [`${POST}command`]: '["/sbin/fsfreeze", "--unfreeze", "/var/log/nginx"]',
  },
});
const bystander = pod("nginx-example", "nginx-other", { containers: ["nginx"] });

// 1.18 story: spec pre hook `sync` on every `app=shop` pod; a post hook in container `sidecar` for `tier=web` pods
const shopSpecs = parseBackupHooks({
  resources: [
    {
      name: "sync",
      includedNamespaces: ["shop"],
      labelSelector: { matchLabels: { app: "shop" } },
      pre: [{ exec: { container: "app", command: ["/bin/sync"], onError: "Fail" } }],
    },
    {
      name: "flush-web",
      labelSelector: { matchLabels: { tier: "web" } },
      post: [{ exec: { container: "sidecar", command: ["/bin/flush"] } }],
    },
  ],
}).resources;
const shop0 = pod("shop", "app-0", { labels: { app: "shop" } });
const shop1 = pod("shop", "app-1", { labels: { app: "shop" } });
const web0 = pod("shop", "web-0", { labels: { tier: "web" } });

describe("buildHookRecords: results and attribution by version", () => {
  it("1.12 text: the pod comes from the line; a failed post hook keeps its error and output", () => {
    const recs = records(V112_TEXT, { specs: [], pods: [] });
    assert.deepEqual(recs.map(row), [
      "nginx-example/nginx-7d9c(log) pre/spec freeze succeeded",
      `nginx-example/nginx-7d9c(log) post/annotation <a> failed "command terminated with exit code 1"`,
    ]);
    assert.equal(recs[1]!.stdout, "thaw\n");
    assert.equal(recs[1]!.commandText, "/bin/sh -c echo thaw; exit 1");
    assert.equal(recs[1]!.timeout, "2m30s");
    assert.equal(recs[1]!.onError, "Continue");
  });

  it("1.14 text and json: a timeout, a pod-phase skip and a rejected container, all from the line", () => {
    assert.deepEqual(records(V114_TEXT, { specs: [], pods: [] }).map(row), [
      `db/mysql-0(log) pre/spec flush failed "timed out after 10s"`,
      `db/migrate-x7(log) post/spec done skipped "pod phase Succeeded: not executed"`,
      `db/web-1(log) pre/spec ? failed "no such container: \\"POD-a\\""`,
    ]);
    const json = records(V114_JSON, { specs: [], pods: [] });
    assert.deepEqual(json.map(row), [
      `db/mysql-0(log) pre/spec flush failed "timed out after 10s"`,
      "db/mysql-1(log) post/annotation <a> succeeded",
    ]);
    assert.deepEqual(json[1]!.argv, ["/usr/bin/mysql", "-e", "UNLOCK TABLES"]);
  });

  it("1.15 text: no pod on the lines; the one pod in scope whose annotations hold the hook gets it", () => {
    const recs = records(V115_TEXT, { specs: [], pods: [bystander, nginx] });
    assert.deepEqual(recs.map(row), [
      "nginx-example/nginx-7d9c(scope) pre/annotation <a> succeeded",
      `nginx-example/nginx-7d9c(scope) post/annotation <a> failed "command terminated with exit code 1"`,
    ]);
    assert.equal(recs[1]!.stderr, "fsfreeze: /var/log/nginx: unfreeze failed: Invalid argument\n");
  });

  it("1.15 text: the same hook on two pods in scope is unattributed, with the candidate count", () => {
    const twin = { ...nginx, metadata: { ...nginx.metadata, name: "nginx-twin", uid: "uid-twin" } };
    // the failed post hook is narrowed by `Error running post  hooks for pod name=nginx-7d9c`
    const recs = records(V115_TEXT, { specs: [], pods: [twin, nginx] });
    assert.deepEqual(recs.map(row), [
      "unattributed(2) pre/annotation <a> succeeded",
      `nginx-example/nginx-7d9c(scope) post/annotation <a> failed "command terminated with exit code 1"`,
    ]);
  });

  it("1.15 text: a hook no pod in scope holds (pod gone, hooks changed) is unattributed with 0 candidates", () => {
    const changed = pod("nginx-example", "nginx-7d9c", {
      containers: ["fsfreeze"],
      annotations: { [`${PRE}command`]: '["/sbin/fsfreeze","--freeze","/data"]' },
    });
    assert.deepEqual(
      records(V115_TEXT, { specs: [], pods: [changed] }).map((r) => [
        r.attribution,
        r.candidates,
        r.namespace,
      ]),
      [
        ["unattributed", 0, ""],
        ["unattributed", 0, ""],
      ],
    );
  });

  for (const [format, log] of [
    ["text", V118_TEXT],
    ["json", V118_JSON],
  ] as const) {
    it(`1.18 ${format}: spec hooks resolved per pod; the pod named by 'Error running pre hooks' and a rejected container`, () => {
      const recs = records(log, { specs: shopSpecs, pods: [shop0, shop1, web0] });
      const want = [
        `shop/app-1(scope) pre/spec sync failed "command terminated with exit code 1"`,
        // only web-0 holds a post hook in container "sidecar"
        `shop/web-0(scope) post/spec ? failed "no such container: \\"sidecar\\""`,
      ];
      if (format === "text") want.unshift("unattributed(2) pre/spec sync succeeded");
      assert.deepEqual(recs.map(row), want);
    });
  }

  it("matches on source: an annotation hook is not given to a pod that runs the same command from the spec", () => {
    const annotated = pod("shop", "annotated", {
      annotations: { [`${PRE}container`]: "app", [`${PRE}command`]: '["/bin/sync"]' },
    });
    const log = [
      `time="t" level=info msg="running exec hook" backup=velero/b hookCommand="[/bin/sync]" hookContainer=app hookName="<from-annotation>" hookOnError=Fail hookPhase=pre hookSource=annotation hookTimeout="{30s}" hookType=exec`,
      `time="t" level=info msg="stdout: " backup=velero/b hookCommand="[/bin/sync]" hookContainer=app hookName="<from-annotation>" hookOnError=Fail hookPhase=pre hookSource=annotation hookTimeout="{30s}" hookType=exec`,
      `time="t" level=info msg="stderr: " backup=velero/b hookCommand="[/bin/sync]" hookContainer=app hookName="<from-annotation>" hookOnError=Fail hookPhase=pre hookSource=annotation hookTimeout="{30s}" hookType=exec`,
    ].join("\n");
    assert.deepEqual(records(log, { specs: shopSpecs, pods: [shop0, annotated] }).map(row), [
      "shop/annotated(scope) pre/annotation <a> succeeded",
    ]);
    // and a pod whose annotation overrides the spec hook does not hold the spec hook
    const overridden = pod("shop", "app-9", {
      labels: { app: "shop" },
      annotations: { [`${PRE}command`]: '["/bin/true"]' },
    });
    const specLog = log
      .replaceAll('hookName="<from-annotation>"', "hookName=sync")
      .replaceAll("hookSource=annotation", "hookSource=spec");
    assert.deepEqual(records(specLog, { specs: shopSpecs, pods: [overridden, shop0] }).map(row), [
      "shop/app-0(scope) pre/spec sync succeeded",
    ]);
  });
});

// Hand-written interleavings: lines with only what pairing reads.
const start = (cmd: string, phase = "pre") =>
  `time="t" level=info msg="running exec hook" backup=velero/b hookCommand="[${cmd}]" hookContainer=app hookName=h hookOnError=Fail hookPhase=${phase} hookSource=spec hookTimeout="{30s}" hookType=exec`;
const out = (stream: string, cmd: string, phase = "pre") =>
  start(cmd, phase).replace('msg="running exec hook"', `msg="${stream}: "`);
const err = (text: string, phase = "pre") =>
  `time="t" level=error msg="Error executing hook" backup=velero/b error="${text}" hookPhase=${phase} hookSource=spec hookType=exec`;

describe("pairHookEvents: which result belongs to which hook", () => {
  const results = (lines: string[]): string[] =>
    buildHookRecords(extractHookEvents(parseBackupLog(lines.join("\n"))).events, { specs: [], pods: [] }).map(
      (r) =>
        `${r.commandText} ${r.result}${r.error ? ` ${r.error}` : ""}${r.pairing === "ambiguous" ? " ambiguous" : ""}`,
    );

  it("one worker: each error belongs to the hook that just returned; earlier ones succeeded", () => {
    assert.deepEqual(
      results([
        start("a"),
        out("stdout", "a"),
        out("stderr", "a"),
        start("b"),
        out("stdout", "b"),
        out("stderr", "b"),
        err("command terminated with exit code 2"),
        start("c"),
        out("stdout", "c"),
        out("stderr", "c"),
      ]),
      ["a succeeded", "b failed command terminated with exit code 2", "c succeeded"],
    );
  });

  it("one worker: a timeout belongs to the hook that never returned", () => {
    assert.deepEqual(
      results([
        start("a"),
        out("stdout", "a"),
        out("stderr", "a"),
        start("slow"),
        err("timed out after 30s"),
      ]),
      ["a succeeded", "slow failed timed out after 30s"],
    );
  });

  it("two workers (hooks overlap): an error with several possible owners is marked ambiguous", () => {
    const lines = [
      start("a"),
      start("b"),
      out("stdout", "b"),
      out("stderr", "b"),
      out("stdout", "a"),
      out("stderr", "a"),
      err("command terminated with exit code 1"),
    ];
    const paired = pairHookEvents(extractHookEvents(parseBackupLog(lines.join("\n"))).events);
    assert.equal(paired.overlapped, true);
    assert.deepEqual(results(lines), [
      "a failed command terminated with exit code 1 ambiguous",
      "b succeeded",
    ]);
  });

  it("two workers: a timeout pairs with the not-returned hook whose timeout matches, exactly", () => {
    const lines = [
      start("a"),
      start("b").replace("{30s}", "{5s}"),
      out("stdout", "a"),
      out("stderr", "a"),
      err("timed out after 5s"),
    ];
    assert.deepEqual(results(lines), ["a succeeded", "b failed timed out after 5s"]);
  });

  it("a hook whose log holds no result is reported failed, saying so", () => {
    assert.deepEqual(results([start("lost")]), [
      "lost failed the backup log has no result for this hook (no output and no error line)",
    ]);
  });

  it("an error line with no hook to pair becomes a record of its own", () => {
    assert.deepEqual(results([err("unable to upgrade connection: pod does not exist", "post")]), [
      "undefined failed unable to upgrade connection: pod does not exist",
    ]);
  });
});
