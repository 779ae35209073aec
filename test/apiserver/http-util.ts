// Small HTTP helpers: body reading with the real server's size limit, JSON replies, Warning headers.
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, failure } from "./status.js";

/** The real server refuses request bodies over 3 MiB with 413. */
const MAX_BODY = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBodyBuffer(req)).toString("utf8");
}

export function readBodyBuffer(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(
          new ApiError(failure(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728")),
        );
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/**
 * `Warning: 299 - "text"` as the real server builds it (net.NewWarningHeader: only `"` and `\`
 * escaped). The UTF-8 bytes are carried as a latin1 string, which is how Node puts header bytes on
 * the wire, so non-ASCII text reaches kubectl intact instead of throwing in writeHead.
 */
export function warningHeader(text: string): string {
  const quoted = `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  return Buffer.from(`299 - ${quoted}`, "utf8").toString("latin1");
}

/**
 * The real warning recorder: duplicates dropped; past 4096 characters in total every warning is cut
 * to 256 characters, and whatever still does not fit is dropped.
 */
export function limitWarnings(warnings: string[]): string[] {
  // Texts with control characters are rejected by the real header builder and so never sent.
  // eslint-disable-next-line no-control-regex
  const unique = [...new Set(warnings)].filter((w) => !/[\u0000-\u001f\u007f]/.test(w));
  const total = (ws: string[]): number => ws.reduce((n, w) => n + [...w].length, 0);
  if (total(unique) <= 4096) return unique;
  const cut = unique.map((w) => [...w].slice(0, 256).join(""));
  const out: string[] = [];
  let used = 0;
  for (const w of cut) {
    if (used + [...w].length > 4096) break;
    out.push(w);
    used += [...w].length;
  }
  return out;
}

export function sendJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  warnings: string[] = [],
  extra: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body) + "\n";
  const headers: Record<string, string | string[]> = {
    "Content-Type": "application/json",
    "Cache-Control": "no-cache, private",
    "Content-Length": String(Buffer.byteLength(text)),
    ...extra,
  };
  if (warnings.length > 0) headers["Warning"] = limitWarnings(warnings).map(warningHeader);
  res.writeHead(code, headers);
  // A Buffer body keeps Node from merging head and body into one UTF-8 string, which would
  // re-encode the (latin1-carried) UTF-8 bytes of non-ASCII warning headers.
  res.end(Buffer.from(text, "utf8"));
}

export function sendError(res: ServerResponse, err: unknown, warnings: string[] = []): void {
  if (err instanceof ApiError) {
    sendJson(res, err.code, err.status, warnings, err.headers);
    return;
  }
  const msg = err instanceof Error ? err.message : String(err);
  sendJson(
    res,
    500,
    failure(500, "InternalError", `Internal error occurred: ${msg}`, { causes: [{ message: msg }] }),
    warnings,
  );
}
