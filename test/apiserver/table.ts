// meta.k8s.io/v1 Table responses for `kubectl get` (it asks with Accept: ...;as=Table). Pods get the
// real server's default columns; other kinds get Name and Created At, as custom resources without
// printer columns do.
import type { ResourceDef } from "./resources.js";

export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

function rowObject(o: any): unknown {
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata };
}

export function toTable(r: ResourceDef, items: any[], resourceVersion: string): unknown {
  const nameCol = {
    name: "Name",
    type: "string",
    format: "name",
    description: "Name must be unique within a namespace.",
    priority: 0,
  };
  if (r.kind === "Pod") {
    return {
      kind: "Table",
      apiVersion: "meta.k8s.io/v1",
      metadata: { resourceVersion },
      columnDefinitions: [
        nameCol,
        {
          name: "Ready",
          type: "string",
          format: "",
          description: "The aggregate readiness state of this pod for accepting traffic.",
          priority: 0,
        },
        {
          name: "Status",
          type: "string",
          format: "",
          description: "The aggregate status of the containers in this pod.",
          priority: 0,
        },
        {
          name: "Restarts",
          type: "string",
          format: "",
          description:
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
          priority: 0,
        },
        {
          name: "Age",
          type: "string",
          format: "",
          description:
            "CreationTimestamp is a timestamp representing the server time when this object was created.",
          priority: 0,
        },
        {
          name: "IP",
          type: "string",
          format: "",
          description: "IP address allocated to the pod.",
          priority: 1,
        },
        {
          name: "Node",
          type: "string",
          format: "",
          description: "Name of the node the pod is assigned to.",
          priority: 1,
        },
      ],
      rows: items.map((o) => {
        const total = (o.spec?.containers ?? []).length;
        const ready = (o.status?.containerStatuses ?? []).filter((c: any) => c.ready).length;
        const restarts = (o.status?.containerStatuses ?? []).reduce(
          (n: number, c: any) => n + (c.restartCount ?? 0),
          0,
        );
        const status = o.metadata.deletionTimestamp ? "Terminating" : (o.status?.phase ?? "Unknown");
        return {
          cells: [
            o.metadata.name,
            `${ready}/${total}`,
            status,
            restarts,
            age(o),
            o.status?.podIP ?? "<none>",
            o.spec?.nodeName ?? "<none>",
          ],
          object: rowObject(o),
        };
      }),
    };
  }
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion },
    columnDefinitions: [
      nameCol,
      {
        name: "Created At",
        type: "date",
        format: "",
        description:
          "CreationTimestamp is a timestamp representing the server time when this object was created.",
        priority: 0,
      },
    ],
    rows: items.map((o) => ({
      cells: [o.metadata.name, o.metadata.creationTimestamp],
      object: rowObject(o),
    })),
  };
}

function age(o: any): string {
  const t = Date.parse(o.metadata.creationTimestamp ?? "");
  if (Number.isNaN(t)) return "<unknown>";
  const s = Math.max(0, Math.floor((Date.now() - t) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  return `${Math.floor(m / 60)}h`;
}
