// Reading a Backup's files the way the velero CLI does: create a DownloadRequest with a unique name
// in the Velero namespace, poll it until Velero's download-request controller fills in
// status.downloadURL (a signed object-store URL), GET that URL and gunzip it. Unlike the CLI we also
// delete the request afterwards (Velero would only expire it after about ten minutes).
// Velero never answers a request whose Backup or storage location it cannot find, and does not
// answer at all while it is down: the wait is bounded and ends in a clear error.
import { randomUUID } from "node:crypto";
import type { Result } from "../domain/types.js";
import { sleep } from "../util/async.js";

/** The target kinds the companion asks for (Velero's enum has more; BackupContents is never asked). */
export type DownloadTargetKind = "BackupLog" | "BackupResults";

export interface DownloadRequestObject {
  apiVersion: "velero.io/v1";
  kind: "DownloadRequest";
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    resourceVersion?: string;
    uid?: string;
  };
  spec: { target: { kind: DownloadTargetKind; name: string } };
  status?: { phase?: "New" | "Processed" | string; downloadURL?: string; expiration?: string };
}

/** Why a signed URL could not be read. */
export type DownloadError =
  /** 404 from the object store: the file does not exist (FailedValidation, failed at server start...) */
  | { kind: "not_found"; message: string }
  /** another HTTP status */
  | { kind: "http"; status: number; message: string }
  /** connection, TLS or timeout */
  | { kind: "transport"; message: string }
  /** not gzip, or bigger than the cap once unzipped */
  | { kind: "content"; message: string };

/** An API error as the cluster adapters report it (the shape of src/agent/ports.ts's ClusterError). */
export interface ApiFailure {
  code: number;
  reason: string;
  message: string;
}

/** What reading a Backup's file needs from the cluster (the API calls and the GET of the signed URL). */
export interface DownloadPort {
  createDownloadRequest(request: DownloadRequestObject): Promise<Result<DownloadRequestObject, ApiFailure>>;
  getDownloadRequest(
    namespace: string,
    name: string,
  ): Promise<Result<DownloadRequestObject | undefined, ApiFailure>>;
  /** A DownloadRequest already gone counts as deleted. */
  deleteDownloadRequest(namespace: string, name: string): Promise<Result<void, ApiFailure>>;
  /** GET a signed URL and gunzip the body (Velero stores logs and results gzipped). */
  fetchDownload(
    url: string,
    opts?: { timeoutMs?: number; maxBytes?: number; signal?: AbortSignal },
  ): Promise<Result<string, DownloadError>>;
}

export interface DownloadOptions {
  /** how long to wait for Velero to answer (default 60 s, the CLI's default) */
  timeoutMs?: number;
  /** poll interval (default 250 ms) */
  pollMs?: number;
  /** cap on the unzipped size (default 64 MiB) */
  maxBytes?: number;
  signal?: AbortSignal;
}

export type DownloadFailure =
  /** Velero did not fill in a URL in time: down, or its storage location unusable */
  | { kind: "no_answer"; message: string }
  /** the file does not exist (FailedValidation, failed at server start, log upload failed) */
  | { kind: "not_found"; message: string }
  /** the API refused or failed (RBAC, DownloadRequest CRD missing...); `code` is the HTTP status (0: no answer) */
  | { kind: "api"; message: string; code: number; verb: "create" | "get" }
  /** the URL could not be read or the content is not what Velero writes */
  | { kind: "download"; message: string }
  | { kind: "aborted"; message: string };

/** `<backup>-<uuid>`, as the CLI names it, shortened to fit a 253-character object name. */
export function downloadRequestName(backup: string): string {
  const suffix = `-${randomUUID()}`;
  return `${backup.slice(0, 253 - suffix.length).replace(/[.-]+$/, "")}${suffix}`;
}

export async function downloadBackupFile(
  cluster: DownloadPort,
  namespace: string,
  backup: string,
  kind: DownloadTargetKind,
  opts: DownloadOptions = {},
): Promise<Result<string, DownloadFailure>> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const pollMs = opts.pollMs ?? 250;
  const name = downloadRequestName(backup);
  const request: DownloadRequestObject = {
    apiVersion: "velero.io/v1",
    kind: "DownloadRequest",
    metadata: { name, namespace, labels: { "app.kubernetes.io/managed-by": "hookguard" } },
    spec: { target: { kind, name: backup } },
  };
  const created = await cluster.createDownloadRequest(request);
  if (!created.ok)
    return {
      ok: false,
      error: {
        kind: "api",
        code: created.error.code,
        verb: "create",
        message: `creating DownloadRequest ${namespace}/${name}: ${created.error.message}`,
      },
    };
  try {
    const deadline = Date.now() + timeoutMs;
    let url: string | undefined;
    for (;;) {
      if (opts.signal?.aborted) return { ok: false, error: { kind: "aborted", message: "aborted" } };
      const got = await cluster.getDownloadRequest(namespace, name);
      if (!got.ok)
        return {
          ok: false,
          error: {
            kind: "api",
            code: got.error.code,
            verb: "get",
            message: `reading DownloadRequest ${namespace}/${name}: ${got.error.message}`,
          },
        };
      if (!got.value)
        return {
          ok: false,
          error: {
            kind: "api",
            code: 404,
            verb: "get",
            message: `DownloadRequest ${namespace}/${name} disappeared before Velero answered it`,
          },
        };
      url = got.value.status?.downloadURL;
      if (url) break;
      if (Date.now() >= deadline) {
        return {
          ok: false,
          error: {
            kind: "no_answer",
            message: `Velero did not answer DownloadRequest ${namespace}/${name} for ${kind} of backup ${backup} within ${timeoutMs < 1000 ? `${timeoutMs}ms` : `${Math.round(timeoutMs / 1000)}s`}: is the Velero server running in namespace ${namespace}, and its backup storage location available?`,
          },
        };
      }
      await sleep(pollMs, opts.signal);
    }
    const fetched = await cluster.fetchDownload(url, {
      timeoutMs,
      ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (fetched.ok) return fetched;
    const e = fetched.error;
    if (e.kind === "not_found")
      return {
        ok: false,
        error: { kind: "not_found", message: `backup ${backup} has no ${kind} in object storage` },
      };
    return {
      ok: false,
      error: {
        kind: "download",
        message: `reading ${kind} of backup ${backup} from its signed URL: ${e.message}`,
      },
    };
  } finally {
    // best effort: Velero deletes expired requests itself
    await cluster.deleteDownloadRequest(namespace, name).catch(() => undefined);
  }
}
