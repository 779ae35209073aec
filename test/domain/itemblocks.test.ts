import { test } from "node:test";
import assert from "node:assert/strict";
import { buildItemBlocks } from "../../src/domain/index.js";
import type { ItemBlock, PodLike, PvcLike, PvLike } from "../../src/domain/index.js";

const podWith = (name: string, claims: string[], phase = "Running", ns = "ns1"): PodLike => ({
  metadata: { name, namespace: ns },
  spec: {
    containers: [{ name: "c" }],
    volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })),
  },
  status: { phase },
});
const pvc = (name: string, volumeName?: string, ns = "ns1"): PvcLike => ({
  metadata: { name, namespace: ns },
  spec: volumeName ? { volumeName } : {},
  status: { phase: volumeName ? "Bound" : "Pending" },
});
const pv = (name: string): PvLike => ({ metadata: { name } });
const shape = (blocks: ItemBlock[]): string[][] =>
  blocks.map((b) => b.items.map((i) => `${i.resource}/${i.namespace ? `${i.namespace}/` : ""}${i.name}`));

test("a pod with its PVC and bound PV form one block; unrelated items get their own blocks", () => {
  const blocks = buildItemBlocks({
    pods: [podWith("p1", ["data"]), podWith("p2", [])],
    pvcs: [pvc("data", "pv-1"), pvc("loose", "pv-2")],
    pvs: [pv("pv-1"), pv("pv-2"), pv("pv-3")],
  });
  assert.deepEqual(shape(blocks), [
    ["pods/ns1/p1", "persistentvolumeclaims/ns1/data", "persistentvolumes/pv-1"],
    ["pods/ns1/p2"],
    ["persistentvolumeclaims/ns1/loose", "persistentvolumes/pv-2"],
    ["persistentvolumes/pv-3"],
  ]);
  assert.deepEqual(
    blocks[0]!.pods.map((p) => p.metadata?.name),
    ["p1"],
  );
});

test("E41 two running pods sharing an RWX PVC land in one block, in collector order", () => {
  const blocks = buildItemBlocks({
    pods: [podWith("p1", ["shared"]), podWith("p2", ["shared"]), podWith("p3", ["own"])],
    pvcs: [pvc("shared", "pv-s"), pvc("own", "pv-o")],
    pvs: [pv("pv-s"), pv("pv-o")],
  });
  assert.deepEqual(shape(blocks), [
    ["pods/ns1/p1", "persistentvolumeclaims/ns1/shared", "persistentvolumes/pv-s", "pods/ns1/p2"],
    ["pods/ns1/p3", "persistentvolumeclaims/ns1/own", "persistentvolumes/pv-o"],
  ]);
  assert.deepEqual(
    blocks[0]!.pods.map((p) => p.metadata?.name),
    ["p1", "p2"],
  );
});

test("chains of sharing merge transitively; same claim name in another namespace is a different PVC", () => {
  const blocks = buildItemBlocks({
    pods: [
      podWith("a", ["x"]),
      podWith("b", ["x", "y"]),
      podWith("c", ["y"]),
      podWith("d", ["x"], "Running", "ns2"),
    ],
    pvcs: [pvc("x", "pv-x"), pvc("y", "pv-y"), pvc("x", "pv-x2", "ns2")],
    pvs: [pv("pv-x"), pv("pv-y"), pv("pv-x2")],
  });
  assert.deepEqual(
    blocks.map((b) => b.pods.map((p) => p.metadata?.name)),
    [["a", "b", "c"], ["d"]],
  );
  assert.equal(blocks[0]!.items.length, 7);
});

test("E46 extraPods (running, outside the selection) join the block of the PVC they mount", () => {
  const blocks = buildItemBlocks({
    pods: [podWith("p1", ["shared"])],
    pvcs: [pvc("shared", "pv-s")],
    pvs: [pv("pv-s")],
    extraPods: [podWith("outsider", ["shared"]), podWith("stopped", ["shared"], "Succeeded")],
  });
  assert.deepEqual(shape(blocks), [
    ["pods/ns1/p1", "persistentvolumeclaims/ns1/shared", "persistentvolumes/pv-s", "pods/ns1/outsider"],
  ]);
});

test("a non-running pod is not pulled in through a PVC (Velero's PVC action lists Running pods only)", () => {
  const blocks = buildItemBlocks({
    pods: [podWith("run", ["s"]), podWith("pending", ["s"], "Pending")],
    pvcs: [pvc("s", "pv")],
    pvs: [pv("pv")],
  });
  assert.deepEqual(
    blocks.map((b) => b.pods.map((p) => p.metadata?.name)),
    [["run"], ["pending"]],
  );
});

test("each item appears exactly once across blocks", () => {
  const pods = Array.from({ length: 50 }, (_, i) => podWith(`p${i}`, [`c${i % 7}`, `c${(i * 3) % 11}`]));
  const pvcs = Array.from({ length: 11 }, (_, i) => pvc(`c${i}`, `pv${i}`));
  const pvs = Array.from({ length: 12 }, (_, i) => pv(`pv${i}`));
  const items = buildItemBlocks({ pods, pvcs, pvs }).flatMap((b) =>
    b.items.map((i) => `${i.resource}/${i.namespace}/${i.name}`),
  );
  assert.equal(items.length, 50 + 11 + 12);
  assert.equal(new Set(items).size, items.length);
});

test("10,000 pods / 5,000 PVCs are grouped (linear work, no quadratic scan)", () => {
  const pods = Array.from({ length: 10_000 }, (_, i) => podWith(`p${i}`, [`c${i % 5000}`]));
  const pvcs = Array.from({ length: 5000 }, (_, i) => pvc(`c${i}`, `pv${i}`));
  const pvs = Array.from({ length: 5000 }, (_, i) => pv(`pv${i}`));
  const blocks = buildItemBlocks({ pods, pvcs, pvs });
  assert.equal(blocks.length, 5000);
  assert.ok(blocks.every((b) => b.pods.length === 2 && b.items.length === 4));
});
