// The API-server double's StatefulSet controller (workload-controllers.ts), seen through the real
// kubectl: `kubectl apply` of a StatefulSet gives pods named, labelled and owned as a real cluster's
// statefulset controller makes them, one ordinal at a time, with a PVC per claim template, and
// scaling down removes the highest ordinal.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { waitFor } from "../agent/double.js";
import { Kubectl } from "./helpers.js";

let api: ApiServerHandle;
let kubectl: Kubectl;

before(async () => {
  api = await startApiServer({ namespaces: ["db"], workloadControllers: true });
  kubectl = new Kubectl(api.kubeconfigPath);
});

after(async () => {
  kubectl?.cleanup();
  await api?.stop();
});

const manifest = (replicas: number): string =>
  JSON.stringify({
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "pg", namespace: "db" },
    spec: {
      replicas,
      serviceName: "pg",
      selector: { matchLabels: { app: "pg" } },
      template: {
        metadata: {
          labels: { app: "pg" },
          annotations: { "post.hook.backup.velero.io/command": '["/sbin/fsfreeze","-u","/var/lib/pg"]' },
        },
        spec: { containers: [{ name: "pg", image: "busybox" }] },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: "data" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
        },
      ],
    },
  });

async function pods(): Promise<any[]> {
  const r = await kubectl.run(["get", "pods", "-n", "db", "-l", "app=pg", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).items;
}

test("kubectl apply of a StatefulSet: pods NAME-0..N-1 with the controller's labels, owner, hostname and PVCs", async () => {
  const applied = await kubectl.run(["apply", "-f", "-"], manifest(2));
  assert.equal(applied.code, 0, applied.stderr);
  const made = await waitFor(
    "pg-0 and pg-1 Running",
    async () => {
      const p = await pods();
      return p.length === 2 && p.every((x) => x.status?.phase === "Running") ? p : undefined;
    },
    30_000,
    100,
  );
  const set = api.getObject("apps/v1", "StatefulSet", "db", "pg");
  assert.deepEqual(made.map((p) => p.metadata.name).sort(), ["pg-0", "pg-1"]);
  for (const p of made) {
    const i = p.metadata.name.slice(3);
    assert.equal(p.metadata.labels["statefulset.kubernetes.io/pod-name"], p.metadata.name);
    assert.equal(p.metadata.labels["apps.kubernetes.io/pod-index"], i);
    assert.match(p.metadata.labels["controller-revision-hash"], /^pg-[a-z0-9]+$/);
    assert.equal(
      p.metadata.annotations["post.hook.backup.velero.io/command"],
      '["/sbin/fsfreeze","-u","/var/lib/pg"]',
    );
    assert.deepEqual(p.metadata.ownerReferences, [
      {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        name: "pg",
        uid: set.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.equal(p.spec.hostname, p.metadata.name);
    assert.equal(p.spec.subdomain, "pg");
    assert.deepEqual(p.spec.volumes, [
      { name: "data", persistentVolumeClaim: { claimName: `data-${p.metadata.name}` } },
    ]);
  }
  // both pods share one revision; each has its own claim
  assert.equal(
    made[0].metadata.labels["controller-revision-hash"],
    made[1].metadata.labels["controller-revision-hash"],
  );
  const pvcs = await kubectl.run(["get", "pvc", "-n", "db", "-o", "name"]);
  assert.deepEqual(pvcs.stdout.trim().split("\n").sort(), [
    "persistentvolumeclaim/data-pg-0",
    "persistentvolumeclaim/data-pg-1",
  ]);
  // OrderedReady: pg-1 was created only once pg-0 was Running and Ready
  const created = api.controllers!.writes.filter(
    (w) => w.controller === "statefulset" && w.method === "POST" && w.path.endsWith("/pods"),
  );
  assert.equal(created.length, 2);
});

test("scaling down removes the highest ordinal and keeps its PVC", async () => {
  // (the double serves no /scale subresource: kubectl scale would get a 404)
  const r = await kubectl.run(["apply", "-f", "-"], manifest(1));
  assert.equal(r.code, 0, r.stderr);
  await waitFor(
    "pg-1 gone",
    async () => {
      const p = (await pods()).filter((x) => !x.metadata.deletionTimestamp);
      return p.length === 1 ? p : undefined;
    },
    30_000,
    100,
  ).then((p) => assert.equal(p[0].metadata.name, "pg-0"));
  assert.ok(api.getObject("v1", "PersistentVolumeClaim", "db", "data-pg-1"));
});
