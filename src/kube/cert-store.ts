// Managed certificates in the cluster: the Secret that holds them (shared by all replicas, guarded by
// resourceVersion so concurrent writers conflict instead of overwriting each other) and the caBundle
// of the Validating/MutatingWebhookConfigurations that point at the webhook.
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1OwnerReference,
} from "@kubernetes/client-node";
import type { Result } from "../domain/types.js";
import { toKubeApiError, type KubeApiError } from "./errors.js";

export interface StoredSecret {
  /** Decoded (PEM text) values. */
  data: Record<string, string>;
  resourceVersion: string;
}

export interface CertStore {
  read(): Promise<Result<StoredSecret | undefined, KubeApiError>>;
  create(data: Record<string, string>): Promise<Result<StoredSecret, KubeApiError>>;
  update(data: Record<string, string>, resourceVersion: string): Promise<Result<StoredSecret, KubeApiError>>;
  /** Sets caBundle on every webhook of each named configuration (validating or mutating). */
  patchCaBundle(configNames: string[], caBundlePem: string): Promise<Result<{ patched: string[] }, string>>;
}

const encode = (data: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
const decode = (data: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(
    Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
  );

async function attempt<T>(fn: () => Promise<T>): Promise<Result<T, KubeApiError>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return { ok: false, error: toKubeApiError(err) };
  }
}

/**
 * `ownerConfigs`: the webhook configurations; the first that is a ValidatingWebhookConfiguration becomes
 * the Secret's owner, so that deleting it (`helm uninstall`) lets the garbage collector delete the
 * runtime-created Secret too. A cluster-scoped owner of a namespaced object is allowed; the webhook
 * already reads these configurations, so this needs no extra RBAC (unlike owning it by the Deployment).
 */
export function kubeCertStore(
  kc: KubeConfig,
  namespace: string,
  name: string,
  ownerConfigs: string[] = [],
): CertStore {
  const core = kc.makeApiClient(CoreV1Api);
  const adm = kc.makeApiClient(AdmissionregistrationV1Api);
  let owner: V1OwnerReference | undefined;
  // Looked up at each write until found (writes are rare: creation and rotation). Not found or not
  // readable: the Secret is written without an owner rather than not at all.
  const ownerReferences = async (): Promise<V1OwnerReference[]> => {
    for (const configName of ownerConfigs) {
      if (owner) break;
      const r = await attempt(() => adm.readValidatingWebhookConfiguration({ name: configName }));
      if (r.ok && r.value.metadata?.uid) {
        owner = {
          apiVersion: "admissionregistration.k8s.io/v1",
          kind: "ValidatingWebhookConfiguration",
          name: configName,
          uid: r.value.metadata.uid,
        };
      }
    }
    return owner ? [owner] : [];
  };
  const toStored = (s: {
    data?: Record<string, string>;
    metadata?: { resourceVersion?: string };
  }): StoredSecret => ({
    data: decode(s.data),
    resourceVersion: s.metadata?.resourceVersion ?? "",
  });
  const body = async (data: Record<string, string>, resourceVersion?: string) => {
    const owners = await ownerReferences();
    return {
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      metadata: {
        name,
        namespace,
        labels: { "app.kubernetes.io/managed-by": "hookguard" },
        ...(owners.length > 0 ? { ownerReferences: owners } : {}),
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      data: encode(data),
    };
  };

  return {
    async read() {
      const r = await attempt(() => core.readNamespacedSecret({ name, namespace }));
      if (r.ok) return { ok: true, value: toStored(r.value) };
      return r.error.code === 404 ? { ok: true, value: undefined } : r;
    },
    async create(data) {
      const secret = await body(data);
      const r = await attempt(() => core.createNamespacedSecret({ namespace, body: secret }));
      return r.ok ? { ok: true, value: toStored(r.value) } : r;
    },
    async update(data, resourceVersion) {
      // a replace sets metadata as a whole: the owner is written again (and added to an older Secret)
      const secret = await body(data, resourceVersion);
      const r = await attempt(() => core.replaceNamespacedSecret({ name, namespace, body: secret }));
      return r.ok ? { ok: true, value: toStored(r.value) } : r;
    },
    async patchCaBundle(configNames, caBundlePem) {
      const caBundle = Buffer.from(caBundlePem).toString("base64");
      const patched: string[] = [];
      for (const configName of configNames) {
        const done = await patchOne(adm, configName, caBundle);
        if (!done.ok) return done;
        if (done.value) patched.push(configName);
      }
      return { ok: true, value: { patched } };
    },
  };
}

type Config = {
  metadata?: { resourceVersion?: string };
  webhooks?: Array<{ clientConfig?: { caBundle?: string } }>;
};

/**
 * One configuration, found as a ValidatingWebhookConfiguration or else a MutatingWebhookConfiguration.
 * The JSON patch starts with a `test` of resourceVersion so a concurrent change to the webhooks list
 * cannot make our indexes point at the wrong entries; a failed test is re-read and retried.
 */
async function patchOne(
  adm: AdmissionregistrationV1Api,
  name: string,
  caBundle: string,
): Promise<Result<boolean, string>> {
  const kinds = [
    {
      kind: "ValidatingWebhookConfiguration",
      read: () => adm.readValidatingWebhookConfiguration({ name }),
      patch: (body: object[]) => adm.patchValidatingWebhookConfiguration({ name, body }),
    },
    {
      kind: "MutatingWebhookConfiguration",
      read: () => adm.readMutatingWebhookConfiguration({ name }),
      patch: (body: object[]) => adm.patchMutatingWebhookConfiguration({ name, body }),
    },
  ];
  let found = false;
  for (const k of kinds) {
    for (let tries = 0; tries < 5; tries++) {
      const read = await attempt<Config>(k.read);
      if (!read.ok) {
        if (read.error.code === 404) break;
        return { ok: false, error: `reading ${k.kind} ${name}: ${read.error.message}` };
      }
      found = true;
      const hooks = read.value.webhooks ?? [];
      if (hooks.every((h) => h.clientConfig?.caBundle === caBundle)) break;
      const ops = [
        { op: "test", path: "/metadata/resourceVersion", value: read.value.metadata?.resourceVersion ?? "" },
        ...hooks.map((_, i) => ({
          op: "add",
          path: `/webhooks/${i}/clientConfig/caBundle`,
          value: caBundle,
        })),
      ];
      const patched = await attempt(() => k.patch(ops));
      if (patched.ok) break;
      if (patched.error.code !== 409 && patched.error.code !== 422)
        return { ok: false, error: `patching caBundle of ${k.kind} ${name}: ${patched.error.message}` };
      if (tries === 4)
        return { ok: false, error: `patching caBundle of ${k.kind} ${name}: kept conflicting` };
    }
  }
  return found
    ? { ok: true, value: true }
    : { ok: false, error: `no ValidatingWebhookConfiguration or MutatingWebhookConfiguration named ${name}` };
}
