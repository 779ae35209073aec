// Velero's related-items rules, table-tested: the selector decides only where the walk starts; a pod
// pulls in its PVCs, a Bound PVC its PV and the Running pods mounting it; exclusion and deletion
// still apply to every item.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildItemBlocks,
  describeInclusion,
  selectRelatedItems,
  type Candidates,
  type PodLike,
  type PvcLike,
  type PvLike,
} from "../../src/domain/index.js";

const pod = (
  name: string,
  claims: string[],
  o: { labels?: Record<string, string>; phase?: string; deleting?: boolean; ns?: string } = {},
): PodLike => ({
  metadata: {
    name,
    namespace: o.ns ?? "ns1",
    ...(o.labels ? { labels: o.labels } : {}),
    ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
  },
  spec: {
    containers: [{ name: "c" }],
    volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })),
  },
  status: { phase: o.phase ?? "Running" },
});
const pvc = (
  name: string,
  volumeName: string | undefined,
  labels?: Record<string, string>,
  ns = "ns1",
): PvcLike => ({
  metadata: { name, namespace: ns, ...(labels ? { labels } : {}) },
  spec: volumeName ? { volumeName } : {},
  status: { phase: volumeName ? "Bound" : "Pending" },
});
const pv = (name: string, labels?: Record<string, string>): PvLike => ({
  metadata: { name, ...(labels ? { labels } : {}) },
});
const app = (v: string) => (labels: Record<string, string> | undefined) => labels?.app === v;
const everything = () => true;
const EXCLUDED = { "velero.io/exclude-from-backup": "true" };

interface Case {
  name: string;
  c: Candidates;
  starts: (labels: Record<string, string> | undefined) => boolean;
  /** every taken item with why, in [pods, pvcs, pvs, extraPods] order */
  want: string[];
}

const cases: Case[] = [
  {
    name: "a selected pod pulls in its unlabelled PVC and that PVC's PV",
    c: {
      pods: [pod("db-0", ["data"], { labels: { app: "pg" } })],
      pvcs: [pvc("data", "pv-1")],
      pvs: [pv("pv-1"), pv("pv-other")],
    },
    starts: app("pg"),
    want: [
      "pods/ns1/db-0 selected",
      "persistentvolumeclaims/ns1/data mounted by pod ns1/db-0",
      "persistentvolumes/pv-1 bound to PVC ns1/data",
    ],
  },
  {
    name: "the PVC pulls in a second Running pod mounting it, not a Pending or Succeeded one, nor one being deleted",
    c: {
      pods: [
        pod("db-0", ["data"], { labels: { app: "pg" } }),
        pod("helper", ["data"]),
        pod("pending", ["data"], { phase: "Pending" }),
        pod("done", ["data"], { phase: "Succeeded" }),
        pod("going", ["data"], { deleting: true }),
      ],
      pvcs: [pvc("data", "pv-1")],
      pvs: [pv("pv-1")],
    },
    starts: app("pg"),
    want: [
      "pods/ns1/db-0 selected",
      "persistentvolumeclaims/ns1/data mounted by pod ns1/db-0",
      "persistentvolumes/pv-1 bound to PVC ns1/data",
      "pods/ns1/helper Running pod mounting PVC ns1/data",
    ],
  },
  {
    name: "a pulled-in pod is checked without the selector but still honours exclude-from-backup",
    c: {
      pods: [pod("db-0", ["data"], { labels: { app: "pg" } }), pod("helper", ["data"], { labels: EXCLUDED })],
      pvcs: [pvc("data", "pv-1")],
      pvs: [pv("pv-1")],
    },
    starts: app("pg"),
    want: [
      "pods/ns1/db-0 selected",
      "persistentvolumeclaims/ns1/data mounted by pod ns1/db-0",
      "persistentvolumes/pv-1 bound to PVC ns1/data",
    ],
  },
  {
    name: "an excluded PVC is not pulled in, and nor is its PV",
    c: {
      pods: [pod("db-0", ["data"], { labels: { app: "pg" } })],
      pvcs: [pvc("data", "pv-1", EXCLUDED)],
      pvs: [pv("pv-1")],
    },
    starts: app("pg"),
    want: ["pods/ns1/db-0 selected"],
  },
  {
    name: "a selected Bound PVC pulls in its PV and its Running pods; a Pending PVC pulls in nothing",
    c: {
      pods: [pod("a", ["sel"]), pod("b", ["pend"])],
      pvcs: [pvc("sel", "pv-1", { app: "pg" }), pvc("pend", undefined, { app: "pg" })],
      pvs: [pv("pv-1")],
    },
    starts: app("pg"),
    want: [
      "persistentvolumeclaims/ns1/sel selected",
      "persistentvolumeclaims/ns1/pend selected",
      "persistentvolumes/pv-1 bound to PVC ns1/sel",
      "pods/ns1/a Running pod mounting PVC ns1/sel",
    ],
  },
  {
    name: "the walk continues from a pulled-in pod: its other PVC and that PV join",
    c: {
      pods: [pod("db-0", ["data"], { labels: { app: "pg" } }), pod("helper", ["data", "scratch"])],
      pvcs: [pvc("data", "pv-1"), pvc("scratch", "pv-2")],
      pvs: [pv("pv-1"), pv("pv-2")],
    },
    starts: app("pg"),
    want: [
      "pods/ns1/db-0 selected",
      "persistentvolumeclaims/ns1/data mounted by pod ns1/db-0",
      "persistentvolumeclaims/ns1/scratch mounted by pod ns1/helper",
      "persistentvolumes/pv-1 bound to PVC ns1/data",
      "persistentvolumes/pv-2 bound to PVC ns1/scratch",
      "pods/ns1/helper Running pod mounting PVC ns1/data",
    ],
  },
  {
    name: "a pod of another namespace mounting a same-named claim is not related",
    c: {
      pods: [pod("db-0", ["data"], { labels: { app: "pg" } }), pod("twin", ["data"], { ns: "ns2" })],
      pvcs: [pvc("data", "pv-1")],
      pvs: [pv("pv-1")],
    },
    starts: app("pg"),
    want: [
      "pods/ns1/db-0 selected",
      "persistentvolumeclaims/ns1/data mounted by pod ns1/db-0",
      "persistentvolumes/pv-1 bound to PVC ns1/data",
    ],
  },
  {
    name: "PVs never start the walk, whatever their labels",
    c: { pods: [], pvcs: [], pvs: [pv("pv-1", { app: "pg" })] },
    starts: app("pg"),
    want: [],
  },
  {
    name: "without a selector everything starts the walk (items stay 'selected')",
    c: { pods: [pod("p", ["data"])], pvcs: [pvc("data", "pv-1")], pvs: [pv("pv-1")] },
    starts: everything,
    want: [
      "pods/ns1/p selected",
      "persistentvolumeclaims/ns1/data selected",
      "persistentvolumes/pv-1 bound to PVC ns1/data",
    ],
  },
];

const key = (resource: string, o: { metadata?: { namespace?: string; name?: string } }): string =>
  `${resource}/${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name}`;

for (const tc of cases) {
  test(`related items: ${tc.name}`, () => {
    const s = selectRelatedItems(tc.c, tc.starts);
    const keys = [
      ...s.pods.map((p) => key("pods", p)),
      ...s.pvcs.map((p) => key("persistentvolumeclaims", p)),
      ...s.pvs.map((p) => key("persistentvolumes", p)),
      ...s.extraPods.map((p) => key("pods", p)),
    ];
    assert.deepEqual(
      keys.map((k) => `${k} ${describeInclusion(s.why.get(k)!)}`),
      tc.want,
    );
  });
}

test("the ItemBlock of a selector backup: pod, its PVC and PV, then the pulled-in pod (hooks run db-0 then helper)", () => {
  const s = selectRelatedItems(
    {
      pods: [pod("db-0", ["data"], { labels: { app: "pg" } }), pod("helper", ["data"])],
      pvcs: [pvc("data", "pv-1")],
      pvs: [pv("pv-1")],
    },
    app("pg"),
  );
  const blocks = buildItemBlocks(s);
  assert.deepEqual(
    blocks.map((b) => b.items.map((i) => `${i.resource}/${i.name}`)),
    [["pods/db-0", "persistentvolumeclaims/data", "persistentvolumes/pv-1", "pods/helper"]],
  );
  assert.deepEqual(
    blocks[0]!.pods.map((p) => p.metadata?.name),
    ["db-0", "helper"],
  );
});
