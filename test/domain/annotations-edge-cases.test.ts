// Velero edge cases E1-E24 (docs/velero-hook-semantics.md, edge-case table) for annotation hooks: the parsed
// hook (argv, container, onError, timeout) and the exact findings for each.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parsePodHooks } from "../../src/domain/index.js";
import type { Phase } from "../../src/domain/index.js";
import { LEGACY, POST, PRE, ann, brief, essence, pod } from "./builders.js";

interface Case {
  id: string;
  annotations: Record<string, string>;
  initContainers?: Array<{ name: string; restartPolicy?: string }>;
  phase?: Phase;
  hook:
    | { argv: string[]; container: string; onError: "Fail" | "Continue"; timeoutMs: number; legacy?: boolean }
    | undefined;
  findings: string[];
  blocked?: boolean;
  message?: string;
}

const SYNC = '["/bin/sync"]';
const base = (argv: string[] = ["/bin/sync"]) => ({
  argv,
  container: "app",
  onError: "Fail" as const,
  timeoutMs: 30000,
});

const cases: Case[] = [
  {
    id: "E1 on-error lower case: dropped by Velero, error here, effective Fail",
    annotations: { [PRE + "command"]: SYNC, [PRE + "on-error"]: "continue" },
    hook: base(),
    findings: [`error on-error-invalid ${ann(PRE + "on-error")}`],
    message: `on-error "continue" is not valid: values are case-sensitive; did you mean "Continue"?`,
  },
  {
    id: "E2 no on-error: effective Fail, no finding",
    annotations: { [PRE + "command"]: SYNC },
    hook: base(),
    findings: [],
  },
  {
    id: "E3 on-error Fail",
    annotations: { [PRE + "command"]: SYNC, [PRE + "on-error"]: "Fail" },
    hook: base(),
    findings: [],
  },
  {
    id: "E4 on-error Continue",
    annotations: { [PRE + "command"]: SYNC, [PRE + "on-error"]: "Continue" },
    hook: { ...base(), onError: "Continue" },
    findings: [],
  },
  {
    id: "E5 timeout 300 (no unit): 30s and an error with Go's text",
    annotations: { [PRE + "command"]: SYNC, [PRE + "timeout"]: "300" },
    hook: base(),
    findings: [`error timeout-invalid ${ann(PRE + "timeout")}`],
    message: `timeout "300" is not a Go duration (time: missing unit in duration "300"); write e.g. "300s"`,
  },
  {
    id: "E6 timeout 1d",
    annotations: { [PRE + "command"]: SYNC, [PRE + "timeout"]: "1d" },
    hook: base(),
    findings: [`error timeout-invalid ${ann(PRE + "timeout")}`],
    message: `timeout "1d" is not a Go duration (time: unknown unit "d" in duration "1d"); write e.g. "24h"`,
  },
  {
    id: "E7 timeout 0: 30s, warning",
    annotations: { [PRE + "command"]: SYNC, [PRE + "timeout"]: "0" },
    hook: base(),
    findings: [`warning timeout-zero ${ann(PRE + "timeout")}`],
  },
  {
    id: "E7 timeout 0s: 30s, warning",
    annotations: { [PRE + "command"]: SYNC, [PRE + "timeout"]: "0s" },
    hook: base(),
    findings: [`warning timeout-zero ${ann(PRE + "timeout")}`],
  },
  {
    id: "E8 timeout -5s: Velero never times out; error here, effective 30s",
    annotations: { [PRE + "command"]: SYNC, [PRE + "timeout"]: "-5s" },
    hook: base(),
    findings: [`error timeout-negative ${ann(PRE + "timeout")}`],
  },
  {
    id: "E9 timeout 90m",
    annotations: { [PRE + "command"]: SYNC, [PRE + "timeout"]: "90m" },
    hook: { ...base(), timeoutMs: 5_400_000 },
    findings: [],
  },
  { id: "E10 default timeout is 30s", annotations: { [PRE + "command"]: SYNC }, hook: base(), findings: [] },
  {
    id: "E11 JSON array command",
    annotations: { [PRE + "command"]: '["/bin/sh","-c","echo hi"]' },
    hook: base(["/bin/sh", "-c", "echo hi"]),
    findings: [],
  },
  {
    id: "E12 plain string with spaces is one argv element",
    annotations: { [PRE + "command"]: '/bin/sh -c "echo hi"' },
    hook: base(['/bin/sh -c "echo hi"']),
    findings: [`error command-shell-string ${ann(PRE + "command")}`],
    blocked: true,
  },
  {
    id: "E13 [blarg: not JSON, whole string is argv",
    annotations: { [PRE + "command"]: "[blarg" },
    hook: base(["[blarg"]),
    findings: [`error command-json-invalid ${ann(PRE + "command")}`],
    blocked: true,
  },
  {
    id: "E14 leading space before [",
    annotations: { [PRE + "command"]: ' ["a"]' },
    hook: base([' ["a"]']),
    findings: [`error command-leading-whitespace ${ann(PRE + "command")}`],
    blocked: true,
  },
  {
    id: "E15 non-string element",
    annotations: { [PRE + "command"]: '["a", 1]' },
    hook: base(['["a", 1]']),
    findings: [`error command-json-invalid ${ann(PRE + "command")}`],
    blocked: true,
    message: `command "[\\"a\\", 1]" starts with "[" but is not a JSON array of strings (element 1 is not a string); write ["a","1"]`,
  },
  {
    id: "E16 [] runs nothing",
    annotations: { [PRE + "command"]: "[]" },
    hook: base([]),
    findings: [`error command-empty-array ${ann(PRE + "command")}`],
    blocked: true,
  },
  {
    id: "E17 empty command: no hook",
    annotations: { [PRE + "command"]: "" },
    hook: undefined,
    findings: [`warning command-empty ${ann(PRE + "command")}`],
  },
  {
    id: "E17 empty pre command falls back to legacy keys",
    annotations: { [PRE + "command"]: "", [LEGACY + "command"]: SYNC },
    hook: { ...base(), legacy: true },
    findings: [
      `warning legacy-keys ${ann(LEGACY + "command")}`,
      `warning command-empty ${ann(PRE + "command")}`,
    ],
  },
  {
    id: "E18 only container: no hook, ignored warning",
    annotations: { [PRE + "container"]: "proxy" },
    hook: undefined,
    findings: [`warning ignored-without-command ${ann(PRE + "container")}`],
  },
  {
    id: "E19 legacy command alone runs as pre",
    annotations: { [LEGACY + "command"]: SYNC },
    hook: { ...base(), legacy: true },
    findings: [`warning legacy-keys ${ann(LEGACY + "command")}`],
  },
  {
    id: "E19 legacy keys never define post",
    phase: "post",
    annotations: { [LEGACY + "command"]: SYNC },
    hook: undefined,
    findings: [`warning legacy-keys ${ann(LEGACY + "command")}`],
  },
  {
    id: "E20 prefixed command wins over legacy",
    annotations: {
      [PRE + "command"]: SYNC,
      [LEGACY + "command"]: '["/bin/true"]',
      [LEGACY + "container"]: "proxy",
    },
    hook: base(),
    findings: [
      `warning legacy-with-pre ${ann(LEGACY + "container")}`,
      `warning legacy-with-pre ${ann(LEGACY + "command")}`,
    ],
  },
  {
    id: "E21 pre.container + legacy command: legacy set used, first container",
    annotations: { [PRE + "container"]: "proxy", [LEGACY + "command"]: SYNC },
    hook: { ...base(), legacy: true },
    findings: [
      `warning legacy-keys ${ann(LEGACY + "command")}`,
      `warning ignored-without-command ${ann(PRE + "container")}`,
    ],
  },
  {
    id: "E22 missing container",
    annotations: { [PRE + "command"]: SYNC, [PRE + "container"]: "x" },
    hook: { ...base(), container: "x" },
    findings: [`error container-not-found ${ann(PRE + "container")}`],
    blocked: true,
    message: `container "x" is not in this pod (Velero: no such container); use one of: app, proxy`,
  },
  {
    id: "E23 plain init container",
    annotations: { [PRE + "command"]: SYNC, [PRE + "container"]: "setup" },
    initContainers: [{ name: "setup" }],
    hook: { ...base(), container: "setup" },
    findings: [`error container-init ${ann(PRE + "container")}`],
    blocked: true,
  },
  {
    id: "E23 native sidecar (init container with restartPolicy Always) is accepted",
    annotations: { [PRE + "command"]: SYNC, [PRE + "container"]: "sidecar" },
    initContainers: [{ name: "sidecar", restartPolicy: "Always" }],
    hook: { ...base(), container: "sidecar" },
    findings: [],
  },
  {
    id: "E24 container omitted: first container",
    annotations: { [PRE + "command"]: SYNC },
    hook: base(),
    findings: [],
  },
];

for (const c of cases) {
  test(c.id, () => {
    const result = parsePodHooks(
      pod(c.annotations, c.initContainers ? { initContainers: c.initContainers } : {}),
    );
    const phase = c.phase ?? "pre";
    const hook = result[phase];
    assert.deepEqual(essence(hook), c.hook === undefined ? undefined : { legacy: false, ...c.hook });
    assert.deepEqual(brief(result.findings), c.findings);
    if (hook) {
      assert.equal(hook.blockers.length > 0, c.blocked === true, "blocked");
      assert.equal(hook.source, "annotation");
      assert.equal(hook.name, "");
    }
    if (c.message) assert.equal(result.findings[0]!.message, c.message);
  });
}

test("E24 the tracker key keeps the container as written (empty when defaulted)", () => {
  const hook = parsePodHooks(pod({ [PRE + "command"]: SYNC })).pre!;
  assert.equal(hook.containerAsWritten, "");
  assert.equal(hook.container, "app");
  assert.equal(hook.onErrorExplicit, false);
  assert.equal(hook.index, 0);
  assert.equal(hook.resourceIndex, -1);
});

test("whitespace-only command defines a hook (Velero: non-empty) but is blocked", () => {
  const result = parsePodHooks(pod({ [POST + "command"]: " " }));
  assert.deepEqual(result.post?.argv, [" "]);
  assert.deepEqual(brief(result.findings), [`error command-blank ${ann(POST + "command")}`]);
});
