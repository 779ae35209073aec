// What the real registries do to an object on create and update: name rules, system metadata
// (uid, creationTimestamp, generation), the built-in defaults that show up in `kubectl get -o yaml`,
// resetting status on create and keeping it on main-resource updates for kinds with a status
// subresource, and generation bumps on spec changes.
import { randomBytes, randomUUID } from "node:crypto";
import type { ResourceDef } from "./resources.js";
import { invalid, type ApiError } from "./status.js";
import { validateWebhookConfiguration } from "./webhook-config-validation.js";

/** apimachinery's rand alphabet (util/rand): no vowels, no confusable characters. */
export const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

export function nowTimestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

function nameRule(r: ResourceDef): { re: RegExp; msg: string; max: number } {
  if (r.kind === "Namespace") return { re: LABEL, msg: LABEL_MSG, max: 63 };
  if (r.kind === "Service") return { re: DNS1035, msg: DNS1035_MSG, max: 63 };
  return { re: SUBDOMAIN, msg: SUBDOMAIN_MSG, max: 253 };
}

/** Name checks of ObjectMeta validation; generateName is resolved here like BeforeCreate does. */
export function resolveName(r: ResourceDef, obj: any): ApiError | undefined {
  const meta = obj.metadata;
  // names.SimpleNameGenerator: five characters of apimachinery's rand alphabet
  if (!meta.name && meta.generateName)
    meta.name = `${meta.generateName}${[...randomBytes(5)].map((b) => NAME_ALPHABET[b % NAME_ALPHABET.length]).join("")}`;
  if (!meta.name) {
    return invalid(r, "", [
      {
        field: "metadata.name",
        reason: "FieldValueRequired",
        message: "Required value: name or generateName is required",
      },
    ]);
  }
  const rule = nameRule(r);
  const problems: string[] = [];
  if (meta.name.length > rule.max) problems.push(`must be no more than ${rule.max} characters`);
  if (!rule.re.test(meta.name)) problems.push(rule.msg);
  if (problems.length > 0) {
    return invalid(r, meta.name, [
      {
        field: "metadata.name",
        reason: "FieldValueInvalid",
        message: `Invalid value: ${JSON.stringify(meta.name)}: ${problems.join(", ")}`,
      },
    ]);
  }
  return undefined;
}

/** A few of the validations a user hits first (pods without containers or images). */
export function validateObject(r: ResourceDef, obj: any): ApiError | undefined {
  if (r.schema) return validateSchema(r, obj);
  if (r.kind === "ValidatingWebhookConfiguration" || r.kind === "MutatingWebhookConfiguration")
    return validateWebhookConfiguration(r, obj);
  if (r.kind !== "Pod") return undefined;
  const causes: Array<{ field: string; reason: string; message: string }> = [];
  const containers = obj.spec?.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push({ field: "spec.containers", reason: "FieldValueRequired", message: "Required value" });
  } else {
    containers.forEach((c: any, i: number) => {
      if (!c?.name)
        causes.push({
          field: `spec.containers[${i}].name`,
          reason: "FieldValueRequired",
          message: "Required value",
        });
      if (!c?.image)
        causes.push({
          field: `spec.containers[${i}].image`,
          reason: "FieldValueRequired",
          message: "Required value",
        });
    });
  }
  return causes.length > 0 ? invalid(r, obj.metadata.name, causes) : undefined;
}

/**
 * OpenAPI validation of a custom resource's schema, as far as the double knows it: status must be an
 * object and status.phase one of the enum's values.
 */
function validateSchema(r: ResourceDef, obj: any): ApiError | undefined {
  const status = obj.status;
  if (status === undefined || status === null) return undefined;
  if (typeof status !== "object" || Array.isArray(status)) {
    return invalid(r, obj.metadata.name, [
      {
        field: "status",
        reason: "FieldValueTypeInvalid",
        message: `Invalid value: "${Array.isArray(status) ? "array" : typeof status}": status in body must be of type object: "${Array.isArray(status) ? "array" : typeof status}"`,
      },
    ]);
  }
  const phase = status.phase;
  if (phase === undefined) return undefined;
  const allowed = r.schema!.phases;
  if (typeof phase !== "string") {
    return invalid(r, obj.metadata.name, [
      {
        field: "status.phase",
        reason: "FieldValueTypeInvalid",
        message: `Invalid value: "${typeof phase}": status.phase in body must be of type string: "${typeof phase}"`,
      },
    ]);
  }
  if (!allowed.includes(phase)) {
    return invalid(r, obj.metadata.name, [
      {
        field: "status.phase",
        reason: "FieldValueNotSupported",
        message: `Unsupported value: ${JSON.stringify(phase)}: supported values: ${allowed.map((p) => JSON.stringify(p)).join(", ")}`,
      },
    ]);
  }
  return undefined;
}

const POD_UPDATE_FORBIDDEN =
  "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/** Update validation: a pod's spec is immutable apart from images and a few fields. */
export function validateUpdate(r: ResourceDef, next: any, old: any): ApiError | undefined {
  if (r.kind !== "Pod") return undefined;
  const mutable = (spec: any): any => {
    const c = structuredClone(spec ?? {});
    for (const list of ["containers", "initContainers"])
      if (Array.isArray(c[list])) c[list].forEach((x: any) => delete x.image);
    delete c.activeDeadlineSeconds;
    delete c.tolerations;
    delete c.terminationGracePeriodSeconds;
    // The scheduler binds pods through a subresource; our kubelet double writes nodeName directly.
    delete c.nodeName;
    return JSON.stringify(sortKeys(c));
  };
  if (mutable(next.spec) !== mutable(old.spec)) {
    return invalid(r, next.metadata.name, [
      { field: "spec", reason: "FieldValueForbidden", message: POD_UPDATE_FORBIDDEN },
    ]);
  }
  return undefined;
}

function defaultContainer(c: any): void {
  if (!c || typeof c !== "object") return;
  const image = String(c.image ?? "");
  const lastPart = image.split("/").pop() ?? "";
  const tagged = lastPart.includes(":") || image.includes("@");
  c.imagePullPolicy ??= !tagged || lastPart.endsWith(":latest") ? "Always" : "IfNotPresent";
  c.terminationMessagePath ??= "/dev/termination-log";
  c.terminationMessagePolicy ??= "File";
  c.resources ??= {};
}

function defaultPodSpec(spec: any): void {
  if (!spec || typeof spec !== "object") return;
  spec.restartPolicy ??= "Always";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= "ClusterFirst";
  spec.securityContext ??= {};
  spec.schedulerName ??= "default-scheduler";
  spec.enableServiceLinks ??= true;
  for (const list of ["containers", "initContainers"])
    if (Array.isArray(spec[list])) spec[list].forEach(defaultContainer);
}

/** Scheme defaulting for the built-in kinds (the fields users see in `get -o yaml`). */
export function applyDefaults(r: ResourceDef, obj: any): void {
  switch (r.kind) {
    case "Pod":
      obj.spec ??= {};
      defaultPodSpec(obj.spec);
      break;
    case "Deployment":
    case "StatefulSet":
    case "ReplicaSet":
      obj.spec ??= {};
      obj.spec.replicas ??= 1;
      defaultPodSpec(obj.spec.template?.spec);
      break;
    case "DaemonSet":
    case "Job":
      obj.spec ??= {};
      defaultPodSpec(obj.spec.template?.spec);
      break;
    case "CronJob":
      defaultPodSpec(obj.spec?.jobTemplate?.spec?.template?.spec);
      break;
    case "Secret":
      obj.type ??= "Opaque";
      // stringData is write-only: merged into data (base64) and never stored, like the real registry.
      if (obj.stringData && typeof obj.stringData === "object") {
        obj.data = { ...(obj.data ?? {}) };
        for (const [k, v] of Object.entries(obj.stringData))
          obj.data[k] = Buffer.from(String(v)).toString("base64");
        delete obj.stringData;
      }
      break;
  }
}

/** BeforeCreate: system fields, status reset, kind-specific initial state. */
export function prepareForCreate(r: ResourceDef, obj: any): void {
  const meta = obj.metadata;
  meta.uid = randomUUID();
  meta.creationTimestamp = nowTimestamp();
  delete meta.resourceVersion;
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  delete meta.selfLink;
  if (r.generation) meta.generation = 1;
  else delete meta.generation;
  if (r.subresources.includes("status")) delete obj.status;
  if (r.kind === "Pod") obj.status = { phase: "Pending", qosClass: "BestEffort" };
  if (r.kind === "Namespace") {
    meta.labels = { ...(meta.labels ?? {}), "kubernetes.io/metadata.name": meta.name };
    obj.spec = { finalizers: ["kubernetes"], ...(obj.spec ?? {}) };
    obj.status = { phase: "Active" };
  }
  if (r.kind === "PersistentVolumeClaim") obj.status = { phase: "Pending" };
}

function specPart(obj: any, withStatus = false): string {
  const { metadata: _m, status: _s, ...rest } = obj;
  return JSON.stringify(sortKeys(withStatus ? { ...rest, status: _s } : rest));
}

export function sortKeys(v: any): any {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys(v[k])]),
  );
}

/**
 * BeforeUpdate for the main resource or the status subresource. Keeps system metadata, keeps the
 * status (main resource) or everything but status (status subresource), bumps generation.
 */
export function prepareForUpdate(r: ResourceDef, next: any, old: any, subresource: string): any {
  let out = next;
  if (subresource === "status") {
    // Status writes change only status (and nothing in spec or metadata).
    out = { ...structuredClone(old), status: next.status };
  } else if (r.subresources.includes("status")) {
    if (old.status === undefined) delete out.status;
    else out.status = structuredClone(old.status);
  }
  const meta = out.metadata;
  meta.uid = old.metadata.uid;
  meta.creationTimestamp = old.metadata.creationTimestamp;
  meta.name = old.metadata.name;
  if (old.metadata.namespace !== undefined) meta.namespace = old.metadata.namespace;
  if (old.metadata.deletionTimestamp) {
    meta.deletionTimestamp = old.metadata.deletionTimestamp;
    if (old.metadata.deletionGracePeriodSeconds !== undefined)
      meta.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
  } else {
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
  }
  if (r.kind === "Namespace")
    meta.labels = { ...(meta.labels ?? {}), "kubernetes.io/metadata.name": meta.name };
  if (r.generation) {
    const gen = Number(old.metadata.generation ?? 1);
    // A custom resource without a status subresource counts status changes too, as the apiextensions
    // server does (only a status subresource takes status out of the comparison).
    const changed =
      r.schema && !r.subresources.includes("status")
        ? specPart(out, true) !== specPart(old, true)
        : specPart(out) !== specPart(old);
    meta.generation = subresource !== "status" && changed ? gen + 1 : gen;
  }
  return out;
}

/** True when an update would store exactly what is stored (the real server then writes nothing). */
export function sameContent(a: any, b: any): boolean {
  const strip = (o: any): any => {
    const c = structuredClone(o);
    delete c.metadata.resourceVersion;
    delete c.metadata.managedFields;
    return sortKeys(c);
  };
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}
