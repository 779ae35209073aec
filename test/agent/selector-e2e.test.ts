// A selector backup on the API-server double, as a new user runs one against a StatefulSet: the
// pods carry app=postgres, their volumeClaimTemplates PVC carries no label. Velero's related-items
// rules decide what is taken: the selected pod pulls in its PVC, the PVC its PV and every Running
// pod mounting it; a pod that is not Running is not pulled in.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningAgent } from "../../src/cli/agent-main.js";
import { archivePath, readArchive } from "../../src/agent/store/archive.js";
import { planBackup, formatPlan } from "../../src/agent/scope/plan.js";
import { backupLogPath } from "../../src/agent/store/backup-log.js";
import { readResults, resultsPath } from "../../src/agent/store/results.js";
import { createAgentCluster } from "../../src/kube/agent-cluster.js";
import { silentLogger } from "../../src/log.js";
import { KubeConfig } from "@kubernetes/client-node";
import { RESOURCES } from "../apiserver/resources.js";
import type { ApiServerHandle } from "../apiserver/server.js";
import { backupPhase, newBackup, startDouble, startTestAgent, waitFor, waitForPodRunning } from "./double.js";

let api: ApiServerHandle;
let agent: RunningAgent;
let storageDir: string;
const NS = "db";

const hooks = (who: string) => ({
  "pre.hook.backup.velero.io/container": "tools",
  "pre.hook.backup.velero.io/command": JSON.stringify(["/bin/echo", "pre", who]),
  "post.hook.backup.velero.io/container": "tools",
  "post.hook.backup.velero.io/command": JSON.stringify(["/bin/echo", "post", who]),
});

function podOnPvc(
  name: string,
  labels: Record<string, string>,
  extraAnnotations: Record<string, string> = {},
): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: NS, labels, annotations: { ...hooks(name), ...extraAnnotations } },
    spec: {
      volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data-db-0" } }],
      containers: [{ name: "tools", image: "ubuntu", volumeMounts: [{ name: "data", mountPath: "/data" }] }],
    },
  };
}

before(async () => {
  api = await startDouble({ namespaces: [NS] });
  storageDir = mkdtempSync(join(tmpdir(), "hookguard-selector-"));
  // a volumeClaimTemplates PVC: no labels at all
  api.createObject({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: "pv-db-0" },
    spec: {
      capacity: { storage: "1Gi" },
      accessModes: ["ReadWriteOnce"],
      claimRef: { namespace: NS, name: "data-db-0" },
    },
    status: { phase: "Bound" },
  });
  api.createObject({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "data-db-0", namespace: NS },
    spec: {
      accessModes: ["ReadWriteOnce"],
      volumeName: "pv-db-0",
      resources: { requests: { storage: "1Gi" } },
    },
    status: { phase: "Bound" },
  });
  api.createObject(podOnPvc("db-0", { app: "postgres" }));
  api.createObject(podOnPvc("helper", { app: "backup-helper" }));
  api.createObject(podOnPvc("finished", {}, { "double.hookguard.dev/phase": "Succeeded" }));
  await waitForPodRunning(api, NS, "db-0");
  await waitForPodRunning(api, NS, "helper");
  await waitFor(
    "pod finished Succeeded",
    () => api.getObject("v1", "Pod", NS, "finished")?.status?.phase === "Succeeded" || undefined,
  );
  agent = await startTestAgent(api, storageDir, "selector-agent");
});

after(async () => {
  await agent?.stop();
  await api?.stop();
});

test("backup -l app=postgres keeps the unlabelled PVC, its PV and its snapshot; a second Running pod joins the block", async () => {
  api.createObject(
    newBackup("pg", { includedNamespaces: [NS], labelSelector: { matchLabels: { app: "postgres" } } }),
  );
  await waitFor("backup to finish", () =>
    ["Completed", "PartiallyFailed", "Failed"].includes(backupPhase(api, "pg") ?? "") ? true : undefined,
  );
  const b = api.getObject("velero.io/v1", "Backup", "velero", "pg");
  assert.equal(b.status.phase, "Completed", JSON.stringify(b.status));
  assert.deepEqual(b.status.hookStatus, { hooksAttempted: 4, hooksFailed: 0 });
  assert.deepEqual(b.status.progress, { totalItems: 4, itemsBackedUp: 4 });

  const archive = await readArchive(archivePath(storageDir, "pg"));
  assert.ok(archive.ok);
  const items = [...archive.value.keys()].filter((k) => k.startsWith("resources/"));
  for (const want of [
    `resources/pods/namespaces/${NS}/db-0.json`,
    `resources/pods/namespaces/${NS}/helper.json`,
    `resources/persistentvolumeclaims/namespaces/${NS}/data-db-0.json`,
    "resources/persistentvolumes/cluster/pv-db-0.json",
  ]) {
    assert.ok(items.includes(want), `${want} archived; archive has ${items.join(", ")}`);
  }
  assert.ok(!items.some((k) => k.includes("finished")), "the Succeeded pod is not pulled in");

  const snapshots = api.store.list(
    RESOURCES.find((r) => r.kind === "VolumeSnapshot")!,
    NS,
  );
  assert.deepEqual(
    snapshots.map((s) => s.spec.source.persistentVolumeClaimName),
    ["data-db-0"],
    "one VolumeSnapshot, of the unlabelled PVC",
  );
  const log = readFileSync(backupLogPath(storageDir, "pg"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const order = log.flatMap((l) =>
    l.msg === "running exec hook"
      ? [`${l.hookPhase} hook`]
      : l.msg === "created VolumeSnapshot"
        ? [`snapshot ${l.persistentVolumeClaim}`]
        : [],
  );
  assert.deepEqual(
    order,
    ["pre hook", "pre hook", "snapshot data-db-0", "post hook", "post hook"],
    "the PVC is snapshotted between the pre and the post hooks",
  );

  const results = await readResults(resultsPath(storageDir, "pg"));
  assert.ok(results.ok && results.value);
  assert.deepEqual(
    results.value.hooks.map((h) => `${h.phase} ${h.pod}`),
    ["pre db-0", "pre helper", "post db-0", "post helper"],
  );
});

test("backup plan shows the same block, with each pulled-in item and why", async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  const plan = await planBackup(createAgentCluster(kc, silentLogger()), {
    includedNamespaces: [NS],
    labelSelector: { matchLabels: { app: "postgres" } },
  });
  assert.ok(plan.ok);
  assert.equal(plan.value.blocks.length, 1);
  assert.deepEqual(plan.value.blocks[0]!.items, [
    `pods/${NS}/db-0`,
    `persistentvolumeclaims/${NS}/data-db-0`,
    "persistentvolumes/pv-db-0",
    `pods/${NS}/helper`,
  ]);
  const text = formatPlan(plan.value);
  assert.match(
    text,
    new RegExp(`pulled in: persistentvolumeclaims/${NS}/data-db-0 \\(mounted by pod ${NS}/db-0\\)`),
  );
  assert.match(text, new RegExp(`pulled in: persistentvolumes/pv-db-0 \\(bound to PVC ${NS}/data-db-0\\)`));
  assert.match(
    text,
    new RegExp(`pulled in: pods/${NS}/helper \\(Running pod mounting PVC ${NS}/data-db-0\\)`),
  );
  assert.doesNotMatch(text, /pods\/db\/finished/);
});
