// `backup describe` text and `backup plan` resolution, on records produced by a real run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { alignPairs, formatDescribe, inExecutionOrder } from "../../src/cli/describe.js";
import type { HookRecord } from "../../src/agent/hooks/record.js";
import { formatPlan, planBackup } from "../../src/agent/scope/plan.js";
import { exited, pod, pvcAndPv } from "./fakes.js";
import { run, world } from "./harness.js";

test("alignPairs pads like Go's tabwriter with padding 2 (Velero's HooksAttempted/HooksFailed lines)", () => {
  assert.deepEqual(
    alignPairs([
      ["HooksAttempted:", "2"],
      ["HooksFailed:", "0"],
    ]),
    ["HooksAttempted:  2", "HooksFailed:     0"],
  );
});

test("describe shows phase, counts, the hook lines, a per-hook table and the errors", async () => {
  const w = world();
  w.cluster.pods.push(
    pod("db").hook("pre", ["/bin/false"], { onError: "Continue" }).hook("post", ["/bin/true"]).build(),
  );
  w.executor.behaviours.set("/bin/false", () =>
    exited(1, "", "connecting to mysqld\nERROR 1045 (28000): Access denied for user 'backup'\n\n"),
  );
  const r = await run(w);
  const applied = {
    "kubectl.kubernetes.io/last-applied-configuration": '{"apiVersion":"velero.io/v1","kind":"Backup"}',
    team: "db",
  };
  const backup = { ...r.backup, metadata: { ...r.backup.metadata, annotations: applied } };
  const text = formatDescribe(
    backup,
    {
      backup: "b1",
      hookStatus: r.hookStatus,
      hooks: r.records,
      errors: ["default/db: Error executing hook: command terminated with exit code 1"],
      warnings: [],
    },
    "/x",
  );
  assert.match(text, /^Phase:  PartiallyFailed$/m);
  // Errors: once, Velero's count with the messages under it
  assert.match(
    text,
    /^Errors:    1\n {2}default\/db: Error executing hook: command terminated with exit code 1\nWarnings:  0$/m,
  );
  assert.equal(text.match(/^Errors:/gm)?.length, 1);
  assert.match(text, /^Annotations:  team=db$/m);
  assert.doesNotMatch(text, /last-applied-configuration/);
  assert.match(text, /^HooksAttempted:  2\nHooksFailed:     1$/m);
  assert.match(text, /^ {2}POD +CONTAINER +PHASE +SOURCE +NAME +RESULT +EXIT CODE +DURATION +CAUSE$/m);
  // the failed row names the cause: the command's last stderr line
  assert.match(
    text,
    /^ {2}default\/db +app +pre +annotation +<from-annotation> +failed +1 +\d+ms +ERROR 1045 \(28000\): Access denied for user 'backup'$/m,
  );
  assert.match(text, /^ {2}default\/db +app +post +annotation +<from-annotation> +succeeded +0 +\d+ms$/m);
  const none = formatDescribe(r.backup, undefined, "/nowhere/b1-hooks.json");
  assert.match(none, /Hooks:  <no hook results at \/nowhere\/b1-hooks.json>/);
});

test("describe lists hooks in the order they started, not the order they finished", () => {
  const rec = (
    pod: string,
    phase: "pre" | "post",
    startedAt: string | undefined,
    result: HookRecord["result"] = "succeeded",
  ): HookRecord => ({
    namespace: "ns",
    pod,
    container: "app",
    phase,
    source: "annotation",
    name: "<from-annotation>",
    argv: ["/bin/true"],
    onError: "Fail",
    result,
    durationMs: 1,
    ...(startedAt ? { startedAt } : {}),
  });
  // as the agent appends them: a slow pre hook of a finishes after b's; a's next hook was not run
  const finished = [
    rec("b", "pre", "2026-01-01T00:00:02.000Z"),
    rec("a", "pre", "2026-01-01T00:00:01.000Z", "failed"),
    rec("a", "pre", undefined, "not_run"),
    rec("b", "post", "2026-01-01T00:00:03.000Z"),
  ];
  assert.deepEqual(
    inExecutionOrder(finished).map((h) => `${h.pod} ${h.phase} ${h.result}`),
    ["a pre failed", "a pre not_run", "b pre succeeded", "b post succeeded"],
  );
});

test("plan resolves blocks and per-phase hooks with skip reasons, without executing anything", async () => {
  const w = world();
  const { pvc, pv } = pvcAndPv("shared");
  w.cluster.pvcs.push(pvc);
  w.cluster.pvs.push(pv);
  w.cluster.pods.push(pod("p1").pvc("shared").hook("pre", ["/sbin/fsfreeze", "--freeze", "/d"]).build());
  w.cluster.pods.push(pod("p2").pvc("shared").hook("pre", ["/bin/x"], { container: "nope" }).build());
  w.cluster.pods.push(pod("done").hook("post", ["/bin/y"]).phase("Succeeded").build());
  w.cluster.pods.push(pod("leaving").hook("pre", ["/bin/z"]).deleting().build());
  const p = await planBackup(w.cluster, {
    hooks: { resources: [{ name: "spec-pre", pre: [{ exec: { command: ["/bin/spec"] } }] }] },
  });
  assert.ok(p.ok);
  assert.equal(w.executor.calls.length, 0);
  assert.equal(p.value.blocks.length, 2);
  const [shared, done] = p.value.blocks;
  assert.deepEqual(shared!.items, [
    "pods/default/p1",
    "persistentvolumeclaims/default/shared",
    "persistentvolumes/pv-default-shared",
    "pods/default/p2",
  ]);
  const p1 = shared!.pods[0]!;
  assert.deepEqual(
    p1.hooks.map((h) => [h.phase, h.source, h.container, h.argv.join(" "), h.onError, h.timeout]),
    [["pre", "annotation", "app", "/sbin/fsfreeze --freeze /d", "Fail", "30s"]],
  );
  assert.match(p1.skipped[0]!.reason, /annotation hook overrides spec hooks/);
  assert.match(shared!.pods[1]!.hooks[0]!.blockedBy![0]!, /nope/);
  assert.match(done!.pods[0]!.podSkip!, /Succeeded/);
  assert.deepEqual(p.value.excludedPods, [
    { namespace: "default", name: "leaving", reason: "pod is being deleted" },
  ]);
  const text = formatPlan(p.value);
  assert.match(text, /ItemBlock 1: pods\/default\/p1, persistentvolumeclaims\/default\/shared/);
  assert.match(text, /would fail without running: .*nope/);
  assert.match(text, /skipped spec hook spec-pre: the pod's pre annotation hook overrides spec hooks/);
  assert.match(text, /default\/leaving: pod is being deleted/);
});
