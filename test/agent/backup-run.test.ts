// The Backup lifecycle against recording fakes: ordering, on-error modes, pod states, tracker counts,
// guaranteed post hooks, the freeze window and the pending-post-hooks record. Case ids (E..) refer
// to the edge-case table of docs/velero-hook-semantics.md; deviations are hookguard's documented choices.
import { test } from "node:test";
import assert from "node:assert/strict";
import { exited, pod, pvcAndPv, timedOut, transportError } from "./fakes.js";
import { execs, hookCommandLines, metricValue, run, world } from "./harness.js";

const FREEZE = ["/sbin/fsfreeze", "--freeze", "/var/log/nginx"];
const UNFREEZE = ["/sbin/fsfreeze", "--unfreeze", "/var/log/nginx"];

test("E41: two pods sharing one RWX PVC: pre p1, pre p2, snapshot, post p1, post p2, pending record around them", async () => {
  const w = world({ volumeSnapshotClass: "csi-snap" });
  const { pvc, pv } = pvcAndPv("shared");
  w.cluster.pvcs.push(pvc);
  w.cluster.pvs.push(pv);
  for (const name of ["p1", "p2"])
    w.cluster.pods.push(
      pod(name).pvc("shared").hook("pre", ["/bin/pre", name]).hook("post", ["/bin/post", name]).build(),
    );
  const r = await run(w);
  assert.deepEqual(
    w.events.filter((e) => !e.startsWith("pending")),
    [
      "exec default/p1 app /bin/pre p1",
      "exec default/p2 app /bin/pre p2",
      "snapshot default/shared",
      "exec default/p1 app /bin/post p1",
      "exec default/p2 app /bin/post p2",
    ],
  );
  // the record is written before the first pre hook and removed after the last post hook
  assert.equal(
    w.events[0],
    `pending ${JSON.stringify([
      { namespace: "default", pod: "p1", block: 0 },
      { namespace: "default", pod: "p2", block: 0 },
    ])}`,
  );
  assert.equal(w.events.at(-1), "pending -");
  assert.equal(r.backup.metadata.annotations?.["hookguard.io/pending-post-hooks"], undefined);
  assert.equal(r.status.phase, "Completed");
  assert.deepEqual(r.status.hookStatus, { hooksAttempted: 4, hooksFailed: 0 });
  assert.deepEqual(r.status.progress, { totalItems: 4, itemsBackedUp: 4 });
  assert.ok(r.archive?.has("resources/pods/namespaces/default/p1.json"));
  assert.ok(r.archive?.has("resources/persistentvolumeclaims/namespaces/default/shared.json"));
  assert.ok(r.archive?.has("resources/persistentvolumes/cluster/pv-default-shared.json"));
  assert.ok(
    r.archive?.has("resources/volumesnapshots.snapshot.storage.k8s.io/namespaces/default/b1-shared.json"),
  );
  assert.equal(
    JSON.parse(r.archive!.get("resources/pods/namespaces/default/p2.json")!.toString()).metadata.name,
    "p2",
  );
});

test("pods in different blocks with one worker: pre p1, post p1, pre p2, post p2", async () => {
  const w = world({ workers: 1 });
  for (const name of ["p1", "p2"])
    w.cluster.pods.push(pod(name).hook("pre", ["/bin/pre", name]).hook("post", ["/bin/post", name]).build());
  await run(w);
  assert.deepEqual(execs(w), [
    "exec default/p1 app /bin/pre p1",
    "exec default/p1 app /bin/post p1",
    "exec default/p2 app /bin/pre p2",
    "exec default/p2 app /bin/post p2",
  ]);
});

test("E48/E50: annotation pre+post succeed: attempted 2, failed 0, Completed; hookCommand lines carry Velero's fields", async () => {
  const w = world();
  w.cluster.pods.push(
    pod("nginx", "nginx-example")
      .containers("nginx", "fsfreeze")
      .hook("pre", FREEZE, { container: "fsfreeze" })
      .hook("post", UNFREEZE, { container: "fsfreeze" })
      .build(),
  );
  w.cluster.namespaces.push("nginx-example");
  w.executor.behaviours.set("/sbin/fsfreeze", () => exited(0, "frozen\n"));
  const r = await run(w);
  assert.equal(r.status.phase, "Completed");
  assert.deepEqual(r.status.hookStatus, { hooksAttempted: 2, hooksFailed: 0 });
  assert.equal(r.status.errors, 0);
  const lines = hookCommandLines(r.log);
  assert.deepEqual(
    lines.map((l) => l.msg),
    [
      "running exec hook",
      "stdout: frozen\n",
      "stderr: ",
      "running exec hook",
      "stdout: frozen\n",
      "stderr: ",
    ],
  );
  const first = lines[0]!;
  assert.deepEqual(
    { ...first, time: undefined },
    {
      level: "info",
      time: undefined,
      msg: "running exec hook",
      backup: "velero/b1",
      namespace: "nginx-example",
      pod: "nginx",
      hookCommand: FREEZE,
      hookContainer: "fsfreeze",
      hookName: "<from-annotation>",
      hookOnError: "Fail",
      hookPhase: "pre",
      hookSource: "annotation",
      hookTimeout: "30s",
      hookType: "exec",
    },
  );
  assert.equal(lines[3]!.hookPhase, "post");
  assert.deepEqual(w.executor.calls[0], {
    namespace: "nginx-example",
    pod: "nginx",
    container: "fsfreeze",
    argv: FREEZE,
    timeoutMs: 30_000,
    signal: w.executor.calls[0]!.signal,
  });
});

test("E4/E49: on-error Continue, exit 1: error logged once, pod backed up, post hook runs, PartiallyFailed", async () => {
  const w = world();
  w.cluster.pods.push(
    pod("p").hook("pre", ["/bin/false"], { onError: "Continue" }).hook("post", ["/bin/post"]).build(),
  );
  w.executor.behaviours.set("/bin/false", () => exited(1, "", "boom\n"));
  const r = await run(w);
  assert.equal(r.status.phase, "PartiallyFailed");
  assert.equal(r.status.errors, 1);
  assert.deepEqual(r.status.hookStatus, { hooksAttempted: 2, hooksFailed: 1 });
  assert.deepEqual(execs(w), ["exec default/p app /bin/false", "exec default/p app /bin/post"]);
  const err = r.log.find((l) => l.msg === "Error executing hook")!;
  assert.equal(err.error, "command terminated with exit code 1");
  assert.equal(err.level, "error");
  assert.equal("hookCommand" in err, false, "E50: the error line does not match grep hookCommand");
  assert.ok(r.log.some((l) => l.msg === "stderr: boom\n" && l.hookOnError === "Continue"));
  assert.ok(r.archive?.has("resources/pods/namespaces/default/p.json"));
  const rec = r.records.find((x) => x.phase === "pre")!;
  assert.equal(rec.result, "failed");
  assert.equal(rec.exitCode, 1);
});

for (const [label, onError] of [
  ["E2 (on-error unset: hookguard treats it as Fail, as documented)", undefined],
  ["E1 (on-error `continue` is not a valid value: effective Fail)", "continue"],
  ["E3 (on-error Fail)", "Fail"],
] as const) {
  test(`${label}: exit 1 stops the pod: no post hook, manifest not archived, PVC/PV still backed up`, async () => {
    const w = world();
    const { pvc, pv } = pvcAndPv("data");
    w.cluster.pvcs.push(pvc);
    w.cluster.pvs.push(pv);
    w.cluster.pods.push(
      pod("p")
        .pvc("data")
        .hook("pre", ["/bin/false"], onError ? { onError } : {})
        .hook("post", ["/bin/post"])
        .build(),
    );
    w.executor.behaviours.set("/bin/false", () => exited(1));
    const r = await run(w);
    assert.deepEqual(execs(w), ["exec default/p app /bin/false"]);
    assert.equal(r.status.phase, "PartiallyFailed");
    assert.equal(r.status.errors, 2, "Error executing hook + Error running pre hooks for pod");
    assert.deepEqual(r.status.hookStatus, { hooksAttempted: 1, hooksFailed: 1 });
    assert.ok(
      r.log.some(
        (l) =>
          l.msg === "Error running pre hooks for pod" &&
          l.pod === "p" &&
          l.error === "command terminated with exit code 1",
      ),
    );
    assert.equal(r.log.find((l) => l.msg === "running exec hook")!.hookOnError, "Fail");
    assert.equal(r.archive?.has("resources/pods/namespaces/default/p.json"), false);
    assert.ok(r.archive?.has("resources/persistentvolumeclaims/namespaces/default/data.json"));
    assert.ok(r.archive?.has("resources/persistentvolumes/cluster/pv-default-data.json"));
    assert.deepEqual(r.status.progress, { totalItems: 3, itemsBackedUp: 2 });
  });
}

test("E42: p1 pre Fail fails, p2 ok in the same block: p2 still gets its post hook, p1 does not", async () => {
  const w = world();
  const { pvc, pv } = pvcAndPv("shared");
  w.cluster.pvcs.push(pvc);
  w.cluster.pvs.push(pv);
  w.cluster.pods.push(
    pod("p1")
      .pvc("shared")
      .hook("pre", ["/bin/false"], { onError: "Fail" })
      .hook("post", ["/bin/post", "p1"])
      .build(),
  );
  w.cluster.pods.push(
    pod("p2").pvc("shared").hook("pre", ["/bin/pre", "p2"]).hook("post", ["/bin/post", "p2"]).build(),
  );
  w.executor.behaviours.set("/bin/false", () => exited(1));
  const r = await run(w);
  assert.deepEqual(execs(w), [
    "exec default/p1 app /bin/false",
    "exec default/p2 app /bin/pre p2",
    "exec default/p2 app /bin/post p2",
  ]);
  assert.deepEqual(r.status.hookStatus, { hooksAttempted: 3, hooksFailed: 1 });
  // the crash-safety record drops p1 as soon as its pre hook failed: a recovery would not thaw it
  const records = w.events.filter((e) => e.startsWith("pending "));
  assert.deepEqual(records, [
    `pending ${JSON.stringify([
      { namespace: "default", pod: "p1", block: 0 },
      { namespace: "default", pod: "p2", block: 0 },
    ])}`,
    `pending ${JSON.stringify([{ namespace: "default", pod: "p2", block: 0 }])}`,
    "pending -",
  ]);
});

test("E10: a hook that outlives its timeout fails with Velero's text and logs no stdout/stderr", async () => {
  const w = world();
  w.cluster.pods.push(
    pod("p")
      .hook("pre", ["/bin/sleep", "99"], { onError: "Continue" })
      .hook("post", ["/bin/sleep", "99"], { timeout: "90m", onError: "Continue" })
      .build(),
  );
  w.executor.behaviours.set("/bin/sleep", () => timedOut());
  const r = await run(w);
  const errors = r.log.filter((l) => l.msg === "Error executing hook").map((l) => l.error);
  assert.deepEqual(errors, ["timed out after 30s", "timed out after 1h30m0s"]);
  assert.equal(r.log.filter((l) => String(l.msg).startsWith("stdout:")).length, 0);
  assert.deepEqual(
    w.executor.calls.map((c) => c.timeoutMs),
    [30_000, 5_400_000],
  );
  assert.deepEqual(
    r.records.map((x) => x.result),
    ["timed_out", "timed_out"],
  );
  assert.equal(await metricValue(w.metrics, "hookguard_hook_executions_total", { result: "timed_out" }), 2);
});

test("E11: a JSON command is passed as argv, no shell; stdout is logged with its newline", async () => {
  const w = world();
  w.cluster.pods.push(pod("p").hook("pre", ["/bin/sh", "-c", "echo hi"]).build());
  w.executor.behaviours.set("/bin/sh", () => exited(0, "hi\n"));
  const r = await run(w);
  assert.deepEqual(w.executor.calls[0]!.argv, ["/bin/sh", "-c", "echo hi"]);
  assert.ok(r.log.some((l) => l.msg === "stdout: hi\n"));
});

test("transport errors pass through verbatim and count as failed", async () => {
  const w = world();
  w.cluster.pods.push(pod("p").hook("pre", ["/bin/x"], { onError: "Continue" }).build());
  w.executor.behaviours.set("/bin/x", () =>
    transportError("unable to upgrade connection: pod does not exist"),
  );
  const r = await run(w);
  assert.equal(r.records[0]!.error, "unable to upgrade connection: pod does not exist");
  assert.equal(
    await metricValue(w.metrics, "hookguard_hook_executions_total", {
      result: "failed",
      phase: "pre",
      source: "annotation",
    }),
    1,
  );
  // failures by namespace: the pod's namespace is the one object label
  const ns = w.cluster.pods[0]!.metadata!.namespace!;
  assert.equal(
    await metricValue(w.metrics, "hookguard_hook_executions_total", { namespace: ns, result: "failed" }),
    1,
  );
  assert.equal(
    await metricValue(w.metrics, "hookguard_hook_executions_total", {
      namespace: `not-${ns}`,
      result: "failed",
    }),
    0,
  );
});

test("E16: command [] is blocked by the domain finding: recorded failed, never executed", async () => {
  const w = world();
  w.cluster.pods.push(pod("p").hook("pre", "[]").build());
  const r = await run(w);
  assert.equal(w.executor.calls.length, 0);
  assert.deepEqual(r.status.hookStatus, { hooksAttempted: 1, hooksFailed: 1 });
  assert.equal(r.records[0]!.result, "failed");
  assert.match(r.records[0]!.error!, /\S/);
  assert.ok(r.log.some((l) => l.msg === "Error executing hook" && l.error === r.records[0]!.error));
});

test("E22: a missing container fails without exec, even on a Succeeded pod (checked before the phase)", async () => {
  const w = world();
  w.cluster.pods.push(
    pod("p").hook("pre", ["/bin/x"], { container: "nope", onError: "Continue" }).phase("Succeeded").build(),
  );
  const r = await run(w);
  assert.equal(w.executor.calls.length, 0);
  assert.equal(r.records[0]!.result, "failed");
  assert.match(r.records[0]!.error!, /nope/);
  assert.deepEqual(r.status.hookStatus, { hooksAttempted: 1, hooksFailed: 1 });
});

test("E38: a Succeeded pod: no exec, Velero's skip line, attempted but not failed, Completed", async () => {
  const w = world();
  w.cluster.pods.push(pod("p").hook("pre", ["/bin/x"]).hook("post", ["/bin/y"]).phase("Succeeded").build());
  const r = await run(w);
  assert.equal(w.executor.calls.length, 0);
  assert.deepEqual(r.status.hookStatus, { hooksAttempted: 2, hooksFailed: 0 });
  assert.equal(r.status.phase, "Completed");
  const skip = r.log.filter(
    (l) => l.msg === "Pod entered phase Succeeded before some post-backup exec hooks ran",
  );
  assert.equal(skip.length, 2);
  assert.deepEqual(skip[0]!.hookCommand, ["/bin/x"]);
  assert.deepEqual(
    r.records.map((x) => x.result),
    ["skipped", "skipped"],
  );
  assert.ok(r.archive?.has("resources/pods/namespaces/default/p.json"));
});

test("E39 (safer): a Pending pod or a container that is not running fails with a clear error, without exec", async () => {
  const w = world();
  w.cluster.pods.push(
    pod("pending").hook("pre", ["/bin/x"], { onError: "Continue" }).phase("Pending").build(),
  );
  w.cluster.pods.push(
    pod("crashed")
      .containers("app", "side")
      .hook("pre", ["/bin/x"], { container: "side", onError: "Continue" })
      .notRunning("side")
      .build(),
  );
  const r = await run(w);
  assert.equal(w.executor.calls.length, 0);
  assert.deepEqual(
    r.records.map((x) => [x.pod, x.error]),
    [
      ["pending", 'pod is Pending: container "app" is not running'],
      ["crashed", 'container "side" is not running'],
    ],
  );
  assert.deepEqual(r.status.hookStatus, { hooksAttempted: 2, hooksFailed: 2 });
});

test("a pod that vanished between collection and its hooks: hooks recorded failed, not silently dropped", async () => {
  const w = world();
  w.cluster.pods.push(pod("p").hook("pre", ["/bin/x"], { onError: "Continue" }).build());
  w.cluster.getPodOverride = () => ({ ok: true, value: undefined });
  const r = await run(w);
  assert.equal(w.executor.calls.length, 0);
  assert.equal(r.records[0]!.error, "pod no longer exists");
  assert.deepEqual(r.status.hookStatus, { hooksAttempted: 1, hooksFailed: 1 });
});

test("E40: pods being deleted or labelled exclude-from-backup are in no block: no hooks, not counted", async () => {
  const w = world();
  w.cluster.pods.push(pod("gone").hook("pre", ["/bin/x"]).deleting().build());
  w.cluster.pods.push(
    pod("skip").hook("pre", ["/bin/x"]).label("velero.io/exclude-from-backup", "true").build(),
  );
  const r = await run(w);
  assert.equal(w.executor.calls.length, 0);
  assert.deepEqual(r.status.hookStatus, { hooksAttempted: 0, hooksFailed: 0 });
  assert.deepEqual(r.status.progress, { totalItems: 0, itemsBackedUp: 0 });
});

const specHook = (command: string[], extra: Record<string, unknown> = {}) => ({
  exec: { command, ...extra },
});

test("E25/E26 (unset = Fail): spec pre hooks [h0 ok, h1 fails, h2]: h2 not executed but attempted; no post hooks", async () => {
  const w = world();
  w.cluster.pods.push(pod("p").build());
  w.executor.behaviours.set("/bin/false", () => exited(1));
  const r = await run(w, {
    hooks: {
      resources: [
        {
          name: "r",
          pre: [specHook(["/bin/h0"]), specHook(["/bin/false"]), specHook(["/bin/h2"])],
          post: [specHook(["/bin/post"])],
        },
      ],
    },
  });
  assert.deepEqual(execs(w), ["exec default/p app /bin/h0", "exec default/p app /bin/false"]);
  assert.deepEqual(r.status.hookStatus, { hooksAttempted: 3, hooksFailed: 1 });
  assert.deepEqual(
    r.records.map((x) => x.result),
    ["succeeded", "failed", "not_run"],
  );
  assert.equal(r.records[1]!.name, "r");
});

test("spec hooks with on-error Continue keep going after a failure", async () => {
  const w = world();
  w.cluster.pods.push(pod("p").build());
  w.executor.behaviours.set("/bin/false", () => exited(1));
  const r = await run(w, {
    hooks: {
      resources: [
        { name: "r", pre: [specHook(["/bin/false"], { onError: "Continue" }), specHook(["/bin/h1"])] },
      ],
    },
  });
  assert.deepEqual(execs(w), ["exec default/p app /bin/false", "exec default/p app /bin/h1"]);
  assert.deepEqual(r.status.hookStatus, { hooksAttempted: 2, hooksFailed: 1 });
});

test("E27: a spec hook with an empty name is blocked: failed, not executed", async () => {
  const w = world();
  w.cluster.pods.push(pod("p").build());
  const r = await run(w, {
    hooks: { resources: [{ name: "", pre: [specHook(["/bin/x"], { onError: "Continue" })] }] },
  });
  assert.equal(w.executor.calls.length, 0);
  assert.deepEqual(r.status.hookStatus, { hooksAttempted: 1, hooksFailed: 1 });
  assert.match(r.records[0]!.error!, /name/);
});

test("E28: two entries named q on container app both execute, tracker counts one", async () => {
  const w = world();
  w.cluster.pods.push(pod("p").build());
  const entry = { name: "q", pre: [specHook(["/bin/q"], { container: "app" })] };
  const r = await run(w, { hooks: { resources: [entry, entry] } });
  assert.equal(w.executor.calls.length, 2);
  assert.deepEqual(r.status.hookStatus, { hooksAttempted: 1, hooksFailed: 0 });
});

test("E36/E37: annotation wins per pod and phase; the other phase may come from the spec", async () => {
  const w = world({ workers: 1 });
  w.cluster.pods.push(pod("p").hook("post", ["/bin/ann-post"]).build());
  w.cluster.pods.push(pod("q").hook("pre", ["/bin/ann-pre"]).build());
  const r = await run(w, {
    hooks: {
      resources: [{ name: "s", pre: [specHook(["/bin/spec-pre"])], post: [specHook(["/bin/spec-post"])] }],
    },
  });
  assert.deepEqual(execs(w), [
    "exec default/p app /bin/spec-pre",
    "exec default/p app /bin/ann-post",
    "exec default/q app /bin/ann-pre",
    "exec default/q app /bin/spec-post",
  ]);
  assert.deepEqual(r.status.hookStatus, { hooksAttempted: 4, hooksFailed: 0 });
});

test("E46: a Running pod outside the label selector that mounts a selected pod's PVC joins the block and gets hooks", async () => {
  const w = world();
  const { pvc, pv } = pvcAndPv("shared");
  pvc.metadata!.labels = { app: "db" };
  w.cluster.pvcs.push(pvc);
  w.cluster.pvs.push(pv);
  w.cluster.pods.push(
    pod("selected").label("app", "db").pvc("shared").hook("pre", ["/bin/pre", "selected"]).build(),
  );
  w.cluster.pods.push(pod("other").pvc("shared").hook("pre", ["/bin/pre", "other"]).build());
  w.cluster.pods.push(pod("unrelated").hook("pre", ["/bin/pre", "unrelated"]).build());
  const r = await run(w, { labelSelector: { matchLabels: { app: "db" } } });
  assert.deepEqual(execs(w), [
    "exec default/selected app /bin/pre selected",
    "exec default/other app /bin/pre other",
  ]);
  assert.deepEqual(r.status.hookStatus, { hooksAttempted: 2, hooksFailed: 0 });
});

test("E43/E44 (safer): a failed or never-ready snapshot is an item error; post hooks still run", async () => {
  for (const variant of ["error", "timeout"] as const) {
    const w = world({ volumeSnapshotClass: "csi", snapshotTimeoutMs: 50 });
    const { pvc, pv } = pvcAndPv("data");
    w.cluster.pvcs.push(pvc);
    w.cluster.pvs.push(pv);
    w.cluster.pods.push(pod("p").pvc("data").hook("pre", FREEZE).hook("post", UNFREEZE).build());
    if (variant === "error") {
      const orig = w.cluster.createVolumeSnapshot.bind(w.cluster);
      w.cluster.createVolumeSnapshot = async (...args) => {
        const res = await orig(...args);
        w.cluster.snapshots.get(`default/${args[1]}`)!.error = "csi driver said no";
        return res;
      };
    } else {
      w.cluster.snapshotReadyAfterReads = Number.MAX_SAFE_INTEGER;
    }
    const r = await run(w);
    assert.deepEqual(
      execs(w),
      [`exec default/p app ${FREEZE.join(" ")}`, `exec default/p app ${UNFREEZE.join(" ")}`],
      variant,
    );
    assert.equal(r.status.phase, "PartiallyFailed");
    assert.equal(r.status.errors, 1);
    const itemErr = r.log.find((l) => l.msg === "Error backing up item")!;
    assert.match(
      String(itemErr.error),
      variant === "error" ? /csi driver said no/ : /not ready to use within/,
    );
  }
});

test("freeze window: an item step that outlives --max-freeze-window is abandoned and the post hooks are forced", async () => {
  const w = world({ volumeSnapshotClass: "csi", snapshotTimeoutMs: 3_600_000, maxFreezeWindowMs: 100 });
  const { pvc, pv } = pvcAndPv("data");
  w.cluster.pvcs.push(pvc);
  w.cluster.pvs.push(pv);
  w.cluster.snapshotReadyAfterReads = Number.MAX_SAFE_INTEGER;
  w.cluster.pods.push(pod("p").pvc("data").hook("pre", FREEZE).hook("post", UNFREEZE).build());
  const r = await run(w);
  assert.deepEqual(execs(w), [
    `exec default/p app ${FREEZE.join(" ")}`,
    `exec default/p app ${UNFREEZE.join(" ")}`,
  ]);
  assert.ok(r.log.some((l) => l.level === "error" && /freeze window of 100ms/.test(l.msg)));
  assert.equal(r.status.phase, "PartiallyFailed");
  assert.equal(
    await metricValue(w.metrics, "hookguard_forced_post_hooks_total", { reason: "freeze_window" }),
    1,
  );
  assert.equal(await metricValue(w.metrics, "hookguard_freeze_window_seconds"), 1, "one block observed");
  assert.equal(await metricValue(w.metrics, "hookguard_pods_awaiting_post_hooks"), 0);
});

test("the pending record cannot be written: no hook runs in that block (nobody could thaw it after a crash)", async () => {
  const w = world();
  w.cluster.failMetadataPatch = true;
  w.cluster.pods.push(pod("p").hook("pre", FREEZE).hook("post", UNFREEZE).build());
  const r = await run(w);
  assert.equal(w.executor.calls.length, 0);
  assert.equal(r.status.phase, "PartiallyFailed");
  assert.ok(r.log.some((l) => /could not persist the pods awaiting post hooks/.test(l.msg)));
});

test("E47: a backup without hooks: hookStatus zeros, Completed", async () => {
  const w = world();
  w.cluster.pods.push(pod("p").build());
  const r = await run(w);
  assert.equal(r.status.phase, "Completed");
  assert.deepEqual(r.status.hookStatus, { hooksAttempted: 0, hooksFailed: 0 });
  assert.equal(w.cluster.metadataPatches.length, 0, "no pending record for a block without post hooks");
});

test("E32: an invalid label selector operator in a hook spec fails the whole backup, no hookStatus", async () => {
  const w = world();
  w.cluster.pods.push(pod("p").build());
  const r = await run(w, {
    hooks: {
      resources: [
        {
          name: "r",
          labelSelector: { matchExpressions: [{ key: "a", operator: "Foo" }] },
          pre: [specHook(["/bin/x"])],
        },
      ],
    },
  });
  assert.equal(r.status.phase, "Failed");
  assert.match(r.status.failureReason!, /Foo/);
  assert.equal(r.status.hookStatus, undefined);
  assert.equal(w.executor.calls.length, 0);
});

test("namespaces, resources and orLabelSelectors select what is collected", async () => {
  const w = world();
  w.cluster.namespaces = ["team-a", "team-b", "kube-system"];
  w.cluster.pods.push(pod("a", "team-a").label("tier", "db").hook("pre", ["/bin/a"]).build());
  w.cluster.pods.push(pod("b", "team-b").label("tier", "web").hook("pre", ["/bin/b"]).build());
  w.cluster.pods.push(pod("c", "team-b").label("tier", "cache").hook("pre", ["/bin/c"]).build());
  w.cluster.pods.push(pod("k", "kube-system").label("tier", "db").hook("pre", ["/bin/k"]).build());
  await run(w, {
    includedNamespaces: ["team-*"],
    orLabelSelectors: [{ matchLabels: { tier: "db" } }, { matchLabels: { tier: "web" } }],
  });
  assert.deepEqual(execs(w), ["exec team-a/a app /bin/a", "exec team-b/b app /bin/b"]);
  const w2 = world();
  w2.cluster.pods.push(pod("p").hook("pre", ["/bin/p"]).build());
  const r2 = await run(w2, { excludedResources: ["po"] });
  assert.equal(w2.executor.calls.length, 0);
  assert.deepEqual(r2.status.progress, { totalItems: 0, itemsBackedUp: 0 });
});

test("hook failures emit Warning events on the Backup and on the pod; the finish emits one on the Backup", async () => {
  const w = world();
  w.cluster.pods.push(pod("p").hook("pre", ["/bin/false"], { onError: "Continue" }).build());
  w.executor.behaviours.set("/bin/false", () => exited(3));
  await run(w);
  const reasons = w.cluster.kubeEvents.map((e) => `${e.kind}/${e.name} ${e.type} ${e.reason}`);
  assert.ok(reasons.includes("Backup/b1 Warning HookFailed"));
  assert.ok(reasons.includes("Pod/p Warning BackupHookFailed"));
  assert.ok(reasons.includes("Backup/b1 Warning BackupPartiallyFailed"));
  assert.match(w.cluster.kubeEvents.find((e) => e.reason === "HookFailed")!.message, /exit code 3/);
});

test("an aborted run (leadership lost) starts no further hooks and leaves the Backup InProgress with its record", async () => {
  const w = world({ volumeSnapshotClass: "csi" });
  const { pvc, pv } = pvcAndPv("data");
  w.cluster.pvcs.push(pvc);
  w.cluster.pvs.push(pv);
  w.cluster.pods.push(pod("p").pvc("data").hook("pre", FREEZE).hook("post", UNFREEZE).build());
  const ac = new AbortController();
  w.cluster.snapshotReadyAfterReads = Number.MAX_SAFE_INTEGER;
  const orig = w.cluster.createVolumeSnapshot.bind(w.cluster);
  w.cluster.createVolumeSnapshot = async (...args) => {
    ac.abort();
    return orig(...args);
  };
  const r = await run(w, {}, "b1", ac.signal);
  assert.equal(r.outcome.aborted, true);
  assert.deepEqual(execs(w), [`exec default/p app ${FREEZE.join(" ")}`]);
  assert.equal(r.status.phase, "InProgress", "status untouched: the recovering leader finishes it");
  assert.deepEqual(w.cluster.statusPatches, [], "no status write at all");
  assert.equal(
    r.backup.metadata.annotations?.["hookguard.io/pending-post-hooks"],
    JSON.stringify([{ namespace: "default", pod: "p", block: 0 }]),
  );
});
