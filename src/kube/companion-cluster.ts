// CompanionCluster on @kubernetes/client-node 1.4.0. Read-only on Velero's Backups (watch, get);
// DownloadRequests created, read and deleted in the Velero namespace; the checkpoint ConfigMap;
// Events. Scope reads and Events reuse the agent's adapter, so both modes read pods alike.
// Every API call retries transient failures (transport, 429, 5xx) with bounded backoff.
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1ConfigMap } from "@kubernetes/client-node";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { createGunzip } from "node:zlib";
import type { Logger } from "../log.js";
import type { Result } from "../domain/types.js";
import type { KubeResult } from "../agent/ports.js";
import type { BackupObject } from "../velero/types.js";
import type {
  CompanionCluster,
  ConfigMapObject,
  DownloadError,
  DownloadRequestObject,
} from "../agent/companion/ports.js";
import { VELERO, createAgentCluster } from "./agent-cluster.js";
import { isNotFound } from "./errors.js";
import { backupsPath, listBackupsFn, watchObjects, type ListResult } from "./informer.js";
import type { PodLike } from "../domain/types.js";
import type { ServerPodLike } from "../velero/server-pods.js";
import { withRetry, type RetryOptions } from "./retry.js";
import { makePooledApiClient } from "./transport.js";

export interface CompanionClusterOptions {
  retry?: RetryOptions;
  /**
   * PEM CA bundle trusted for the signed download URLs (an object store with a private CA, as the
   * velero CLI's --cacert). Without it, the system's CAs. http: URLs (in-cluster MinIO) need none.
   */
  downloadCaPem?: string;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

function configMapOf(cm: V1ConfigMap): ConfigMapObject {
  const m = cm.metadata ?? {};
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: m.name ?? "",
      namespace: m.namespace ?? "",
      ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      ...(m.labels ? { labels: m.labels } : {}),
      ...(m.annotations ? { annotations: m.annotations } : {}),
    },
    ...(cm.data ? { data: cm.data } : {}),
  };
}

export function createCompanionCluster(
  kc: KubeConfig,
  log: Logger,
  opts: CompanionClusterOptions = {},
): CompanionCluster {
  const retry = opts.retry ?? {};
  const base = createAgentCluster(kc, log, retry);
  const core = makePooledApiClient(kc, CoreV1Api);
  const custom = makePooledApiClient(kc, CustomObjectsApi);
  const call = <T>(fn: () => Promise<T>): Promise<KubeResult<T>> => withRetry(fn, retry);
  const drs = (namespace: string) => ({ ...VELERO, namespace, plural: "downloadrequests" });

  return {
    watchBackups(namespace, handler) {
      return watchObjects<BackupObject>(
        kc,
        { path: backupsPath(namespace), list: listBackupsFn(kc, namespace) },
        handler,
        log,
      );
    },
    getBackup: (namespace, name) => base.getBackup(namespace, name),
    watchPods(namespace, handler) {
      // list items are client-node models, watch events plain JSON: the fields the thaw guard reads
      // (names, uid, labels, phase, container statuses) are spelt the same in both
      return watchObjects<PodLike & ServerPodLike>(
        kc,
        {
          path: `/api/v1/namespaces/${namespace}/pods`,
          list: () => core.listNamespacedPod({ namespace }) as Promise<ListResult<PodLike & ServerPodLike>>,
        },
        handler,
        log,
      );
    },
    getPod: (namespace, name) => base.getPod(namespace, name),
    listNamespaces: () => base.listNamespaces(),
    listPods: (namespace) => base.listPods(namespace),
    listPvcs: (namespace) => base.listPvcs(namespace),
    listPvs: () => base.listPvs(),

    async createDownloadRequest(request) {
      return call(
        () =>
          custom.createNamespacedCustomObject({
            ...drs(request.metadata.namespace),
            body: request,
          }) as Promise<DownloadRequestObject>,
      );
    },
    async getDownloadRequest(namespace, name) {
      const r = await call(
        () => custom.getNamespacedCustomObject({ ...drs(namespace), name }) as Promise<DownloadRequestObject>,
      );
      if (!r.ok && isNotFound(r.error)) return { ok: true, value: undefined };
      return r;
    },
    async deleteDownloadRequest(namespace, name) {
      const r = await call(() => custom.deleteNamespacedCustomObject({ ...drs(namespace), name }));
      if (r.ok || isNotFound(r.error)) return { ok: true, value: undefined };
      return r;
    },
    fetchDownload: (url, o = {}) =>
      fetchGunzipped(url, { ...o, ...(opts.downloadCaPem ? { caPem: opts.downloadCaPem } : {}) }),

    async getConfigMap(namespace, name) {
      const r = await call(() => core.readNamespacedConfigMap({ namespace, name }));
      if (!r.ok) return isNotFound(r.error) ? { ok: true, value: undefined } : r;
      return { ok: true, value: configMapOf(r.value) };
    },
    async createConfigMap(cm) {
      const r = await call(() =>
        core.createNamespacedConfigMap({ namespace: cm.metadata.namespace, body: cm }),
      );
      return r.ok ? { ok: true, value: configMapOf(r.value) } : r;
    },
    async replaceConfigMap(cm) {
      const r = await call(() =>
        core.replaceNamespacedConfigMap({
          namespace: cm.metadata.namespace,
          name: cm.metadata.name,
          body: cm,
        }),
      );
      return r.ok ? { ok: true, value: configMapOf(r.value) } : r;
    },

    createEvent: (involved, type, reason, message) => base.createEvent(involved, type, reason, message),
  };
}

export interface FetchOptions {
  timeoutMs?: number;
  maxBytes?: number;
  signal?: AbortSignal;
  caPem?: string;
}

/**
 * GET a signed URL and gunzip the body, as the velero CLI does for logs and results. Errors never
 * quote the URL: its query string is a credential.
 */
export function fetchGunzipped(url: string, opts: FetchOptions = {}): Promise<Result<string, DownloadError>> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.resolve({
      ok: false,
      error: { kind: "transport", message: "the download URL Velero returned is not a URL" },
    });
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    return Promise.resolve({
      ok: false,
      error: { kind: "transport", message: `unsupported download URL scheme ${parsed.protocol}` },
    });
  }
  const host = parsed.host;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: Result<string, DownloadError>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      req.destroy();
      resolve(r);
    };
    const onResponse = (res: IncomingMessage): void => {
      if (res.statusCode === 404) {
        res.resume();
        return finish({
          ok: false,
          error: { kind: "not_found", message: `file not found (HTTP 404 from ${host})` },
        });
      }
      if (res.statusCode !== 200) {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          if (size < 512) chunks.push(c);
          size += c.length;
        });
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8").slice(0, 300).replace(/\s+/g, " ").trim();
          finish({
            ok: false,
            error: {
              kind: "http",
              status: res.statusCode ?? 0,
              message: `HTTP ${res.statusCode} from ${host}${body ? `: ${body}` : ""}`,
            },
          });
        });
        res.on("error", (e) =>
          finish({ ok: false, error: { kind: "transport", message: `reading from ${host}: ${e.message}` } }),
        );
        return;
      }
      const gunzip = createGunzip();
      const out: Buffer[] = [];
      let size = 0;
      gunzip.on("data", (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) {
          finish({
            ok: false,
            error: { kind: "content", message: `the file is larger than ${maxBytes} bytes unzipped` },
          });
          gunzip.destroy();
          return;
        }
        out.push(c);
      });
      gunzip.on("end", () => finish({ ok: true, value: Buffer.concat(out).toString("utf8") }));
      gunzip.on("error", (e) =>
        finish({
          ok: false,
          error: { kind: "content", message: `the file is not gzip as Velero writes it: ${e.message}` },
        }),
      );
      res.on("error", (e) =>
        finish({ ok: false, error: { kind: "transport", message: `reading from ${host}: ${e.message}` } }),
      );
      res.pipe(gunzip);
    };
    const req =
      parsed.protocol === "https:"
        ? httpsRequest(
            parsed,
            { method: "GET", minVersion: "TLSv1.2", ...(opts.caPem ? { ca: opts.caPem } : {}) },
            onResponse,
          )
        : httpRequest(parsed, { method: "GET" }, onResponse);
    req.on("error", (e) =>
      finish({ ok: false, error: { kind: "transport", message: `connecting to ${host}: ${e.message}` } }),
    );
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          error: { kind: "transport", message: `no complete answer from ${host} within ${timeoutMs}ms` },
        }),
      timeoutMs,
    );
    const onAbort = (): void => finish({ ok: false, error: { kind: "transport", message: "aborted" } });
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    req.end();
  });
}

/**
 * The CA a BackupStorageLocation names for its object store (`spec.objectStorage.caCert`, base64 PEM),
 * which the velero CLI trusts for download URLs by default. Undefined when the location has none or
 * does not exist.
 */
export async function readStorageLocationCaCert(
  kc: KubeConfig,
  namespace: string,
  name: string,
  retry: RetryOptions = {},
): Promise<KubeResult<string | undefined>> {
  const custom = makePooledApiClient(kc, CustomObjectsApi);
  const r = await withRetry(
    () =>
      custom.getNamespacedCustomObject({
        ...VELERO,
        namespace,
        plural: "backupstoragelocations",
        name,
      }) as Promise<{ spec?: { objectStorage?: { caCert?: string } } }>,
    retry,
  );
  if (!r.ok) return isNotFound(r.error) ? { ok: true, value: undefined } : r;
  const b64 = r.value.spec?.objectStorage?.caCert;
  return { ok: true, value: b64 ? Buffer.from(b64, "base64").toString("utf8") : undefined };
}
