// Decoding a create/update body: JSON, YAML, or protobuf for the built-in kinds that kubectl's typed
// commands send; apiVersion/kind checked against the endpoint (defaulted for built-in kinds, required
// for custom resources, as a real server's typed vs. unstructured decoders do).
import type { IncomingMessage } from "node:http";
import { parse as parseYaml } from "yaml";
import { decodeProtobufObject, PROTOBUF } from "./protobuf.js";
import { groupVersion, type ResourceDef } from "./resources.js";
import { ApiError, badRequest, unsupportedMediaType } from "./status.js";

export function decodeBody(req: IncomingMessage, r: ResourceDef, body: Buffer): any {
  const ct = String(req.headers["content-type"] ?? "application/json")
    .split(";")[0]!
    .trim()
    .toLowerCase();
  const text = ct === PROTOBUF ? "" : body.toString("utf8");
  let obj: any;
  try {
    if (ct === PROTOBUF && r.builtin) obj = decodeProtobufObject(body);
    else if (ct === "application/json" || ct === "") obj = JSON.parse(text);
    else if (ct === "application/yaml") obj = parseYaml(text);
    else throw unsupportedMediaType(ct, ["application/json", "application/yaml"]);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw badRequest(`error decoding body: ${(e as Error).message}`);
  }
  if (obj === null || typeof obj !== "object" || Array.isArray(obj))
    throw badRequest(`Object 'Kind' is missing in '${text.slice(0, 200)}'`);
  // Typed (built-in) endpoints default a missing apiVersion/kind from the URL; custom resources
  // are decoded as unstructured and need both, as on a real server.
  if (!obj.kind || !obj.apiVersion) {
    if (!r.builtin) throw badRequest(`Object 'Kind' is missing in '${text.slice(0, 200)}'`);
  }
  if (obj.apiVersion && obj.apiVersion !== groupVersion(r)) {
    throw badRequest(
      `the API version in the data (${obj.apiVersion}) does not match the expected API version (${groupVersion(r)})`,
    );
  }
  if (obj.kind && obj.kind !== r.kind)
    throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${r.kind})`);
  obj.apiVersion = groupVersion(r);
  obj.kind = r.kind;
  obj.metadata ??= {};
  if (typeof obj.metadata !== "object" || Array.isArray(obj.metadata))
    throw badRequest("metadata must be an object");
  return obj;
}
