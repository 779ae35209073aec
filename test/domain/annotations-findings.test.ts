// One row per annotation finding code: the findings (severity, code, path) and, where the
// wording is the point, the message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parsePodHooks, podTemplateOf, validateObject } from "../../src/domain/index.js";
import type { ContainerLike } from "../../src/domain/index.js";
import { POST, PRE, ann, brief, pod } from "./builders.js";

const RESTORE = "post.hook.restore.velero.io/";
const INIT = "init.hook.restore.velero.io/";
const FREEZE = '["/sbin/fsfreeze","--freeze","/data"]';

interface Row {
  name: string;
  annotations: Record<string, string>;
  containers?: ContainerLike[];
  findings: string[];
  message?: string;
}

const rows: Row[] = [
  {
    name: "on-error FAIL suggests Fail",
    annotations: { [PRE + "command"]: '["x"]', [PRE + "on-error"]: "FAIL" },
    findings: [`error on-error-invalid ${ann(PRE + "on-error")}`],
    message: `on-error "FAIL" is not valid: values are case-sensitive; did you mean "Fail"?`,
  },
  {
    name: "on-error with trailing space",
    annotations: { [PRE + "command"]: '["x"]', [PRE + "on-error"]: "Fail " },
    findings: [`error on-error-invalid ${ann(PRE + "on-error")}`],
    message: `on-error "Fail " has spaces around it; remove them`,
  },
  {
    name: "on-error with a block scalar's trailing newline is not a case mistake",
    annotations: { [PRE + "command"]: '["x"]', [PRE + "on-error"]: "Continue\n" },
    findings: [`error on-error-invalid ${ann(PRE + "on-error")}`],
    message: `on-error "Continue\\n" ends with a newline (YAML "|"); use "|-" or quote it`,
  },
  {
    name: "timeout with a trailing newline",
    annotations: { [PRE + "command"]: '["x"]', [PRE + "timeout"]: "30s\n" },
    findings: [`error timeout-invalid ${ann(PRE + "timeout")}`],
    message: `timeout "30s\\n" ends with a newline (YAML "|"); use "|-" or quote it`,
  },
  {
    name: "container with a trailing newline",
    annotations: { [PRE + "command"]: '["x"]', [PRE + "container"]: "proxy\n" },
    findings: [`error container-not-found ${ann(PRE + "container")}`],
    message: `container "proxy\\n" ends with a newline (YAML "|"); use "|-" or quote it`,
  },
  {
    name: "plain command with a trailing newline",
    annotations: { [PRE + "command"]: "/bin/sync\n" },
    findings: [`error command-program-whitespace ${ann(PRE + "command")}`],
    message: `program name "/bin/sync\\n" ends with a newline (YAML "|"); use "|-" or quote it`,
  },
  {
    name: "a JSON command with a trailing newline is fine (JSON allows it)",
    annotations: { [PRE + "command"]: '["/bin/sync"]\n' },
    findings: [],
  },
  {
    name: "shell path then a space in a plain string: error, with the JSON array built from the user's words",
    annotations: { [PRE + "command"]: `/bin/bash -c "pg_dump -f '/backup/db dump.sql' && sync"` },
    findings: [`error command-shell-string ${ann(PRE + "command")}`],
    message: `"/bin/bash -c \\"pg_dump ..." is one program name, not a shell call; write ["/bin/bash","-c","pg_dump -f '/backup/db dump.sql' && sync"]`,
  },
  {
    name: "sh without a path is a shell too",
    annotations: { [PRE + "command"]: "sh -c sync" },
    findings: [`error command-shell-string ${ann(PRE + "command")}`],
    message: `"sh -c sync" is one program name, not a shell call; write ["sh","-c","sync"]`,
  },
  {
    name: "other words with spaces: warning with the user's own array",
    annotations: { [PRE + "command"]: "/usr/bin/backup --all" },
    findings: [`warning command-whitespace ${ann(PRE + "command")}`],
    message: `"/usr/bin/backup --all" runs as one program (no shell); write ["/usr/bin/backup","--all"]`,
  },
  {
    name: "single-quoted JSON: the suggestion is the user's own argv",
    annotations: { [PRE + "command"]: "['/bin/sync']" },
    findings: [`error command-json-invalid ${ann(PRE + "command")}`],
    message: `command "['/bin/sync']" starts with "[" but is not a JSON array of strings (malformed JSON); write ["/bin/sync"]`,
  },
  {
    name: "unquoted list: the suggestion quotes the user's words",
    annotations: { [PRE + "command"]: "[/sbin/fsfreeze, --freeze, /data]" },
    findings: [`error command-json-invalid ${ann(PRE + "command")}`],
    message: `command "[/sbin/fsfreeze, --freeze, ..." starts with "[" but is not a JSON array of strings (malformed JSON); write ["/sbin/fsfreeze","--freeze","/data"]`,
  },
  {
    name: "on-error abort",
    annotations: { [PRE + "command"]: '["x"]', [PRE + "on-error"]: "abort" },
    findings: [`error on-error-invalid ${ann(PRE + "on-error")}`],
    message: `on-error "abort" is not valid: use "Fail" or "Continue"`,
  },
  {
    name: "timeout 30 seconds",
    annotations: { [POST + "command"]: '["x"]', [POST + "timeout"]: "30 seconds" },
    findings: [`error timeout-invalid ${ann(POST + "timeout")}`],
    message: `timeout "30 seconds" is not a Go duration (time: unknown unit " seconds" in duration "30 seconds"); write e.g. "30s"`,
  },
  {
    name: "timeout empty",
    annotations: { [POST + "command"]: '["x"]', [POST + "timeout"]: "" },
    findings: [`warning timeout-empty ${ann(POST + "timeout")}`],
  },
  {
    name: "typographic quotes",
    annotations: { [PRE + "command"]: "[\u201c/bin/sync\u201d]" },
    findings: [`error command-typographic-quotes ${ann(PRE + "command")}`],
  },
  {
    name: "typographic single quotes in a plain command",
    annotations: { [PRE + "command"]: "\u2018sync\u2019" },
    findings: [`error command-typographic-quotes ${ann(PRE + "command")}`],
  },
  {
    name: "empty string element",
    annotations: { [PRE + "command"]: '["/bin/sync", ""]' },
    findings: [`error command-empty-element ${ann(PRE + "command")}`],
  },
  {
    name: "JSON object is not an array",
    annotations: { [PRE + "command"]: '[{"a":1}]' },
    findings: [`error command-json-invalid ${ann(PRE + "command")}`],
  },
  {
    name: "trailing text after the array",
    annotations: { [PRE + "command"]: '["a"] x' },
    findings: [`error command-json-invalid ${ann(PRE + "command")}`],
  },
  {
    name: "shell syntax without a shell",
    annotations: { [PRE + "command"]: '["mysql","-e","FLUSH TABLES; SELECT 1"]' },
    findings: [`warning command-shell-syntax ${ann(PRE + "command")}`],
    message: `"FLUSH TABLES; SELECT 1" is shell syntax but no shell runs; use /bin/sh -c`,
  },
  {
    name: "$VAR without a shell",
    annotations: { [PRE + "command"]: '["mysql","--password=$MYSQL_ROOT_PASSWORD"]' },
    findings: [`warning command-shell-syntax ${ann(PRE + "command")}`],
  },
  {
    name: "backticks without a shell",
    annotations: { [PRE + "command"]: '["echo","`date`"]' },
    findings: [`warning command-shell-syntax ${ann(PRE + "command")}`],
  },
  {
    name: "redirect without a shell",
    annotations: { [PRE + "command"]: '["echo","hi",">","/tmp/x"]' },
    findings: [`warning command-shell-syntax ${ann(PRE + "command")}`],
  },
  {
    name: "shell argv is fine",
    annotations: {
      [PRE + "command"]: '["/bin/sh","-c","mysql --password=$MYSQL_ROOT_PASSWORD && echo ok | tee /tmp/x"]',
    },
    findings: [],
  },
  {
    name: "bash through env is a shell",
    annotations: { [PRE + "command"]: '["/usr/bin/env","bash","-c","a && b"]' },
    findings: [],
  },
  {
    name: "busybox sh is a shell",
    annotations: { [PRE + "command"]: '["busybox","sh","-c","a; b"]' },
    findings: [],
  },
  {
    name: "single word plain command is fine",
    annotations: { [PRE + "command"]: "/bin/sync" },
    findings: [],
  },
  {
    name: "ignored keys without a command (post)",
    annotations: { [POST + "container"]: "app", [POST + "on-error"]: "Fail", [POST + "timeout"]: "10s" },
    findings: [
      `warning ignored-without-command ${ann(POST + "container")}`,
      `warning ignored-without-command ${ann(POST + "on-error")}`,
      `warning ignored-without-command ${ann(POST + "timeout")}`,
    ],
  },
  {
    name: "unknown key with suggestion",
    annotations: { [PRE + "comand"]: '["x"]' },
    findings: [`error unknown-key ${ann(PRE + "comand")}`],
    message: `unknown hook annotation key, ignored by Velero; did you mean "pre.hook.backup.velero.io/command"?`,
  },
  {
    name: "unknown key onerror",
    annotations: { [POST + "onerror"]: "Fail" },
    findings: [`error unknown-key ${ann(POST + "onerror")}`],
    message: `unknown hook annotation key, ignored by Velero; did you mean "post.hook.backup.velero.io/on-error"?`,
  },
  {
    name: "misspelt prefix",
    annotations: { "pre.hooks.backup.velero.io/command": '["x"]' },
    findings: [`error unknown-key ${ann("pre.hooks.backup.velero.io/command")}`],
  },
  {
    name: "legacy prefix typo",
    annotations: { [`${"hook.backup.velero.io/"}timout`]: "5s" },
    findings: [`error unknown-key ${ann("hook.backup.velero.io/timout")}`],
  },
  {
    name: "unknown restore key",
    annotations: { [RESTORE + "wait-timout"]: "1m" },
    findings: [`error unknown-key ${ann(RESTORE + "wait-timout")}`],
    message: `unknown hook annotation key, ignored by Velero; did you mean "post.hook.restore.velero.io/wait-timeout"?`,
  },
  {
    name: "unknown init restore key",
    annotations: { [INIT + "image"]: "busybox" },
    findings: [`error unknown-key ${ann(INIT + "image")}`],
  },
  {
    name: "unused init timeout key",
    annotations: { [INIT + "timeout"]: "1m" },
    findings: [`warning restore-init-timeout-unused ${ann(INIT + "timeout")}`],
  },
  {
    name: "unrelated velero keys are not hook keys",
    annotations: { "backup.velero.io/backup-volumes": "data", "velero.io/exclude-from-backup": "true" },
    findings: [],
  },
  {
    name: "restore exec hook values",
    annotations: {
      [RESTORE + "command"]: '["/bin/true"]',
      [RESTORE + "on-error"]: "continue",
      [RESTORE + "exec-timeout"]: "30",
      [RESTORE + "wait-timeout"]: "2d",
      [RESTORE + "wait-for-ready"]: "yes",
    },
    findings: [
      `error on-error-invalid ${ann(RESTORE + "on-error")}`,
      `error timeout-invalid ${ann(RESTORE + "exec-timeout")}`,
      `error timeout-invalid ${ann(RESTORE + "wait-timeout")}`,
      `error bool-invalid ${ann(RESTORE + "wait-for-ready")}`,
    ],
  },
  {
    name: "restore wait-for-ready accepts Go ParseBool values",
    annotations: {
      [RESTORE + "command"]: '["/bin/true"]',
      [RESTORE + "wait-for-ready"]: "T",
      [RESTORE + "exec-timeout"]: "45s",
    },
    findings: [],
  },
  {
    name: "restore command is parsed like backup commands",
    annotations: { [RESTORE + "command"]: "[oops" },
    findings: [`error command-json-invalid ${ann(RESTORE + "command")}`],
  },
  {
    name: "restore keys without command are ignored",
    annotations: { [RESTORE + "wait-for-ready"]: "true" },
    findings: [`warning ignored-without-command ${ann(RESTORE + "wait-for-ready")}`],
  },
  {
    name: "restore container must exist",
    annotations: { [RESTORE + "command"]: '["/bin/true"]', [RESTORE + "container"]: "db" },
    findings: [`error container-not-found ${ann(RESTORE + "container")}`],
  },
  {
    name: "init restore command checked",
    annotations: { [INIT + "container-image"]: "busybox", [INIT + "command"]: "[]" },
    findings: [`error command-empty-array ${ann(INIT + "command")}`],
  },
  {
    name: "init restore keys without image are ignored",
    annotations: { [INIT + "command"]: '["x"]' },
    findings: [`warning ignored-without-command ${ann(INIT + "command")}`],
  },
  {
    name: "fsfreeze in an unprivileged container",
    annotations: { [PRE + "command"]: FREEZE },
    findings: [`warning fsfreeze-unprivileged ${ann(PRE + "command")}`],
    message: `fsfreeze fails in "app" (not privileged); run it privileged or with SYS_ADMIN`,
  },
  {
    name: "fsfreeze through a shell",
    annotations: { [PRE + "command"]: '["/bin/sh","-c","sync && fsfreeze -f /data"]' },
    findings: [`warning fsfreeze-unprivileged ${ann(PRE + "command")}`],
  },
  {
    name: "fsfreeze in a privileged container",
    annotations: { [PRE + "command"]: FREEZE },
    containers: [{ name: "app", securityContext: { privileged: true } }],
    findings: [],
  },
  {
    name: "fsfreeze with SYS_ADMIN",
    annotations: { [PRE + "command"]: FREEZE },
    containers: [{ name: "app", securityContext: { capabilities: { add: ["SYS_ADMIN"] } } }],
    findings: [],
  },
  {
    name: "fsfreeze checks the named container",
    annotations: { [PRE + "command"]: FREEZE, [PRE + "container"]: "freezer" },
    containers: [{ name: "app", securityContext: { privileged: true } }, { name: "freezer" }],
    findings: [`warning fsfreeze-unprivileged ${ann(PRE + "command")}`],
  },
];

for (const row of rows) {
  test(row.name, () => {
    const result = parsePodHooks(pod(row.annotations, row.containers ? { containers: row.containers } : {}));
    assert.deepEqual(brief(result.findings), row.findings);
    if (row.message) assert.equal(result.findings[0]!.message, row.message);
  });
}

test("findings of workloads carry the pod template path prefix", () => {
  const template = {
    metadata: { annotations: { [PRE + "on-error"]: "fail", [PRE + "command"]: '["x"]' } },
    spec: { containers: [{ name: "app" }] },
  };
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "d" },
    spec: { template },
  };
  const cronjob = {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "c" },
    spec: { jobTemplate: { spec: { template } } },
  };
  assert.deepEqual(brief(validateObject(deployment).findings), [
    `error on-error-invalid spec.template.${ann(PRE + "on-error")}`,
  ]);
  assert.deepEqual(brief(validateObject(cronjob).findings), [
    `error on-error-invalid spec.jobTemplate.spec.template.${ann(PRE + "on-error")}`,
  ]);
  assert.equal(podTemplateOf(cronjob)?.pathPrefix, "spec.jobTemplate.spec.template.");
  for (const kind of ["StatefulSet", "DaemonSet", "ReplicaSet"]) {
    assert.equal(
      podTemplateOf({ apiVersion: "apps/v1", kind, spec: { template } })?.pathPrefix,
      "spec.template.",
      kind,
    );
  }
  assert.equal(
    podTemplateOf({ apiVersion: "v1", kind: "ReplicationController", spec: { template } })?.pathPrefix,
    "spec.template.",
  );
  assert.equal(
    podTemplateOf({ apiVersion: "batch/v1", kind: "Job", spec: { template } })?.pathPrefix,
    "spec.template.",
  );
  assert.equal(podTemplateOf({ apiVersion: "v1", kind: "Service" }), undefined);
  assert.deepEqual(validateObject({ apiVersion: "v1", kind: "ConfigMap" }), {
    handled: false,
    kind: "ConfigMap",
    findings: [],
  });
  assert.deepEqual(validateObject("nope"), { handled: false, findings: [] });
});
