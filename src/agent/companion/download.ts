// Reading a Backup's files the way the velero CLI does: create a DownloadRequest with a unique name
// in the Velero namespace, poll it until Velero's download-request controller fills in
// status.downloadURL (a signed object-store URL), GET that URL and gunzip it. Unlike the CLI we also
// delete the request afterwards (Velero would only expire it after about ten minutes).
// Velero never answers a request whose Backup or storage location it cannot find, and does not
// answer at all while it is down: the wait is bounded and ends in a clear error.
import { randomUUID } from "node:crypto";
import type { Result } from "../../domain/types.js";
import { sleep } from "../../util/async.js";
import type { CompanionCluster, DownloadRequestObject, DownloadTargetKind } from "./ports.js";

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
  /** the API refused or failed (RBAC, DownloadRequest CRD missing...) */
  | { kind: "api"; message: string }
  /** the URL could not be read or the content is not what Velero writes */
  | { kind: "download"; message: string }
  | { kind: "aborted"; message: string };

/** `<backup>-<uuid>`, as the CLI names it, shortened to fit a 253-character object name. */
export function downloadRequestName(backup: string): string {
  const suffix = `-${randomUUID()}`;
  return `${backup.slice(0, 253 - suffix.length).replace(/[.-]+$/, "")}${suffix}`;
}

export async function downloadBackupFile(
  cluster: Pick<
    CompanionCluster,
    "createDownloadRequest" | "getDownloadRequest" | "deleteDownloadRequest" | "fetchDownload"
  >,
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
            message: `reading DownloadRequest ${namespace}/${name}: ${got.error.message}`,
          },
        };
      if (!got.value)
        return {
          ok: false,
          error: {
            kind: "api",
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
