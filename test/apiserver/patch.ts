// The patch types a real server accepts: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and,
// for built-in kinds only, strategic merge. Server-side apply is not implemented, so
// application/apply-patch+yaml gets the 415 a server without it answers.
import { ApiError, badRequest, failure, unsupportedMediaType } from "./status.js";
import { strategicMerge } from "./strategic-merge.js";
import type { ResourceDef } from "./resources.js";

export const MERGE = "application/merge-patch+json";
export const JSON_PATCH = "application/json-patch+json";
export const STRATEGIC = "application/strategic-merge-patch+json";

export function acceptedPatchTypes(r: ResourceDef): string[] {
  return r.builtin ? [JSON_PATCH, MERGE, STRATEGIC] : [JSON_PATCH, MERGE];
}

export function applyPatch(r: ResourceDef, contentType: string, original: any, body: string): any {
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  if (!acceptedPatchTypes(r).includes(type)) throw unsupportedMediaType(type, acceptedPatchTypes(r));
  let patch: unknown;
  try {
    patch = JSON.parse(body);
  } catch (e) {
    throw badRequest(`error decoding patch: ${(e as Error).message}`);
  }
  if (type === MERGE) {
    if (typeof patch !== "object" || patch === null || Array.isArray(patch))
      throw badRequest("invalid JSON document");
    return mergePatch(structuredClone(original), patch);
  }
  if (type === STRATEGIC) return strategicMerge(original, patch);
  if (!Array.isArray(patch))
    throw badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  return jsonPatch(structuredClone(original), patch);
}

export function mergePatch(target: any, patch: any): any {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return structuredClone(patch);
  const out = typeof target === "object" && target !== null && !Array.isArray(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function invalidPatch(message: string): ApiError {
  return new ApiError(
    failure(422, "Invalid", message, { causes: [{ reason: "FieldValueInvalid", message }] }),
  );
}

function unescape(token: string): string {
  return token.replace(/~1/g, "/").replace(/~0/g, "~");
}

function parsePointer(p: unknown): string[] {
  if (typeof p !== "string") throw invalidPatch("invalid JSON pointer");
  if (p === "") return [];
  if (!p.startsWith("/")) throw invalidPatch(`invalid JSON pointer: ${p}`);
  return p.slice(1).split("/").map(unescape);
}

function parentOf(doc: any, tokens: string[], path: string): { parent: any; key: string } {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (cur === null || typeof cur !== "object")
      throw invalidPatch(`doc is missing path: "${path}": missing value`);
    cur = Array.isArray(cur) ? cur[Number(t)] : cur[t];
    if (cur === undefined) throw invalidPatch(`doc is missing path: "${path}": missing value`);
  }
  return { parent: cur, key: tokens[tokens.length - 1]! };
}

function getAt(doc: any, path: string): any {
  let cur = doc;
  for (const t of parsePointer(path)) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = Array.isArray(cur) ? cur[Number(t)] : cur[t];
  }
  return cur;
}

function add(doc: any, path: string, value: any): any {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return structuredClone(value);
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = key === "-" ? parent.length : Number(key);
    if (!Number.isInteger(i) || i < 0 || i > parent.length)
      throw invalidPatch(`add operation does not apply: doc is missing path: "${path}": missing value`);
    parent.splice(i, 0, structuredClone(value));
  } else if (parent && typeof parent === "object") {
    parent[key] = structuredClone(value);
  } else throw invalidPatch(`add operation does not apply: doc is missing path: "${path}": missing value`);
  return doc;
}

function remove(doc: any, path: string): any {
  const tokens = parsePointer(path);
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length)
      throw invalidPatch(`remove operation does not apply: doc is missing path: "${path}": missing value`);
    parent.splice(i, 1);
  } else if (parent && typeof parent === "object" && key in parent) {
    delete parent[key];
  } else throw invalidPatch(`remove operation does not apply: doc is missing path: "${path}": missing value`);
  return doc;
}

export function jsonPatch(doc: any, ops: any[]): any {
  for (const op of ops) {
    switch (op?.op) {
      case "add":
        doc = add(doc, op.path, op.value);
        break;
      case "remove":
        doc = remove(doc, op.path);
        break;
      case "replace":
        if (getAt(doc, op.path) === undefined)
          throw invalidPatch(
            `replace operation does not apply: doc is missing key: ${op.path}: missing value`,
          );
        doc = remove(doc, op.path);
        doc = add(doc, op.path, op.value);
        break;
      case "move": {
        const v = getAt(doc, op.from);
        if (v === undefined)
          throw invalidPatch(
            `move operation does not apply: doc is missing from path: ${op.from}: missing value`,
          );
        doc = add(remove(doc, op.from), op.path, v);
        break;
      }
      case "copy": {
        const v = getAt(doc, op.from);
        if (v === undefined)
          throw invalidPatch(
            `copy operation does not apply: doc is missing from path: ${op.from}: missing value`,
          );
        doc = add(doc, op.path, v);
        break;
      }
      case "test":
        if (JSON.stringify(getAt(doc, op.path)) !== JSON.stringify(op.value))
          throw invalidPatch(`testing value ${op.path} failed: test failed`);
        break;
      default:
        throw badRequest(`Unexpected kind: ${String(op?.op)}`);
    }
  }
  return doc;
}
