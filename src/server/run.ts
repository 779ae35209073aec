// `hookguard webhook` wired up: certificates (dev, mounted, or managed), the exec-permission check
// when there is cluster access, the HTTPS admission server, the metrics server, and the startup text.
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, relative, isAbsolute } from "node:path";
import type { Logger } from "../log.js";
import { ExecAuthorizer } from "../admission/authz.js";
import { exampleCurl } from "../admission/example.js";
import { WebhookMetrics } from "../admission/metrics.js";
import type { Enforcement, ValidateDeps } from "../admission/validate.js";
import { loadClusterAccess, type ClusterAccess } from "../kube/config.js";
import { subjectAccessReviewer } from "../kube/authz.js";
import { ensureDevCerts } from "../tls/cert-dir.js";
import { MetricsServer } from "./metrics-server.js";
import { WebhookServer } from "./webhook-server.js";
import { startManagedCerts, type ManagedCertsHandle } from "./managed-certs.js";

export interface WebhookConfig {
  host: string;
  port: number;
  metricsPort: number;
  /** address of the metrics port (default: host) */
  metricsHost?: string;
  certDir: string;
  dnsNames: string[];
  kubeconfig?: string;
  /** kubeconfig context (default: its current-context) */
  context?: string;
  requireExecPermission: boolean;
  mutateAll: boolean;
  manageCerts: boolean;
  secretName?: string;
  secretNamespace?: string;
  webhookConfigs: string[];
  shutdownTimeoutMs: number;
  /** Concurrent connections on the admission port (DEFAULT_MAX_CONNECTIONS when unset). */
  maxConnections?: number;
  /** Extra template-copying controllers exempt from the exec-permission check (full usernames). */
  trustedControllers?: string[];
  /** "warn": hook errors are admitted as warnings and counted (audit before enforcing). Default "deny". */
  enforcement?: Enforcement;
}

export interface RunningWebhook {
  port: number;
  metricsPort: number;
  server: WebhookServer;
  metrics: WebhookMetrics;
  stop(): Promise<void>;
}

export async function runWebhook(
  cfg: WebhookConfig,
  log: Logger,
  print: (text: string) => void,
): Promise<RunningWebhook> {
  const access = loadClusterAccess({ kubeconfig: cfg.kubeconfig, context: cfg.context });
  const metrics = new WebhookMetrics();
  let managed: ManagedCertsHandle | undefined;
  if (cfg.manageCerts) {
    if (!access)
      throw new Error("--manage-certs needs cluster access (in-cluster service account or --kubeconfig)");
    managed = await startManagedCerts({ access, certDir: cfg.certDir, cfg, log, metrics });
  } else {
    const dev = ensureDevCerts(cfg.certDir, cfg.dnsNames);
    if (!dev.ok) throw new Error(dev.error);
    const caPem = join(cfg.certDir, "ca.crt");
    if (existsSync(caPem)) {
      try {
        metrics.setCertExpiry("ca", new Date(new X509Certificate(readFileSync(caPem)).validTo));
      } catch (err) {
        log.warn(
          { file: caPem },
          `ca.crt does not parse (${(err as Error).message}); CA expiry not exported`,
        );
      }
    }
    if (dev.value.generated) {
      log.info(
        { certDir: cfg.certDir, dnsNames: ["localhost", "127.0.0.1", ...cfg.dnsNames] },
        "no tls.crt/tls.key in the cert dir: generated a development CA (ca.crt, ca.key) and serving certificate (tls.crt, tls.key)",
      );
    }
  }
  const validate: ValidateDeps = {
    ...execPermissionCheck(cfg, access, log, metrics),
    trustedControllers: new Set(cfg.trustedControllers ?? []),
    enforcement: cfg.enforcement ?? "deny",
    onControllerCopy: (kind) => metrics.countControllerCopy(kind),
    onWouldDeny: (kind) => metrics.countWouldDeny(kind),
  };
  if (cfg.enforcement === "warn") {
    log.warn(
      'enforcement is warn: hook errors are admitted as warnings ("would be denied: ...") and counted in hookguard_admission_would_deny_total; the exec-permission check still denies',
    );
  }
  log.info(
    {
      mutation: cfg.mutateAll
        ? "all namespaces"
        : "namespaces selected by the MutatingWebhookConfiguration (label hookguard.io/mutate=enabled)",
    },
    "mutation scope",
  );
  const limits = cfg.maxConnections !== undefined ? { limits: { maxConnections: cfg.maxConnections } } : {};
  const server = new WebhookServer({
    host: cfg.host,
    port: cfg.port,
    certDir: cfg.certDir,
    metrics,
    log,
    validate,
    ...limits,
  });
  const { port } = await server.start();
  const metricsServer = new MetricsServer(metrics.registry);
  let metricsPort: number;
  try {
    metricsPort = (await metricsServer.start(cfg.metricsPort, cfg.metricsHost ?? cfg.host)).port;
  } catch (err) {
    await server.stop(0);
    throw err;
  }
  log.info(
    { port, metricsPort, host: cfg.host },
    "hookguard webhook serving /validate and /mutate over HTTPS",
  );
  print(startupText(cfg, port, metricsPort));
  return {
    port,
    metricsPort,
    server,
    metrics,
    async stop() {
      managed?.stop();
      const { forced } = await server.stop(cfg.shutdownTimeoutMs);
      await metricsServer.stop();
      log.info(
        { forced },
        forced
          ? "stopped; in-flight requests were cut off at the drain timeout"
          : "stopped after draining in-flight requests",
      );
    },
  };
}

function execPermissionCheck(
  cfg: WebhookConfig,
  access: ClusterAccess | undefined,
  log: Logger,
  metrics: WebhookMetrics,
): ValidateDeps {
  if (!cfg.requireExecPermission) {
    log.warn(
      "exec-permission check is OFF (--no-require-exec-permission): anyone who may annotate a pod may set a hook that execs in it",
    );
    return {};
  }
  if (!access) {
    log.warn(
      "exec-permission check is OFF: no cluster access (no --kubeconfig, KUBECONFIG, ~/.kube/config or in-cluster service account); hooks are validated but not authorized",
    );
    return {};
  }
  log.info(
    { clusterAccess: access.source, context: access.context, server: access.server },
    `exec-permission check is on: setting a hook requires create pods/exec; SubjectAccessReviews go to ${access.server} (${access.source === "in-cluster" ? "in-cluster service account" : `context "${access.context}"`})`,
  );
  return {
    authorizer: new ExecAuthorizer(subjectAccessReviewer(access.kc), {
      trustedUsers: cfg.trustedControllers ?? [],
    }),
    onAuthz: (decision) => metrics.authz.inc({ decision }),
  };
}

function startupText(cfg: WebhookConfig, port: number, metricsPort: number): string {
  const ca = join(cfg.certDir, "ca.crt");
  const rel = isAbsolute(cfg.certDir) ? relative(process.cwd(), ca) : ca;
  const caFile = existsSync(ca) ? (rel.startsWith("..") ? ca : rel) : undefined;
  return [
    `hookguard webhook: https://${cfg.host}:${port} (POST /validate, POST /mutate, GET /healthz, GET /readyz); metrics: http://${cfg.metricsHost ?? cfg.host}:${metricsPort}/metrics`,
    "",
    "Try it: this Pod's pre hook says on-error: continue (Velero only knows Fail and Continue), so it is refused:",
    "",
    exampleCurl({ port, ...(caFile ? { caFile } : {}) }),
    "",
  ].join("\n");
}
