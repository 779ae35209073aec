// Legacy discovery documents (/api, /api/v1, /apis, /apis/G/V) and /version, shaped like a real
// 1.32 server's. kubectl also asks for aggregated discovery (apidiscovery.k8s.io/v2) in its Accept
// header; answering plain application/json makes it fall back to these, as with older servers.
import { apiGroups, groupVersion, RESOURCES, verbsOf, type ResourceDef } from "./resources.js";

export function versionInfo(): Record<string, string> {
  return {
    major: "1",
    minor: "32",
    gitVersion: "v1.32.4-hookguard-double",
    gitCommit: "0000000000000000000000000000000000000000",
    gitTreeState: "clean",
    buildDate: "2026-01-01T00:00:00Z",
    goVersion: "go1.23.8",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

export function apiVersions(serverAddress: string): unknown {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

export function apiGroupList(): unknown {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: apiGroups().map((g) => groupDoc(g.group, g.version)),
  };
}

function groupDoc(group: string, version: string): Record<string, unknown> {
  const gv = { groupVersion: `${group}/${version}`, version };
  return { name: group, versions: [gv], preferredVersion: gv };
}

export function apiGroup(group: string): unknown | undefined {
  const g = apiGroups().find((x) => x.group === group);
  return g ? { kind: "APIGroup", apiVersion: "v1", ...groupDoc(g.group, g.version) } : undefined;
}

function resourceEntries(r: ResourceDef): Array<Record<string, unknown>> {
  const main: Record<string, unknown> = {
    name: r.plural,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: verbsOf(r),
  };
  if (r.shortNames) main.shortNames = r.shortNames;
  if (r.categories) main.categories = r.categories;
  const out = [main];
  for (const sub of r.subresources) {
    if (sub === "status")
      out.push({
        name: `${r.plural}/status`,
        singularName: "",
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: ["get", "patch", "update"],
      });
    if (sub === "exec")
      out.push({
        name: `${r.plural}/exec`,
        singularName: "",
        namespaced: r.namespaced,
        kind: "PodExecOptions",
        verbs: ["create", "get"],
      });
  }
  return out;
}

/** APIResourceList for a group version, or undefined when the double does not serve it. */
export function apiResourceList(group: string, version: string): unknown | undefined {
  const rs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (rs.length === 0) return undefined;
  const resources = rs.flatMap(resourceEntries);
  // The real core list carries no apiVersion; group lists do.
  if (group === "") return { kind: "APIResourceList", groupVersion: version, resources };
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: groupVersion({ group, version }),
    resources,
  };
}
