// The standalone agent's stored files, served read-only over HTTPS on a port of its own, for the CLI
// to reach through the API server's service proxy (the cluster authenticates the user and authorizes
// `services/proxy` on the agent's Service; this server trusts nothing of the request but its path).
//
// Routes, GET or HEAD only, nothing else:
//   /backups                      index of the Backups with stored files (JSON)
//   /backups/NAME/results         per-hook results (`NAME-hooks.json`)
//   /backups/NAME/log             the per-backup log (`NAME-logs.jsonl`)
//   /backups/NAME/archive         the archive (`NAME.tar.gz`)
// NAME must be a Backup name (a DNS-1123 subdomain: no `/`, no `..`, after percent-decoding), so no
// path leaves the storage dir. Files are streamed, never read whole.
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import { archivePath } from "./archive.js";
import { backupLogPath } from "./backup-log.js";
import { resultsPath } from "./results.js";

/** What the API server's service proxy reaches: a Backup's stored files by kind. */
export const STORED_FILES = {
  results: { path: resultsPath, type: "application/json" },
  log: { path: backupLogPath, type: "application/x-ndjson" },
  archive: { path: archivePath, type: "application/gzip" },
} as const;
export type StoredFileKind = keyof typeof STORED_FILES;

/** A Backup's object name: a lowercase RFC 1123 subdomain, at most 253 characters. */
const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const isBackupName = (name: string): boolean => name.length <= 253 && NAME_RE.test(name);

export interface StoredBackup {
  name: string;
  results: boolean;
  log: boolean;
  archive: boolean;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The Backups with at least one stored file, by name. */
export async function listStoredBackups(storageDir: string): Promise<StoredBackup[]> {
  let names: string[];
  try {
    names = await readdir(storageDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const out: StoredBackup[] = [];
  for (const name of names.filter(isBackupName).sort()) {
    const entry: StoredBackup = {
      name,
      results: await isFile(STORED_FILES.results.path(storageDir, name)),
      log: await isFile(STORED_FILES.log.path(storageDir, name)),
      archive: await isFile(STORED_FILES.archive.path(storageDir, name)),
    };
    if (entry.results || entry.log || entry.archive) out.push(entry);
  }
  return out;
}

function sendJson(res: ServerResponse, code: number, body: unknown, head: boolean): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(code, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
  });
  res.end(head ? undefined : text);
}

/** The route of a raw request path, or why it is refused. */
export function route(
  rawPath: string,
):
  | { kind: "index" }
  | { kind: "file"; name: string; file: StoredFileKind }
  | { kind: "bad"; code: number; message: string } {
  const path = rawPath.split("?")[0]!;
  if (path === "/backups" || path === "/backups/") return { kind: "index" };
  const segments = path.split("/");
  if (segments.length !== 4 || segments[0] !== "" || segments[1] !== "backups")
    return { kind: "bad", code: 404, message: "not found" };
  let name: string;
  try {
    name = decodeURIComponent(segments[2]!);
  } catch {
    return { kind: "bad", code: 400, message: "invalid backup name" };
  }
  if (!isBackupName(name)) return { kind: "bad", code: 400, message: "invalid backup name" };
  const file = segments[3]!;
  if (!Object.hasOwn(STORED_FILES, file)) return { kind: "bad", code: 404, message: "not found" };
  return { kind: "file", name, file: file as StoredFileKind };
}

async function handle(storageDir: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const head = req.method === "HEAD";
  if (req.method !== "GET" && !head) {
    res.setHeader("allow", "GET, HEAD");
    return sendJson(res, 405, { error: "method not allowed" }, head);
  }
  const r = route(req.url ?? "/");
  if (r.kind === "bad") return sendJson(res, r.code, { error: r.message }, head);
  if (r.kind === "index") return sendJson(res, 200, { backups: await listStoredBackups(storageDir) }, head);
  const spec = STORED_FILES[r.file];
  const path = spec.path(storageDir, r.name);
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw Object.assign(new Error("not a file"), { code: "ENOENT" });
    size = st.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      return sendJson(res, 404, { error: `backup ${r.name} has no stored ${r.file}` }, head);
    throw err;
  }
  res.writeHead(200, {
    "content-type": spec.type,
    "content-length": String(size),
    "cache-control": "no-store",
  });
  if (head) {
    res.end();
    return;
  }
  await pipeline(createReadStream(path), res);
}

export interface FileServer {
  port: number;
  close(): Promise<void>;
}

/** Serves `storageDir` on host:port with the given certificate (the service proxy does not verify it). */
export async function startFileServer(
  storageDir: string,
  host: string,
  port: number,
  tls: { keyPem: string; certPem: string },
  onError: (err: unknown) => void = () => undefined,
): Promise<FileServer> {
  const server: Server = createServer(
    { key: tls.keyPem, cert: tls.certPem, minVersion: "TLSv1.2" },
    (req, res) => {
      handle(storageDir, req, res).catch((err: unknown) => {
        onError(err);
        if (!res.headersSent) sendJson(res, 500, { error: "cannot read the stored file" }, false);
        else res.destroy();
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
