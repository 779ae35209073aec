// Copies that controllers make of what people wrote, through the chart's own webhook configurations
// and the real webhook: a ReplicaSet from a Deployment's template, the pods a ReplicaSet controller
// creates, a Backup from a Schedule. A mistake written before hookguard was installed must not stop
// them (warnings that say where to fix it), while the author's own edit is still refused; and with
// the webhook down, neither copies nor Velero's status writes wait for it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { stringify } from "yaml";
import {
  REPLICASET_CONTROLLER,
  podTemplateHash,
  type ControllerWrite,
} from "../apiserver/workload-controllers.js";
import { deploymentYaml, eventually, podYaml, startE2e, type E2e } from "./harness.js";

const SLOPPY = {
  "pre.hook.backup.velero.io/command": '["/bin/sync"]',
  "pre.hook.backup.velero.io/timeout": "300",
};
const VELERO_USER = "system:serviceaccount:velero:velero-server";
let e: E2e;

before(async () => {
  e = await startE2e({
    workloadControllers: true,
    users: {
      [REPLICASET_CONTROLLER]: ["system:serviceaccounts", "system:serviceaccounts:kube-system"],
      [VELERO_USER]: ["system:serviceaccounts", "system:serviceaccounts:velero"],
    },
  });
});

after(async () => {
  await e?.stop();
});

/** A Deployment as it was stored before hookguard was installed (never admitted by it). */
function legacyDeployment(name: string, annotations: Record<string, string>, replicas = 2): any {
  return e.api.createObject({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default" },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations },
        spec: { containers: [{ name: "app", image: "busybox:1.36" }] },
      },
    },
  });
}

/** The pods of a ReplicaSet, as `kubectl get pods -o json` lists them. */
async function podsOf(rsName: string): Promise<any[]> {
  const r = await e.run("get", "pods", "-n", "default", "-o", "json");
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout).items.filter((p: any) => p.metadata.ownerReferences?.[0]?.name === rsName);
}

function writesBy(
  controller: ControllerWrite["controller"],
  method: string,
  pathPart: string,
): ControllerWrite[] {
  return e.api.controllers!.writes.filter(
    (w) => w.controller === controller && w.method === method && w.path.includes(pathPart),
  );
}

describe("with the webhook running", () => {
  test("a legacy Deployment's ReplicaSet and pods are created with warnings naming their template; the author's edit is refused", async () => {
    const d = legacyDeployment("legacy", SLOPPY);
    const hash = podTemplateHash(d.spec.template);
    const rsName = `legacy-${hash}`;
    const rs: any = await eventually(
      "the ReplicaSet",
      async () => e.api.getObject("apps/v1", "ReplicaSet", "default", rsName),
      30_000,
    );
    assert.deepEqual(rs.metadata.ownerReferences, [
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        name: "legacy",
        uid: d.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.equal(rs.metadata.labels["pod-template-hash"], hash);
    assert.equal(
      rs.spec.template.metadata.annotations["pre.hook.backup.velero.io/timeout"],
      "300",
      "the copy carries the mistake",
    );

    // the store has the ReplicaSet a moment before the controller has read the answer
    const rsWrite = await eventually(
      "the controller's record of its write",
      async () => writesBy("deployment", "POST", "/replicasets").find((w) => w.code === 201),
      30_000,
    );
    assert.equal(
      rsWrite.warnings[0],
      'ReplicaSet copied by a controller: fix its hooks in the template of Deployment "legacy"',
    );
    assert.ok(
      rsWrite.warnings.some(
        (w) => w.startsWith("not denied (controller copy): ") && w.includes('timeout "300"'),
      ),
      rsWrite.warnings.join("\n"),
    );

    const pods = await eventually(
      "two pods",
      async () => {
        const list = await podsOf(rsName);
        return list.length === 2 ? list : undefined;
      },
      30_000,
    );
    for (const p of pods) {
      assert.match(p.metadata.name, new RegExp(`^${rsName}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      assert.equal(p.metadata.labels["pod-template-hash"], hash);
      assert.equal(p.metadata.ownerReferences[0].controller, true);
      assert.equal(p.metadata.ownerReferences[0].uid, rs.metadata.uid);
    }
    const podWrites = await eventually(
      "the pod writes",
      async () => {
        const w = writesBy("replicaset", "POST", "/pods").filter((x) => x.code === 201);
        return w.length >= 2 ? w : undefined;
      },
      30_000,
    );
    for (const w of podWrites)
      assert.equal(
        w.warnings[0],
        `Pod copied by a controller: fix its hooks in the template of ReplicaSet "${rsName}"`,
      );
    assert.ok((await e.metric("hookguard_admission_controller_copies_total", { kind: "ReplicaSet" })) >= 1);
    assert.ok((await e.metric("hookguard_admission_controller_copies_total", { kind: "Pod" })) >= 2);

    // the author's own edit that writes a (new) mistake is still refused
    const edit = await e.run(
      "apply",
      "-f",
      e.manifest(
        "legacy.yaml",
        deploymentYaml("legacy", { ...SLOPPY, "pre.hook.backup.velero.io/timeout": "301" }),
      ),
    );
    assert.notEqual(edit.code, 0, edit.stdout);
    assert.match(
      edit.stderr,
      /admission webhook "workloads\.validate\.hookguard\.io" denied the request: .*timeout "301"/,
    );
  });

  test("a pod created by the ReplicaSet controller's identity gets warnings; the same pod from a person is refused", async () => {
    const pod = podYaml("copied", SLOPPY);
    const byController = await e.run(
      "--user",
      REPLICASET_CONTROLLER,
      "apply",
      "-f",
      e.manifest("copied.yaml", pod),
    );
    assert.equal(byController.code, 0, byController.stderr);
    assert.match(
      byController.stderr,
      new RegExp(`Warning: Pod copied by ${REPLICASET_CONTROLLER}: fix its hooks in its source`),
    );
    assert.match(byController.stderr, /Warning: not denied \(controller copy\): .*timeout "300"/);
    const byPerson = await e.run("apply", "-f", e.manifest("person.yaml", podYaml("written", SLOPPY)));
    assert.notEqual(byPerson.code, 0);
    assert.match(byPerson.stderr, /admission webhook "pods\.validate\.hookguard\.io" denied the request/);
  });

  test("a Backup Velero's schedule controller created from a Schedule gets warnings naming the Schedule; the Schedule itself is refused", async () => {
    const hooks = {
      resources: [
        { name: "freeze", pre: [{ exec: { container: "app", command: ["/bin/sync"], timeout: "300" } }] },
      ],
    };
    const backup = (name: string, labels?: Record<string, string>) =>
      stringify({
        apiVersion: "velero.io/v1",
        kind: "Backup",
        metadata: { name, namespace: "velero", ...(labels ? { labels } : {}) },
        spec: { includedNamespaces: ["default"], hooks },
      });
    const scheduled = await e.run(
      "--user",
      VELERO_USER,
      "create",
      "-f",
      e.manifest(
        "scheduled.yaml",
        backup("nightly-20261204010000", { "velero.io/schedule-name": "nightly" }),
      ),
    );
    assert.equal(scheduled.code, 0, scheduled.stderr);
    assert.match(
      scheduled.stderr,
      /Warning: Backup copied by a controller: fix its hooks in Schedule "nightly"/,
    );
    assert.match(
      scheduled.stderr,
      /Warning: not denied \(controller copy\): spec\.hooks\.resources\[0\]\.pre\[0\]\.exec\.timeout/,
    );
    assert.ok((await e.metric("hookguard_admission_controller_copies_total", { kind: "Backup" })) >= 1);

    const adHoc = await e.run("create", "-f", e.manifest("adhoc.yaml", backup("adhoc")));
    assert.notEqual(adHoc.code, 0);
    assert.match(adHoc.stderr, /admission webhook "velero\.validate\.hookguard\.io" denied the request/);
    const schedule = stringify({
      apiVersion: "velero.io/v1",
      kind: "Schedule",
      metadata: { name: "nightly", namespace: "velero" },
      spec: { schedule: "0 1 * * *", template: { includedNamespaces: ["default"], hooks } },
    });
    const author = await e.run("create", "-f", e.manifest("schedule.yaml", schedule));
    assert.notEqual(author.code, 0);
    assert.match(
      author.stderr,
      /admission webhook "velero\.validate\.hookguard\.io" denied the request: spec\.template\.hooks/,
    );
  });
});

describe("with the webhook stopped", () => {
  const hooks = {
    resources: [{ name: "freeze", pre: [{ exec: { container: "app", command: ["/bin/sync"] } }] }],
  };
  before(async () => {
    const r = await e.run(
      "create",
      "-f",
      e.manifest(
        "backup.yaml",
        stringify({
          apiVersion: "velero.io/v1",
          kind: "Backup",
          metadata: { name: "running", namespace: "velero" },
          spec: { includedNamespaces: ["default"], hooks },
        }),
      ),
    );
    assert.equal(r.code, 0, r.stderr);
    await e.webhook.stop();
  });

  test("a hooked Deployment's ReplicaSet and its pods are still created", async () => {
    const d = legacyDeployment("rollout", { "pre.hook.backup.velero.io/command": '["/bin/sync"]' }, 1);
    const rsName = `rollout-${podTemplateHash(d.spec.template)}`;
    await eventually(
      "the ReplicaSet",
      async () => e.api.getObject("apps/v1", "ReplicaSet", "default", rsName),
      30_000,
    );
    const pod = await eventually("its pod", async () => (await podsOf(rsName))[0], 30_000);
    assert.equal(pod.metadata.annotations["pre.hook.backup.velero.io/command"], '["/bin/sync"]');
    // and the outage was real: the controllers' writes reached no webhook, a person's write is refused
    const r = await e.run(
      "apply",
      "-f",
      e.manifest(
        "new.yaml",
        deploymentYaml("fresh", { "pre.hook.backup.velero.io/command": '["/bin/sync"]' }),
      ),
    );
    assert.match(r.stderr, /failed calling webhook "workloads\.validate\.hookguard\.io"/);
  });

  test("Velero's status writes (merge patch and full update of the Backup) go through; a hook change is refused", async () => {
    const patch = await e.run(
      "--user",
      VELERO_USER,
      "patch",
      "backup",
      "running",
      "-n",
      "velero",
      "--type",
      "merge",
      "-p",
      JSON.stringify({ status: { phase: "InProgress", startTimestamp: "2026-12-04T01:00:00Z" } }),
    );
    assert.equal(patch.code, 0, patch.stderr);
    const current = await e.getJson("backup", "running", "velero");
    current.status = { ...(current.status ?? {}), phase: "Completed" };
    const update = await e.run(
      "--user",
      VELERO_USER,
      "replace",
      "-f",
      e.manifest("replace.json", JSON.stringify(current)),
    );
    assert.equal(update.code, 0, update.stderr);
    const label = await e.run(
      "--user",
      VELERO_USER,
      "label",
      "backup",
      "running",
      "-n",
      "velero",
      "velero.io/storage-location=default",
    );
    assert.equal(label.code, 0, label.stderr);

    const hookChange = await e.run(
      "patch",
      "backup",
      "running",
      "-n",
      "velero",
      "--type",
      "merge",
      "-p",
      JSON.stringify({
        spec: {
          hooks: {
            resources: [{ name: "freeze", pre: [{ exec: { container: "app", command: ["/bin/true"] } }] }],
          },
        },
      }),
    );
    assert.notEqual(hookChange.code, 0, hookChange.stdout);
    assert.match(
      hookChange.stderr,
      /failed calling webhook "velero\.validate\.hookguard\.io"|failed calling webhook "velero\.mutate\.hookguard\.io"/,
    );
  });
});
