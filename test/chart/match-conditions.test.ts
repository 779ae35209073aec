// The chart's matchConditions evaluated (with the API-server double's CEL-subset evaluator) against the
// objects the API server would send: what reaches the webhook, and what never does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { evaluateCel } from "../apiserver/cel-subset.js";
import { findOne, renderChart } from "./render.js";

const hook = { "pre.hook.backup.velero.io/command": '["/sbin/fsfreeze","--freeze","/data"]' };
const pod = (annotations?: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "shop", ...(annotations ? { annotations } : {}) },
  spec: { containers: [{ name: "app", image: "busybox" }] },
});
const deployment = (templateAnnotations?: Record<string, string>, own?: Record<string, string>) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "d", namespace: "shop", ...(own ? { annotations: own } : {}) },
  spec: {
    selector: { matchLabels: { app: "d" } },
    template: {
      metadata: {
        labels: { app: "d" },
        ...(templateAnnotations ? { annotations: templateAnnotations } : {}),
      },
      spec: pod().spec,
    },
  },
});
const cronJob = (annotations?: Record<string, string>) => ({
  apiVersion: "batch/v1",
  kind: "CronJob",
  metadata: { name: "c", namespace: "shop" },
  spec: {
    schedule: "0 * * * *",
    jobTemplate: { spec: { template: { metadata: annotations ? { annotations } : {}, spec: pod().spec } } },
  },
});

async function conditions(): Promise<{ pods: string; workloads: string }> {
  const [pods, workloads] = findOne(await renderChart(), "ValidatingWebhookConfiguration").webhooks;
  return { pods: pods.matchConditions[0].expression, workloads: workloads.matchConditions[0].expression };
}

function reaches(
  expr: string,
  operation: "CREATE" | "UPDATE",
  object: unknown,
  oldObject: unknown = null,
): boolean {
  return evaluateCel(expr, {
    object,
    oldObject,
    request: { operation, namespace: "shop", userInfo: { username: "alice" } },
  });
}

test("pods: only those with a backup or restore hook annotation (legacy keys too), and UPDATEs that remove one", async () => {
  const { pods } = await conditions();
  const cases: Array<[string, "CREATE" | "UPDATE", unknown, unknown, boolean]> = [
    ["pre hook", "CREATE", pod(hook), null, true],
    ["legacy unprefixed key", "CREATE", pod({ "hook.backup.velero.io/command": "/bin/true" }), null, true],
    ["restore hook", "CREATE", pod({ "post.hook.restore.velero.io/command": '["/bin/true"]' }), null, true],
    [
      "restore init container",
      "CREATE",
      pod({ "init.hook.restore.velero.io/container-image": "busybox" }),
      null,
      true,
    ],
    ["no annotations", "CREATE", pod(), null, false],
    [
      "other annotations",
      "CREATE",
      pod({ "prometheus.io/scrape": "true", "backup.velero.io/backup-volumes": "data" }),
      null,
      false,
    ],
    ["hook removed by an UPDATE", "UPDATE", pod({}), pod(hook), true],
    ["hook kept on UPDATE", "UPDATE", pod(hook), pod(hook), true],
    ["unrelated UPDATE", "UPDATE", pod({ a: "b" }), pod(), false],
  ];
  for (const [what, op, object, old, expected] of cases)
    assert.equal(reaches(pods, op, object, old), expected, what);
});

test("workloads: a hook on the object, its pod template, or a CronJob's pod template; never an evaluation error", async () => {
  const { workloads } = await conditions();
  const rcWithoutTemplate = {
    apiVersion: "v1",
    kind: "ReplicationController",
    metadata: { name: "rc", namespace: "shop" },
    spec: { replicas: 0 },
  };
  const cases: Array<[string, "CREATE" | "UPDATE", unknown, unknown, boolean]> = [
    ["Deployment template hook", "CREATE", deployment(hook), null, true],
    ["Deployment without hooks", "CREATE", deployment(), null, false],
    [
      "Deployment with an unrelated template annotation",
      "CREATE",
      deployment({ "checksum/config": "abc" }),
      null,
      false,
    ],
    ["hook on the Deployment itself", "CREATE", deployment(undefined, hook), null, true],
    [
      "CronJob job template hook",
      "CREATE",
      cronJob({ "post.hook.backup.velero.io/command": '["/bin/true"]' }),
      null,
      true,
    ],
    ["CronJob without hooks", "CREATE", cronJob(), null, false],
    ["ReplicationController without a template", "CREATE", rcWithoutTemplate, null, false],
    ["template hook removed by an UPDATE", "UPDATE", deployment(), deployment(hook), true],
    ["CronJob hook removed by an UPDATE", "UPDATE", cronJob(), cronJob(hook), true],
    ["scale UPDATE without hooks", "UPDATE", deployment(), deployment(), false],
  ];
  for (const [what, op, object, old, expected] of cases)
    assert.equal(reaches(workloads, op, object, old), expected, what);
});

/** All of an entry's matchConditions hold (they are ANDed); an evaluation error throws. */
function entryReaches(
  entry: any,
  operation: "CREATE" | "UPDATE",
  resource: string,
  object: unknown,
  oldObject: unknown = null,
): boolean {
  const env = {
    object,
    oldObject,
    request: {
      operation,
      namespace: "velero",
      resource: {
        group: resource === "backups" || resource === "schedules" ? "velero.io" : "apps",
        version: "v1",
        resource,
      },
      userInfo: { username: "alice" },
    },
  };
  return entry.matchConditions.every((mc: any) => evaluateCel(mc.expression, env));
}

const freeze = {
  resources: [
    {
      name: "freeze",
      pre: [{ exec: { container: "app", command: ["/sbin/fsfreeze", "--freeze", "/data"] } }],
    },
  ],
};
const backup = (
  spec?: Record<string, unknown>,
  labels?: Record<string, string>,
  status?: Record<string, unknown>,
) => ({
  apiVersion: "velero.io/v1",
  kind: "Backup",
  metadata: { name: "b", namespace: "velero", ...(labels ? { labels } : {}) },
  ...(spec ? { spec } : {}),
  ...(status ? { status } : {}),
});
const schedule = (template?: Record<string, unknown>) => ({
  apiVersion: "velero.io/v1",
  kind: "Schedule",
  metadata: { name: "s", namespace: "velero" },
  spec: { schedule: "0 1 * * *", ...(template ? { template } : {}) },
});

test("velero.io entries: CREATE always, UPDATE only when the hooks change (absent on either side counts as no hooks)", async () => {
  const velero = findOne(await renderChart(), "ValidatingWebhookConfiguration").webhooks.find(
    (w: any) => w.name === "velero.validate.hookguard.io",
  );
  const hooked = backup({ includedNamespaces: ["shop"], hooks: freeze });
  const cases: Array<[string, "CREATE" | "UPDATE", string, unknown, unknown, boolean]> = [
    ["Backup CREATE", "CREATE", "backups", hooked, null, true],
    ["Backup CREATE without spec", "CREATE", "backups", backup(), null, true],
    [
      "Velero status write (phase InProgress)",
      "UPDATE",
      "backups",
      { ...hooked, status: { phase: "InProgress" } },
      { ...hooked, status: { phase: "New" } },
      false,
    ],
    [
      "status write on a Backup without hooks",
      "UPDATE",
      "backups",
      backup({ ttl: "1h" }, undefined, { phase: "Completed" }),
      backup({ ttl: "1h" }),
      false,
    ],
    [
      "status write on a Backup without spec",
      "UPDATE",
      "backups",
      backup(undefined, undefined, { phase: "Failed" }),
      backup(),
      false,
    ],
    [
      "hook command changed",
      "UPDATE",
      "backups",
      backup({
        includedNamespaces: ["shop"],
        hooks: { resources: [{ name: "freeze", pre: [{ exec: { command: ["/bin/sync"] } }] }] },
      }),
      hooked,
      true,
    ],
    ["hooks added", "UPDATE", "backups", hooked, backup({ includedNamespaces: ["shop"] }), true],
    ["hooks removed", "UPDATE", "backups", backup({ includedNamespaces: ["shop"] }), hooked, true],
    ["spec added with hooks", "UPDATE", "backups", hooked, backup(), true],
    [
      "other spec field changed",
      "UPDATE",
      "backups",
      backup({ includedNamespaces: ["shop", "db"], hooks: freeze }),
      hooked,
      false,
    ],
    ["Schedule CREATE", "CREATE", "schedules", schedule({ hooks: freeze }), null, true],
    [
      "Schedule status write",
      "UPDATE",
      "schedules",
      { ...schedule({ hooks: freeze }), status: { phase: "Enabled", lastBackup: "2026-12-04T01:00:00Z" } },
      schedule({ hooks: freeze }),
      false,
    ],
    [
      "Schedule without template, status write",
      "UPDATE",
      "schedules",
      { ...schedule(), status: { phase: "Enabled" } },
      schedule(),
      false,
    ],
    [
      "Schedule template hooks changed",
      "UPDATE",
      "schedules",
      schedule({ hooks: { resources: [] } }),
      schedule({ hooks: freeze }),
      true,
    ],
    [
      "Schedule template hooks added",
      "UPDATE",
      "schedules",
      schedule({ hooks: freeze }),
      schedule({ ttl: "24h" }),
      true,
    ],
  ];
  for (const [what, op, resource, object, old, expected] of cases)
    assert.equal(entryReaches(velero, op, resource, object, old), expected, what);
});

test("controllers' copies go to the Ignore entries only: owned workloads and scheduled (or owned) Backups", async () => {
  const webhooks = findOne(await renderChart(), "ValidatingWebhookConfiguration").webhooks;
  const entry = (name: string) => webhooks.find((w: any) => w.name === `${name}.validate.hookguard.io`);
  const owner = (controller: boolean | undefined) => [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "d",
      uid: "u1",
      ...(controller === undefined ? {} : { controller }),
    },
  ];
  const rs = (owners?: unknown[]) => ({
    ...deployment(hook),
    kind: "ReplicaSet",
    metadata: { name: "d-5d8c9f7b6", namespace: "shop", ...(owners ? { ownerReferences: owners } : {}) },
  });
  for (const [what, obj, copy] of [
    ["ReplicaSet with a controller owner", rs(owner(true)), true],
    ["ReplicaSet with a non-controller owner", rs(owner(false)), false],
    ["ReplicaSet with an owner without the controller field", rs(owner(undefined)), false],
    ["ReplicaSet without owners", rs(), false],
  ] as const) {
    assert.equal(
      entryReaches(entry("workloads"), "CREATE", "replicasets", obj),
      !copy,
      `${what}: Fail entry`,
    );
    assert.equal(
      entryReaches(entry("workload-copies"), "CREATE", "replicasets", obj),
      copy,
      `${what}: Ignore entry`,
    );
  }
  const scheduled = backup({ hooks: freeze }, { "velero.io/schedule-name": "nightly" });
  const ownedBackup = {
    ...backup({ hooks: freeze }),
    metadata: {
      name: "b",
      namespace: "velero",
      ownerReferences: [
        { apiVersion: "velero.io/v1", kind: "Schedule", name: "nightly", uid: "u2", controller: true },
      ],
    },
  };
  for (const [what, obj, copy] of [
    ["Backup labelled by the schedule controller", scheduled, true],
    ["Backup owned by its Schedule", ownedBackup, true],
    [
      "Backup with an empty schedule-name label",
      backup({ hooks: freeze }, { "velero.io/schedule-name": "" }),
      false,
    ],
    ["ad-hoc Backup", backup({ hooks: freeze }, { team: "shop" }), false],
  ] as const) {
    assert.equal(entryReaches(entry("velero"), "CREATE", "backups", obj), !copy, `${what}: Fail entry`);
    assert.equal(
      entryReaches(entry("backup-copies"), "CREATE", "backups", obj),
      copy,
      `${what}: Ignore entry`,
    );
  }
  // a Deployment without hooks reaches neither entry
  assert.equal(
    entryReaches(entry("workload-copies"), "CREATE", "replicasets", {
      ...rs(owner(true)),
      spec: { template: { metadata: {} } },
    }),
    false,
  );
});

test("exemptions: a request from an exempt user or a member of an exempt group never reaches the webhook; everyone else's does", async () => {
  const docs = await renderChart({
    webhook: {
      exemptUsers: ["system:serviceaccount:velero:velero"],
      exemptGroups: ["system:serviceaccounts:velero"],
    },
  });
  for (const kind of ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"]) {
    const entry = findOne(docs, kind).webhooks[0];
    // every matchCondition must hold for the request to be sent
    const sent = (userInfo: Record<string, unknown>): boolean =>
      entry.matchConditions.every((c: { expression: string }) =>
        evaluateCel(c.expression, {
          object: pod(hook),
          oldObject: null,
          request: { operation: "CREATE", namespace: "shop", userInfo },
        }),
      );
    assert.equal(
      sent({ username: "system:serviceaccount:velero:velero", groups: ["system:serviceaccounts"] }),
      false,
    );
    assert.equal(
      sent({ username: "system:serviceaccount:velero:restic", groups: ["system:serviceaccounts:velero"] }),
      false,
    );
    assert.equal(sent({ username: "alice", groups: ["system:authenticated", "devs"] }), true);
    // a name that only contains the exempt one is not it
    assert.equal(sent({ username: "system:serviceaccount:velero:velero-evil", groups: [] }), true);
    // no groups at all (the field is omitted): the has() guard keeps the condition true
    assert.equal(sent({ username: "bob" }), true);
  }
});
