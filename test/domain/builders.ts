// Test builders in the style of Velero's pkg/builder: a pod with annotations and containers.
import type { ContainerLike, ExecHook, Finding, PodLike } from "../../src/domain/index.js";

export function pod(
  annotations: Record<string, string>,
  extra: {
    containers?: ContainerLike[];
    initContainers?: ContainerLike[];
    namespace?: string;
    labels?: Record<string, string>;
    name?: string;
  } = {},
): PodLike {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: extra.name ?? "p1",
      namespace: extra.namespace ?? "ns1",
      annotations,
      ...(extra.labels ? { labels: extra.labels } : {}),
    },
    spec: {
      containers: extra.containers ?? [{ name: "app" }, { name: "proxy" }],
      ...(extra.initContainers ? { initContainers: extra.initContainers } : {}),
    },
  };
}

/** Findings as compact "severity code path" lines, so tables read like the lint output. */
export function brief(findings: readonly Finding[]): string[] {
  return findings.map((f) => `${f.severity} ${f.code} ${f.path}`);
}

/** The parts of a hook a user notices. */
export function essence(hook: ExecHook | undefined): unknown {
  if (!hook) return undefined;
  return {
    argv: hook.argv,
    container: hook.container,
    onError: hook.onError,
    timeoutMs: hook.timeoutMs,
    legacy: hook.legacy,
  };
}

export const ann = (key: string): string => `metadata.annotations[${JSON.stringify(key)}]`;
export const PRE = "pre.hook.backup.velero.io/";
export const POST = "post.hook.backup.velero.io/";
export const LEGACY = "hook.backup.velero.io/";
