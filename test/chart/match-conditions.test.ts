// The chart's matchConditions evaluated (with the API-server double's CEL-subset evaluator) against the
// objects the API server would send: what reaches the webhook, and what never does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { evaluateCel } from "../apiserver/cel-subset.js";
import { findOne, renderChart } from "./render.js";

const hook = { "pre.hook.backup.velero.io/command": '["/sbin/fsfreeze","--freeze","/data"]' };
const pod = (annotations?: Record<string, string>) => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "shop", ...(annotations ? { annotations } : {}) }, spec: { containers: [{ name: "app", image: "busybox" }] } });
const deployment = (templateAnnotations?: Record<string, string>, own?: Record<string, string>) => ({
  apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: "shop", ...(own ? { annotations: own } : {}) },
  spec: { selector: { matchLabels: { app: "d" } }, template: { metadata: { labels: { app: "d" }, ...(templateAnnotations ? { annotations: templateAnnotations } : {}) }, spec: pod().spec } },
});
const cronJob = (annotations?: Record<string, string>) => ({
  apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "c", namespace: "shop" },
  spec: { schedule: "0 * * * *", jobTemplate: { spec: { template: { metadata: annotations ? { annotations } : {}, spec: pod().spec } } } },
});

async function conditions(): Promise<{ pods: string; workloads: string }> {
  const [pods, workloads] = findOne(await renderChart(), "ValidatingWebhookConfiguration").webhooks;
  return { pods: pods.matchConditions[0].expression, workloads: workloads.matchConditions[0].expression };
}

function reaches(expr: string, operation: "CREATE" | "UPDATE", object: unknown, oldObject: unknown = null): boolean {
  return evaluateCel(expr, { object, oldObject, request: { operation, namespace: "shop", userInfo: { username: "alice" } } });
}

test("pods: only those with a backup or restore hook annotation (legacy keys too), and UPDATEs that remove one", async () => {
  const { pods } = await conditions();
  const cases: Array<[string, "CREATE" | "UPDATE", unknown, unknown, boolean]> = [
    ["pre hook", "CREATE", pod(hook), null, true],
    ["legacy unprefixed key", "CREATE", pod({ "hook.backup.velero.io/command": "/bin/true" }), null, true],
    ["restore hook", "CREATE", pod({ "post.hook.restore.velero.io/command": '["/bin/true"]' }), null, true],
    ["restore init container", "CREATE", pod({ "init.hook.restore.velero.io/container-image": "busybox" }), null, true],
    ["no annotations", "CREATE", pod(), null, false],
    ["other annotations", "CREATE", pod({ "prometheus.io/scrape": "true", "backup.velero.io/backup-volumes": "data" }), null, false],
    ["hook removed by an UPDATE", "UPDATE", pod({}), pod(hook), true],
    ["hook kept on UPDATE", "UPDATE", pod(hook), pod(hook), true],
    ["unrelated UPDATE", "UPDATE", pod({ a: "b" }), pod(), false],
  ];
  for (const [what, op, object, old, expected] of cases) assert.equal(reaches(pods, op, object, old), expected, what);
});

test("workloads: a hook on the object, its pod template, or a CronJob's pod template; never an evaluation error", async () => {
  const { workloads } = await conditions();
  const rcWithoutTemplate = { apiVersion: "v1", kind: "ReplicationController", metadata: { name: "rc", namespace: "shop" }, spec: { replicas: 0 } };
  const cases: Array<[string, "CREATE" | "UPDATE", unknown, unknown, boolean]> = [
    ["Deployment template hook", "CREATE", deployment(hook), null, true],
    ["Deployment without hooks", "CREATE", deployment(), null, false],
    ["Deployment with an unrelated template annotation", "CREATE", deployment({ "checksum/config": "abc" }), null, false],
    ["hook on the Deployment itself", "CREATE", deployment(undefined, hook), null, true],
    ["CronJob job template hook", "CREATE", cronJob({ "post.hook.backup.velero.io/command": '["/bin/true"]' }), null, true],
    ["CronJob without hooks", "CREATE", cronJob(), null, false],
    ["ReplicationController without a template", "CREATE", rcWithoutTemplate, null, false],
    ["template hook removed by an UPDATE", "UPDATE", deployment(), deployment(hook), true],
    ["CronJob hook removed by an UPDATE", "UPDATE", cronJob(), cronJob(hook), true],
    ["scale UPDATE without hooks", "UPDATE", deployment(), deployment(), false],
  ];
  for (const [what, op, object, old, expected] of cases) assert.equal(reaches(workloads, op, object, old), expected, what);
});
