// Velero backup logs, both formats and each version's hook fields, parsed into entries and hook events.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  extractHookEvents,
  parseBackupLog,
  readGoQuoted,
  splitTextFields,
  type HookEvent,
} from "../../src/velero/log-parse.js";
import { V112_TEXT, V114_JSON, V114_TEXT, V115_TEXT, V118_JSON, V118_TEXT } from "./fixtures.js";

const eventsOf = (text: string): HookEvent[] => extractHookEvents(parseBackupLog(text)).events;

/** A compact view of an event, for tables. */
function brief(e: HookEvent): string {
  const pod = e.pod ? ` @${e.pod.namespace}/${e.pod.name}` : "";
  switch (e.kind) {
    case "start":
      return `start ${e.hook.phase}/${e.hook.source} ${e.hook.name || "<a>"} ${e.hook.container} [${e.hook.commandText}] ${e.hook.onError} ${e.hook.timeout}${pod}`;
    case "output":
      return `${e.stream} ${JSON.stringify(e.text)}${pod}`;
    case "pod-phase-skip":
      return `skip ${e.podPhase} ${e.hook.phase}/${e.hook.source} ${e.hook.name}${pod}`;
    case "error":
      return `error ${e.phase}/${e.source} ${JSON.stringify(e.error)}${pod}`;
    case "pod-failed":
      return `pod-failed ${e.phase} ${e.podName} ${JSON.stringify(e.error)}`;
    case "post-hooks-not-run":
      return `post-hooks-not-run ${e.error}`;
  }
}

describe("parseBackupLog: logrus text lines", () => {
  it("reads time, level, msg and the sorted fields, unquoting Go strings", () => {
    const log = parseBackupLog(V112_TEXT);
    assert.equal(log.garbageLines, 0);
    assert.equal(log.entries.length, 10);
    const start = log.entries[2]!;
    assert.equal(start.format, "text");
    assert.equal(start.time, "2023-09-14T10:00:01Z");
    assert.equal(start.level, "info");
    assert.equal(start.msg, "running exec hook");
    assert.equal(start.fields.hookCommand, "[/sbin/fsfreeze --freeze /var/log/nginx]");
    assert.equal(start.fields.hookTimeout, "{30s}");
    assert.equal(start.fields.logSource, "pkg/podexec/pod_command_executor.go:126");
    assert.equal(start.fields.backup, "velero/nightly-20230914");
    // a bare empty value
    assert.equal(log.entries[9]!.fields.progress, "");
    // \n inside a quoted msg is one line in the file and a newline in the value
    assert.equal(log.entries[6]!.msg, "stdout: thaw\n");
  });

  const quoted: Array<[string, string]> = [
    [`"plain"`, "plain"],
    [`"no such container: \\"POD-a\\""`, `no such container: "POD-a"`],
    [`"a\\tb\\\\c"`, "a\tb\\c"],
    [`"caf\\u00e9 \\U0001F600"`, "café 😀"],
    [`"\\xc3\\xa9"`, "é"],
    [`"\\303\\251"`, "é"],
    [`""`, ""],
  ];
  for (const [input, want] of quoted) {
    it(`unquotes ${input}`, () => {
      assert.deepEqual(readGoQuoted(input, 0), { value: want, end: input.length });
    });
  }
  for (const bad of [`"unterminated`, `"bad \\q escape"`, `"\\x4"`, `"\\u12"`]) {
    it(`refuses the malformed quoted string ${bad}`, () => assert.equal(readGoQuoted(bad, 0), undefined));
  }

  it("splits keys with dots and values with = inside quotes", () => {
    assert.deepEqual(splitTextFields(`level=error msg="a=b c" error.function=github.com/x/y.F k=`), {
      level: "error",
      msg: "a=b c",
      "error.function": "github.com/x/y.F",
      k: "",
    });
  });
});

describe("parseBackupLog: robustness", () => {
  it("skips and counts garbage lines, never throws", () => {
    const text = [
      `time="2025-01-10T01:00:00Z" level=info msg="ok line" backup=velero/b`,
      `panic: runtime error: invalid memory address or nil pointer dereference`,
      `goroutine 1 [running]:`,
      `{"level":"info","msg":"truncated`,
      `["an","array"]`,
      `time="x" level=info msg="unterminated`,
      `level=info msg="quote then junk"junk`,
      `no equals sign at all`,
      `key=value only=fields`,
      `\u0000\u0001\u00ff binary`,
      "",
      "   ",
      `{"level":"warning","msg":"json ok","time":"2025-01-10T01:00:00Z"}`,
    ].join("\r\n");
    const log = parseBackupLog(text);
    assert.deepEqual(
      log.entries.map((e) => [e.line, e.format, e.level, e.msg]),
      [
        [1, "text", "info", "ok line"],
        [13, "json", "warning", "json ok"],
      ],
    );
    assert.equal(log.garbageLines, 9);
    assert.deepEqual(log.garbageSamples, [2, 3, 4, 5, 6]);
  });

  it("never throws on any prefix of any real line, and accounts for every line", () => {
    const lines = [V112_TEXT, V114_TEXT, V115_TEXT, V118_TEXT, V114_JSON, V118_JSON].flatMap((l) =>
      l.split("\n"),
    );
    for (const line of lines) {
      for (let cut = 1; cut <= line.length; cut += 3) {
        const log = parseBackupLog(line.slice(0, cut));
        const events = extractHookEvents(log);
        assert.equal(log.entries.length + log.garbageLines, line.slice(0, cut).trim() === "" ? 0 : 1);
        assert.ok(events.events.length <= 1);
      }
    }
  });

  it("returns nothing for empty or non-string input", () => {
    assert.deepEqual(parseBackupLog(""), { entries: [], garbageLines: 0, garbageSamples: [] });
    assert.deepEqual(parseBackupLog(undefined as unknown as string), {
      entries: [],
      garbageLines: 0,
      garbageSamples: [],
    });
  });

  it("counts hook lines whose fields cannot be read, and ignores a user's own 'stdout:' line", () => {
    const text = [
      `time="t" level=info msg="running exec hook" backup=velero/b hookPhase=during hookSource=spec hookCommand="[x]"`,
      `time="t" level=error msg="Error executing hook" backup=velero/b error=boom`,
      `time="t" level=info msg="stdout: not a hook" backup=velero/b`,
    ].join("\n");
    const r = extractHookEvents(parseBackupLog(text));
    assert.deepEqual(r.events, []);
    assert.equal(r.unreadable, 2);
  });
});

describe("extractHookEvents: per version and format", () => {
  const cases: Array<{ name: string; log: string; want: string[] }> = [
    {
      name: "1.12 text: backupSpec, Go slice command, {30s}, pod fields, <from-annotation>",
      log: V112_TEXT,
      want: [
        "start pre/spec freeze fsfreeze [/sbin/fsfreeze --freeze /var/log/nginx] Fail 30s @nginx-example/nginx-7d9c",
        `stdout "" @nginx-example/nginx-7d9c`,
        `stderr "" @nginx-example/nginx-7d9c`,
        "start post/annotation <a> nginx [/bin/sh -c echo thaw; exit 1] Continue 2m30s @nginx-example/nginx-7d9c",
        `stdout "thaw\\n" @nginx-example/nginx-7d9c`,
        `stderr "" @nginx-example/nginx-7d9c`,
        `error post/annotation "command terminated with exit code 1" @nginx-example/nginx-7d9c`,
      ],
    },
    {
      name: "1.14 text: spec, timeout without output, pod-phase skip, error.file ignored",
      log: V114_TEXT,
      want: [
        "start pre/spec flush mysql [mysql -e FLUSH TABLES WITH READ LOCK] Fail 10s @db/mysql-0",
        `error pre/spec "timed out after 10s" @db/mysql-0`,
        "skip Succeeded post/spec done @db/migrate-x7",
        `error pre/spec "no such container: \\"POD-a\\"" @db/web-1`,
      ],
    },
    {
      name: '1.14 json: array command, "10s", error.message, \\u003cfrom-annotation\\u003e',
      log: V114_JSON,
      want: [
        "start pre/spec flush mysql [mysql -e FLUSH TABLES WITH READ LOCK] Fail 10s @db/mysql-0",
        `error pre/spec "timed out after 10s" @db/mysql-0`,
        "start post/annotation <a> mysql [/usr/bin/mysql -e UNLOCK TABLES] Fail 30s @db/mysql-1",
        `stdout "" @db/mysql-1`,
        `stderr "" @db/mysql-1`,
      ],
    },
    {
      name: "1.15.0 text: no pod fields, 'post  hooks' double space",
      log: V115_TEXT,
      want: [
        "start pre/annotation <a> fsfreeze [/sbin/fsfreeze --freeze /var/log/nginx] Fail 30s",
        `stdout ""`,
        `stderr ""`,
        "start post/annotation <a> fsfreeze [/sbin/fsfreeze --unfreeze /var/log/nginx] Fail 30s",
        `stdout ""`,
        `stderr "fsfreeze: /var/log/nginx: unfreeze failed: Invalid argument\\n"`,
        `error post/annotation "command terminated with exit code 1"`,
        `pod-failed post nginx-7d9c "command terminated with exit code 1"`,
      ],
    },
    {
      name: "1.18 text: no pod fields, pre-hook pod failure, rejected container",
      log: V118_TEXT,
      want: [
        "start pre/spec sync app [/bin/sync] Fail 30s",
        `stdout ""`,
        `stderr ""`,
        "start pre/spec sync app [/bin/sync] Fail 30s",
        `stdout ""`,
        `stderr "sync: error syncing: I/O error\\n"`,
        `error pre/spec "command terminated with exit code 1"`,
        `pod-failed pre app-1 "command terminated with exit code 1"`,
        `error post/spec "no such container: \\"sidecar\\""`,
      ],
    },
    {
      name: "1.18 json",
      log: V118_JSON,
      want: [
        "start pre/spec sync app [/bin/sync] Fail 30s",
        `stdout ""`,
        `stderr "sync: error syncing: I/O error\\n"`,
        `error pre/spec "command terminated with exit code 1"`,
        `pod-failed pre app-1 "command terminated with exit code 1"`,
        `error post/spec "no such container: \\"sidecar\\""`,
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = extractHookEvents(parseBackupLog(c.log));
      assert.equal(r.unreadable, 0);
      assert.equal(r.garbageLines, 0);
      assert.deepEqual(r.events.map(brief), c.want);
    });
  }

  it("keeps argv only where the log kept it (JSON), and the same commandText in both formats", () => {
    const text = eventsOf(V118_TEXT)[0]!;
    const json = eventsOf(V118_JSON)[0]!;
    assert.ok(text.kind === "start" && json.kind === "start");
    assert.equal(text.hook.argv, undefined);
    assert.deepEqual(json.hook.argv, ["/bin/sync"]);
    assert.equal(text.hook.commandText, json.hook.commandText);
  });

  it("reads the PVB wait failure that skips a block's post hooks", () => {
    const ev = eventsOf(
      `time="t" level=error msg="failed to wait PVBs processed for the ItemBlock" backup=velero/b error="context deadline exceeded" logSource="pkg/backup/backup.go:886"`,
    );
    assert.deepEqual(ev.map(brief), ["post-hooks-not-run context deadline exceeded"]);
  });
});
