// Decoding the Kubernetes protobuf envelope for the few built-in kinds kubectl's typed commands
// send as protobuf (`kubectl create namespace`, `kubectl create secret`, `kubectl auth can-i`). The envelope is the magic
// "k8s\0" then runtime.Unknown{typeMeta{apiVersion, kind}, raw}; raw is the object in the
// generated.proto layout. Zero values are dropped, as Go's JSON encoding (omitempty) does. Other kinds
// get a 415 that says which kinds this double decodes.
import { unsupportedMediaType } from "./status.js";

type Field =
  | { name: string; t: "string" | "bytes" | "int" | "bool" | "time"; repeated?: boolean }
  | { name: string; t: "msg"; msg: Schema; repeated?: boolean }
  | { name: string; t: "map"; bytes?: boolean };
type Schema = Record<number, Field>;

const TIME: Schema = { 1: { name: "seconds", t: "int" }, 2: { name: "nanos", t: "int" } };
const OWNER_REF: Schema = {
  1: { name: "kind", t: "string" },
  3: { name: "name", t: "string" },
  4: { name: "uid", t: "string" },
  5: { name: "apiVersion", t: "string" },
  6: { name: "controller", t: "bool" },
  7: { name: "blockOwnerDeletion", t: "bool" },
};
const OBJECT_META: Schema = {
  1: { name: "name", t: "string" },
  2: { name: "generateName", t: "string" },
  3: { name: "namespace", t: "string" },
  5: { name: "uid", t: "string" },
  6: { name: "resourceVersion", t: "string" },
  7: { name: "generation", t: "int" },
  8: { name: "creationTimestamp", t: "time" },
  11: { name: "labels", t: "map" },
  12: { name: "annotations", t: "map" },
  13: { name: "ownerReferences", t: "msg", msg: OWNER_REF, repeated: true },
  14: { name: "finalizers", t: "string", repeated: true },
};
const KINDS: Record<string, Schema> = {
  "v1/Namespace": {
    1: { name: "metadata", t: "msg", msg: OBJECT_META },
    2: { name: "spec", t: "msg", msg: { 1: { name: "finalizers", t: "string", repeated: true } } },
    3: { name: "status", t: "msg", msg: { 1: { name: "phase", t: "string" } } },
  },
  "v1/Secret": {
    1: { name: "metadata", t: "msg", msg: OBJECT_META },
    2: { name: "data", t: "map", bytes: true },
    3: { name: "type", t: "string" },
    4: { name: "stringData", t: "map" },
    5: { name: "immutable", t: "bool" },
  },
};
const RESOURCE_ATTRIBUTES: Schema = {
  1: { name: "namespace", t: "string" },
  2: { name: "verb", t: "string" },
  3: { name: "group", t: "string" },
  4: { name: "version", t: "string" },
  5: { name: "resource", t: "string" },
  6: { name: "subresource", t: "string" },
  7: { name: "name", t: "string" },
};
KINDS["authorization.k8s.io/v1/SelfSubjectAccessReview"] = {
  1: { name: "metadata", t: "msg", msg: OBJECT_META },
  2: {
    name: "spec",
    t: "msg",
    msg: {
      1: { name: "resourceAttributes", t: "msg", msg: RESOURCE_ATTRIBUTES },
      2: {
        name: "nonResourceAttributes",
        t: "msg",
        msg: { 1: { name: "path", t: "string" }, 2: { name: "verb", t: "string" } },
      },
    },
  },
};

const UNKNOWN: Schema = {
  1: {
    name: "typeMeta",
    t: "msg",
    msg: { 1: { name: "apiVersion", t: "string" }, 2: { name: "kind", t: "string" } },
  },
  2: { name: "raw", t: "bytes" },
  3: { name: "contentEncoding", t: "string" },
  4: { name: "contentType", t: "string" },
};

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error("truncated varint");
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error("varint too long");
    }
  }
  bytes(): Buffer {
    const n = Number(this.varint());
    if (this.pos + n > this.buf.length) throw new Error("truncated field");
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

function decode(buf: Buffer, schema: Schema, raw = false): Record<string, any> {
  const r = new Reader(buf);
  const out: Record<string, any> = {};
  while (r.pos < buf.length) {
    const tag = Number(r.varint());
    const no = tag >> 3;
    const wire = tag & 7;
    const f = schema[no];
    if (!f) {
      r.skip(wire);
      continue;
    }
    let v: unknown;
    switch (f.t) {
      case "string":
        v = r.bytes().toString("utf8");
        break;
      case "bytes":
        v = raw ? Buffer.from(r.bytes()) : r.bytes().toString("base64");
        break;
      case "int":
        v = Number(BigInt.asIntN(64, r.varint()));
        break;
      case "bool":
        v = r.varint() !== 0n;
        break;
      case "time": {
        const t = decode(r.bytes(), TIME);
        v = new Date((t.seconds ?? 0) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
        break;
      }
      case "msg":
        v = decode(r.bytes(), f.msg, raw);
        break;
      case "map": {
        const e = decode(r.bytes(), {
          1: { name: "k", t: "string" },
          2: { name: "v", t: f.bytes ? "bytes" : "string" },
        });
        out[f.name] = { ...(out[f.name] ?? {}), [e.k ?? ""]: e.v ?? "" };
        continue;
      }
    }
    if ("repeated" in f && f.repeated) (out[f.name] ??= []).push(v);
    else out[f.name] = v;
  }
  return out;
}

/** Go's omitempty: drop "", 0, false, empty maps and lists (recursively). */
function omitEmpty(v: any): any {
  if (Array.isArray(v)) return v.map(omitEmpty);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, any> = {};
  for (const [k, x] of Object.entries(v)) {
    const c = omitEmpty(x);
    if (c === "" || c === 0 || c === false || c === undefined) continue;
    if (typeof c === "object" && Object.keys(c).length === 0 && k !== "metadata") continue;
    out[k] = c;
  }
  return out;
}

export const PROTOBUF = "application/vnd.kubernetes.protobuf";

export function decodeProtobufObject(body: Buffer): any {
  if (body.length < 4 || body.subarray(0, 4).toString("latin1") !== "k8s\0") {
    throw unsupportedMediaType(PROTOBUF, ["application/json", "application/yaml"]);
  }
  let env: Record<string, any>;
  try {
    env = decode(body.subarray(4), UNKNOWN, true);
  } catch {
    throw unsupportedMediaType(PROTOBUF, ["application/json", "application/yaml"]);
  }
  const apiVersion = env.typeMeta?.apiVersion ?? "";
  const kind = env.typeMeta?.kind ?? "";
  const schema = KINDS[`${apiVersion}/${kind}`];
  if (!schema || !Buffer.isBuffer(env.raw)) {
    // Honest limit of the double: only these kinds are decoded from protobuf.
    throw unsupportedMediaType(
      `${PROTOBUF} (${apiVersion} ${kind}; this double decodes protobuf only for ${Object.keys(KINDS).join(", ")})`,
      ["application/json", "application/yaml"],
    );
  }
  return { apiVersion, kind, ...omitEmpty(decode(env.raw, schema)) };
}
