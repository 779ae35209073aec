// The double's CEL subset against the chart's real matchConditions: every expression `helm template`
// renders must evaluate (no unsupported construct) and select exactly the objects with hook
// annotations, on CREATE and on UPDATE (where removing a hook is still seen via oldObject).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { parseAllDocuments } from "yaml";
import { evaluateCel } from "../apiserver/cel-subset.js";
import { startApiServer } from "../apiserver/server.js";
import { Kubectl } from "./helpers.js";

function helmTemplate(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["--no-install", "helm", "template", "hg", "charts/hookguard"], {
      cwd: new URL("../..", import.meta.url).pathname,
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`helm template failed (${code}): ${err}`)),
    );
  });
}

const hooked = { "pre.hook.backup.velero.io/command": '["/bin/true"]' };
const pod = (annotations?: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", ...(annotations ? { annotations } : {}) },
  spec: { containers: [] },
});
const deployment = (templateAnnotations?: Record<string, string>) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "d" },
  spec: {
    template: {
      metadata: { ...(templateAnnotations ? { annotations: templateAnnotations } : {}) },
      spec: {},
    },
  },
});
const request = (operation: string) => ({ operation, userInfo: { username: "u", groups: [] } });

test("the chart's webhook configurations apply cleanly to the double through kubectl", async () => {
  const docs = parseAllDocuments(await helmTemplate()).map((d) => d.toJS());
  const configs = docs.filter((d) => d && /WebhookConfiguration$/.test(d.kind));
  assert.ok(configs.length >= 2);
  const api = await startApiServer();
  const k = new Kubectl(api.kubeconfigPath);
  try {
    const r = await k.run([
      "apply",
      "-f",
      k.manifest("hooks.json", JSON.stringify({ apiVersion: "v1", kind: "List", items: configs })),
    ]);
    assert.equal(r.code, 0, r.stderr);
    for (const c of configs)
      assert.ok(
        api.getObject("admissionregistration.k8s.io/v1", c.kind, undefined, c.metadata.name),
        `${c.kind} ${c.metadata.name} stored`,
      );
  } finally {
    await api.stop();
    k.cleanup();
  }
});

test("the chart's matchConditions are inside the evaluator's subset and select hook annotations", async () => {
  const docs = parseAllDocuments(await helmTemplate()).map((d) => d.toJS());
  const hooks = docs
    .filter((d) => d && /WebhookConfiguration$/.test(d.kind))
    .flatMap((d) => d.webhooks ?? []);
  // the hook-annotation conditions; the ownerReference and velero.io conditions have their own cases in test/chart
  const conditions = hooks.flatMap((w: any) =>
    (w.matchConditions ?? [])
      .filter((mc: any) => mc.name === "has-hook-annotation")
      .map((mc: any) => ({ webhook: w.name as string, expression: mc.expression as string })),
  );
  assert.ok(conditions.length > 0, "the chart renders matchConditions");
  let checked = 0;
  for (const { webhook, expression } of conditions) {
    const isWorkload = /workload/.test(webhook);
    const withHook = isWorkload ? deployment(hooked) : pod(hooked);
    const without = isWorkload ? deployment() : pod();
    const sel = (object: unknown, oldObject: unknown, op: string) =>
      evaluateCel(expression, { object, oldObject, request: request(op) });
    if (!isWorkload && !/pod/.test(webhook)) continue; // Velero objects are always sent
    assert.equal(sel(withHook, null, "CREATE"), true, `${webhook}: CREATE with a hook`);
    assert.equal(sel(without, null, "CREATE"), false, `${webhook}: CREATE without hooks`);
    assert.equal(sel(without, withHook, "UPDATE"), true, `${webhook}: UPDATE removing a hook`);
    assert.equal(sel(without, without, "UPDATE"), false, `${webhook}: UPDATE without hooks`);
    if (isWorkload) {
      // hooks on a CronJob's job template's own metadata never run: sent, so the webhook can say where to move them
      const cronJob = {
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: { name: "c" },
        spec: { jobTemplate: { metadata: { annotations: hooked }, spec: { template: { spec: {} } } } },
      };
      assert.equal(
        sel(cronJob, null, "CREATE"),
        true,
        `${webhook}: CREATE with hooks on spec.jobTemplate.metadata`,
      );
      assert.equal(
        sel({ ...cronJob, spec: { jobTemplate: { spec: { template: { spec: {} } } } } }, null, "CREATE"),
        false,
        `${webhook}: a CronJob without hooks`,
      );
    }
    checked++;
  }
  assert.ok(checked >= 2, "pod and workload conditions were both checked");
});
