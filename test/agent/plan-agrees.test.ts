// `backup plan` and a real backup agree on every reason a hook is not executed: the same pods, planned
// and then run, give the same verdict per hook (run, skipped, failed without exec) and the same reason
// text. Both call the domain's hookGate; this holds them to it, so plan can never promise a hook the
// agent would refuse.
import { test } from "node:test";
import assert from "node:assert/strict";
import { planBackup } from "../../src/agent/scope/plan.js";
import { pod } from "./fakes.js";
import { run, world } from "./harness.js";

test("plan and a real run agree on every skip and refusal reason, hook by hook", async () => {
  const w = world();
  w.cluster.pods.push(pod("ok").hook("pre", ["/bin/true"]).hook("post", ["/bin/true"]).build());
  w.cluster.pods.push(
    pod("done").hook("pre", ["/bin/true"], { onError: "Continue" }).phase("Succeeded").build(),
  );
  w.cluster.pods.push(pod("failed").hook("post", ["/bin/true"]).phase("Failed").build());
  w.cluster.pods.push(
    pod("pending").hook("pre", ["/bin/true"], { onError: "Continue" }).phase("Pending").build(),
  );
  w.cluster.pods.push(
    pod("stopped")
      .containers("app", "side")
      .notRunning("side")
      .hook("pre", ["/bin/true"], { container: "side", onError: "Continue" })
      .build(),
  );
  w.cluster.pods.push(
    pod("missing").hook("pre", ["/bin/true"], { container: "nope", onError: "Continue" }).build(),
  );
  w.cluster.pods.push(pod("broken").hook("pre", "['/bin/sync']", { onError: "Continue" }).build());

  const planned = await planBackup(w.cluster, {});
  assert.ok(planned.ok);
  const verdicts = new Map<string, string>();
  for (const block of planned.value.blocks) {
    for (const p of block.pods) {
      for (const h of p.hooks) {
        const verdict = h.blockedBy
          ? `failed: ${h.blockedBy.join("; ")}`
          : h.skippedBecause
            ? `skipped: ${h.skippedBecause}`
            : "run";
        verdicts.set(`${p.name}/${h.phase}`, verdict);
      }
    }
  }

  const r = await run(w);
  const executed = new Set(w.executor.calls.map((c) => `${c.pod}`));
  const actual = new Map<string, string>();
  for (const rec of r.records) {
    const verdict =
      rec.result === "skipped"
        ? `skipped: ${[...r.log].find((l) => l.msg.startsWith("Pod entered phase") && l.pod === rec.pod)?.msg}`
        : executed.has(rec.pod)
          ? "run"
          : `failed: ${rec.error}`;
    actual.set(`${rec.pod}/${rec.phase}`, verdict);
  }

  // every reason is exercised: run, both skip phases, Pending, a stopped container, a missing container, a blocker
  assert.deepEqual([...verdicts.keys()].sort(), [...actual.keys()].sort());
  assert.deepEqual(Object.fromEntries([...actual].sort()), Object.fromEntries([...verdicts].sort()));
  const kinds = [...verdicts.values()].map((v) => v.split(":")[0]);
  assert.ok(
    kinds.includes("run") && kinds.includes("skipped") && kinds.filter((k) => k === "failed").length >= 4,
    [...verdicts.values()].join("\n"),
  );
  assert.match(verdicts.get("stopped/pre")!, /container "side" is not running/);
});
