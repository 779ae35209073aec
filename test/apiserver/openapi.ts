// A minimal OpenAPI v3 surface. kubectl (1.32) validates manifests by default: it looks in
// /openapi/v3 for the PATCH operation of the manifest's GVK and, when it declares the
// `fieldValidation` query parameter, leaves validation to the server (sending fieldValidation=Strict)
// instead of downloading the v2 schema. So each group version gets a document with one PATCH
// operation per kind carrying that parameter and no request schemas; kubectl then computes
// client-side apply patches from its compiled-in types, as it does for any server.
// For `kind: List` manifests kubectl validates client-side with /openapi/v2 (a 404 there fails the
// apply), so /openapi/v2 is a valid document without definitions: every kind is "unknown" to it,
// which kubectl treats as nothing to check, as for a custom resource without a schema.
import { groupVersion, RESOURCES } from "./resources.js";

const HASH = "hookguarddouble0001";

function gvPath(group: string, version: string): string {
  return group === "" ? `api/${version}` : `apis/${group}/${version}`;
}

export function openApiRoot(): unknown {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const r of RESOURCES) {
    const p = gvPath(r.group, r.version);
    paths[p] ??= { serverRelativeURL: `/openapi/v3/${p}?hash=${HASH}` };
  }
  return { paths };
}

/** The document for "api/v1" or "apis/<group>/<version>", or undefined. */
export function openApiGroupVersion(path: string): unknown | undefined {
  const rs = RESOURCES.filter((r) => gvPath(r.group, r.version) === path && !r.createOnly);
  if (rs.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  for (const r of rs) {
    const base = `/${path}/${r.namespaced ? "namespaces/{namespace}/" : ""}${r.plural}/{name}`;
    paths[base] = {
      patch: {
        description: `partially update the specified ${r.kind}`,
        operationId: `patch${r.kind}`,
        parameters: [
          { name: "dryRun", in: "query", schema: { type: "string", uniqueItems: true } },
          { name: "fieldManager", in: "query", schema: { type: "string", uniqueItems: true } },
          { name: "fieldValidation", in: "query", schema: { type: "string", uniqueItems: true } },
        ],
        responses: { "200": { description: "OK" } },
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": { group: r.group, version: r.version, kind: r.kind },
      },
    };
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: `${groupVersion(rs[0]!)} (hookguard double)` },
    paths,
    components: { schemas: {} },
  };
}

function protoString(field: number, value: string): Buffer {
  const bytes = Buffer.from(value, "utf8");
  return Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);
}

function protoMessage(field: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, body.length]), body]);
}

/** gnostic openapi_v2.Document{swagger: "2.0", info{title, version}, paths{}} as protobuf, or JSON. */
export function openApiV2(accept: string | undefined): { contentType: string; body: Buffer } {
  const title = "Kubernetes";
  const version = "v1.32.4-hookguard-double";
  if (accept?.includes("protobuf")) {
    const info = Buffer.concat([protoString(1, title), protoString(2, version)]);
    return {
      contentType: "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
      body: Buffer.concat([protoString(1, "2.0"), protoMessage(2, info), protoMessage(8, Buffer.alloc(0))]),
    };
  }
  return {
    contentType: "application/json",
    body: Buffer.from(JSON.stringify({ swagger: "2.0", info: { title, version }, paths: {} })),
  };
}
