// Label selectors (the string form of list/watch and the structured form of webhook selectors) and
// field selectors. Parse errors become the real server's 400 texts.
import { badRequest } from "./status.js";

type Op = "=" | "!=" | "in" | "notin" | "exists" | "!";
export interface Requirement {
  key: string;
  op: Op;
  values: string[];
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

/** Splits on commas that are not inside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x.length > 0);
}

export function parseLabelSelector(s: string | null | undefined): Requirement[] {
  if (!s) return [];
  return splitTop(s).map((term) => {
    let m: RegExpExecArray | null;
    if ((m = /^!\s*(\S+)$/.exec(term))) return req(m[1]!, "!", []);
    if ((m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term)))
      return req(
        m[1]!,
        m[2] as Op,
        m[3]!
          .split(",")
          .map((v) => v.trim())
          .filter((v) => v !== ""),
      );
    if ((m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term)))
      return req(m[1]!, m[2] === "!=" ? "!=" : "=", [m[3]!]);
    if ((m = /^([^=!\s(),]+)$/.exec(term))) return req(m[1]!, "exists", []);
    throw badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
  });
}

const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function req(key: string, op: Op, values: string[]): Requirement {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}"`);
  values.forEach((v, i) => {
    if (!VALUE.test(v) || v.length > 63) {
      throw badRequest(
        `unable to parse requirement: values[${i}][${key}]: Invalid value: ${JSON.stringify(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      );
    }
  });
  return { key, op, values };
}

export function matchesLabels(reqs: Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case "=":
        return has && v === r.values[0];
      case "!=":
        return !has || v !== r.values[0];
      case "in":
        return has && r.values.includes(v!);
      case "notin":
        return !has || !r.values.includes(v!);
      case "exists":
        return has;
      case "!":
        return !has;
    }
  });
}

/** metav1.LabelSelector (matchLabels + matchExpressions); an empty or missing selector matches all. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export function matchesSelectorObject(
  sel: LabelSelectorObject | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!sel) return true;
  const reqs: Requirement[] = Object.entries(sel.matchLabels ?? {}).map(([key, v]) => ({
    key,
    op: "=",
    values: [v],
  }));
  for (const e of sel.matchExpressions ?? []) {
    const op: Op | undefined = ({ In: "in", NotIn: "notin", Exists: "exists", DoesNotExist: "!" } as const)[
      e.operator as "In"
    ];
    if (!op) throw new Error(`"${e.operator}" is not a valid label selector operator`);
    reqs.push({ key: e.key, op, values: e.values ?? [] });
  }
  return matchesLabels(reqs, labels);
}

export interface FieldRequirement {
  field: string;
  op: "=" | "!=";
  value: string;
}

export function parseFieldSelector(s: string | null | undefined): FieldRequirement[] {
  if (!s) return [];
  return splitTop(s).map((term) => {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${s}'; can't understand '${term}'`);
    return { field: m[1]!.trim(), op: m[2] === "!=" ? "!=" : "=", value: m[3]!.trim() };
  });
}

/** Field labels per kind, as the real registries export them (metadata.* for every kind). */
const FIELD_LABELS: Record<string, Record<string, (o: any) => string | undefined>> = {
  Pod: {
    "spec.nodeName": (o) => o.spec?.nodeName ?? "",
    "spec.restartPolicy": (o) => o.spec?.restartPolicy ?? "",
    "spec.schedulerName": (o) => o.spec?.schedulerName ?? "",
    "spec.serviceAccountName": (o) => o.spec?.serviceAccountName ?? "",
    "status.phase": (o) => o.status?.phase ?? "",
    "status.podIP": (o) => o.status?.podIP ?? "",
    "status.nominatedNodeName": (o) => o.status?.nominatedNodeName ?? "",
  },
  Event: {
    "involvedObject.kind": (o) => o.involvedObject?.kind ?? "",
    "involvedObject.namespace": (o) => o.involvedObject?.namespace ?? "",
    "involvedObject.name": (o) => o.involvedObject?.name ?? "",
    "involvedObject.uid": (o) => o.involvedObject?.uid ?? "",
    reason: (o) => o.reason ?? "",
    type: (o) => o.type ?? "",
  },
  Secret: { type: (o) => o.type ?? "" },
  Namespace: { "status.phase": (o) => o.status?.phase ?? "" },
};

const META_FIELDS: Record<string, (o: any) => string | undefined> = {
  "metadata.name": (o) => o.metadata?.name ?? "",
  "metadata.namespace": (o) => o.metadata?.namespace ?? "",
};

/** Throws the real 400 for a field the kind does not index. */
export function checkFieldSelector(kind: string, reqs: FieldRequirement[]): void {
  for (const r of reqs) {
    if (!META_FIELDS[r.field] && !FIELD_LABELS[kind]?.[r.field])
      throw badRequest(`field label not supported: ${r.field}`);
  }
}

export function matchesFields(kind: string, reqs: FieldRequirement[], obj: any): boolean {
  return reqs.every((r) => {
    const get = META_FIELDS[r.field] ?? FIELD_LABELS[kind]?.[r.field];
    const v = get ? get(obj) : undefined;
    return r.op === "=" ? v === r.value : v !== r.value;
  });
}
