// A well-typed view of whatever the caller passed as a pod: linted YAML can hold numbers where the
// API server has strings, lists where maps belong, and so on. Parsers read this view only, so bad
// shapes become findings, never exceptions.
import type { ContainerLike, Finding, PodLike } from "./types.js";
import { annotationPath, error } from "./findings.js";
import { isObject } from "./json.js";

const isContainer = (c: unknown): c is ContainerLike => isObject(c) && typeof c.name === "string";

function containersOf(list: unknown): ContainerLike[] {
  return Array.isArray(list) ? list.filter(isContainer) : [];
}

function isWellFormedList(list: unknown, optional: boolean): boolean {
  if (list === undefined) return optional;
  return Array.isArray(list) && list.every(isContainer);
}

/** Annotations present with string values only, and container lists whose entries all have a name. */
function isWellFormed(meta: Record<string, unknown>, spec: Record<string, unknown>): boolean {
  const annotations = meta.annotations;
  if (!isObject(annotations)) return false;
  for (const key in annotations) if (typeof annotations[key] !== "string") return false;
  return isWellFormedList(spec.containers, false) && isWellFormedList(spec.initContainers, true);
}

const HOOK_KEY = /(^|\.)hook\.(backup|restore)\.velero\.io\//;

/** The pod with string-only annotations and well-formed container lists, plus shape findings. */
export function podView(pod: unknown, prefix: string): { pod: PodLike; findings: Finding[] } {
  const findings: Finding[] = [];
  const raw = isObject(pod) ? pod : {};
  const meta = isObject(raw.metadata) ? raw.metadata : {};
  const spec = isObject(raw.spec) ? raw.spec : {};
  // What the API server sends is always well-formed: then the pod is its own view, and the webhook's
  // hot path copies nothing.
  if (isWellFormed(meta, spec)) return { pod: raw as PodLike, findings };
  const annotations: Record<string, string> = {};
  if (isObject(meta.annotations)) {
    for (const [key, value] of Object.entries(meta.annotations)) {
      if (typeof value === "string") {
        annotations[key] = value;
        continue;
      }
      if (value === null || value === undefined) continue;
      const text = typeof value === "object" ? JSON.stringify(value) : String(value);
      if (HOOK_KEY.test(key)) {
        findings.push(
          error(
            "value-not-string",
            annotationPath(prefix, key),
            `value ${text.slice(0, 30)} is not a string; quote it (the API server rejects it)`,
          ),
        );
      }
      annotations[key] = text;
    }
  }
  const view: PodLike = {
    ...(raw as PodLike),
    metadata: { ...(meta as PodLike["metadata"]), annotations },
    spec: {
      ...(spec as PodLike["spec"]),
      containers: containersOf(spec.containers),
      initContainers: containersOf(spec.initContainers),
    },
  };
  return { pod: view, findings };
}
