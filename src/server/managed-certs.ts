// Managed mode: the Secret is the source of truth shared by every replica. Each reconcile reads it,
// plans (src/tls/rotation.ts), writes the plan back guarded by resourceVersion (a 409 from a replica
// that won the race is not an error: re-read and adopt its certificates), patches caBundle, and only
// then writes the serving pair into the local cert dir, where the server's reloader picks it up. The
// order matters: a serving certificate is never served before its CA is in the caBundle.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import type { Logger } from "../log.js";
import type { WebhookMetrics } from "../admission/metrics.js";
import type { ClusterAccess } from "../kube/config.js";
import { kubeCertStore, type CertStore } from "../kube/cert-store.js";
import { fromSecretData, planCerts, toSecretData, type ManagedCerts } from "../tls/rotation.js";
import type { Result } from "../domain/types.js";

export interface ManagedCertsOptions {
  access: ClusterAccess;
  certDir: string;
  cfg: { secretName?: string; secretNamespace?: string; dnsNames: string[]; webhookConfigs: string[] };
  log: Logger;
  metrics: WebhookMetrics;
  /** Re-check period (default 1 hour). */
  intervalMs?: number;
}

export interface ManagedCertsHandle {
  stop(): void;
}

const SA_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

export async function startManagedCerts(opts: ManagedCertsOptions): Promise<ManagedCertsHandle> {
  const namespace =
    opts.cfg.secretNamespace ??
    (existsSync(SA_NAMESPACE_FILE) ? readFileSync(SA_NAMESPACE_FILE, "utf8").trim() : "default");
  const store = kubeCertStore(opts.access.kc, namespace, opts.cfg.secretName!, opts.cfg.webhookConfigs);
  const run = () =>
    reconcileCerts(store, {
      certDir: opts.certDir,
      dnsNames: opts.cfg.dnsNames,
      webhookConfigs: opts.cfg.webhookConfigs,
      log: opts.log,
      metrics: opts.metrics,
    });
  const first = await run();
  if (!first.ok) throw new Error(`managed certificates: ${first.error}`);
  const timer = setInterval(() => {
    void run().then((r) => {
      if (!r.ok)
        opts.log.error(
          { secret: `${namespace}/${opts.cfg.secretName}` },
          `managed certificates: ${r.error}; retrying next period`,
        );
    });
  }, opts.intervalMs ?? 3_600_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

export interface ReconcileOptions {
  certDir: string;
  dnsNames: string[];
  webhookConfigs: string[];
  log: Logger;
  metrics?: WebhookMetrics;
  now?: () => Date;
}

/** One pass; returns what the Secret now holds. Safe to run concurrently from several replicas. */
export async function reconcileCerts(
  store: CertStore,
  opts: ReconcileOptions,
): Promise<Result<{ certs: ManagedCerts; action: string }, string>> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const read = await store.read();
    if (!read.ok) return { ok: false, error: `reading the Secret: ${read.error.code} ${read.error.message}` };
    const current = read.value ? fromSecretData(read.value.data) : undefined;
    const plan = planCerts(current, { now: opts.now?.() ?? new Date(), dnsNames: opts.dnsNames });
    let action = "adopted";
    if (plan.changed) {
      const data = toSecretData(plan.certs);
      const written = read.value
        ? await store.update(data, read.value.resourceVersion)
        : await store.create(data);
      if (!written.ok) {
        if (written.error.code === 409) {
          // Another replica wrote first: re-read and adopt its certificates.
          opts.log.info(
            { attempt },
            "managed certificates: another replica updated the Secret first; adopting its version",
          );
          continue;
        }
        return { ok: false, error: `writing the Secret: ${written.error.code} ${written.error.message}` };
      }
      action = plan.reason;
      opts.log.info({ reason: plan.reason }, "managed certificates stored in the Secret");
    }
    if (opts.webhookConfigs.length > 0) {
      const patched = await store.patchCaBundle(opts.webhookConfigs, plan.certs.caCerts.join(""));
      if (!patched.ok) return { ok: false, error: patched.error };
    }
    writeLocal(opts.certDir, plan.certs);
    opts.metrics?.setCertExpiry("serving", new Date(new X509Certificate(plan.certs.tlsCert).validTo));
    opts.metrics?.setCertExpiry("ca", new Date(new X509Certificate(plan.certs.caCerts[0]!).validTo));
    return { ok: true, value: { certs: plan.certs, action } };
  }
  return { ok: false, error: "the Secret kept changing under us (8 conflicts in a row)" };
}

/** Writes changed files by rename (key before certificate), so readers never see a torn file. */
function writeLocal(dir: string, certs: ManagedCerts): void {
  mkdirSync(dir, { recursive: true });
  const files: Array<[string, string, number]> = [
    ["ca.crt", certs.caCerts.join(""), 0o644],
    ["tls.key", certs.tlsKey, 0o600],
    ["tls.crt", certs.tlsCert, 0o644],
  ];
  for (const [name, content, mode] of files) {
    const path = join(dir, name);
    if (existsSync(path) && readFileSync(path, "utf8") === content) continue;
    writeFileSync(`${path}.tmp`, content, { mode });
    renameSync(`${path}.tmp`, path);
  }
}
