// The object-store double behind the BackupStorageLocation: an HTTPS server (its own CA, from the
// repository's certificate helper) serving objects kept in a directory, only through pre-signed
// URLs that expire, as an S3 plugin signs them for a DownloadRequest. The directory outlives the
// Velero double's process, like a bucket outlives a Velero pod.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { generateBundle } from "../../src/tls/generate.js";

export interface ObjectStore {
  url: string;
  caPem: string;
  dir: string;
  put(bucket: string, key: string, body: Buffer): void;
  has(bucket: string, key: string): boolean;
  /** A URL for GET that stops working `ttlMs` from now. */
  sign(bucket: string, key: string, ttlMs: number): { url: string; expires: Date };
  stop(): Promise<void>;
}

const KEY_RE = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

function s3Error(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

/**
 * The store's TLS identity, kept beside its objects: like the bucket, it outlives a Velero process
 * (a restarted server finds the same object store, with the same CA in the BSL).
 */
function storeCertificates(dir: string): {
  ca: { certPem: string };
  serving: { keyPem: string; certPem: string };
} {
  const tls = join(dir, ".tls");
  const files = { ca: join(tls, "ca.crt"), cert: join(tls, "tls.crt"), key: join(tls, "tls.key") };
  if (existsSync(files.ca) && existsSync(files.cert) && existsSync(files.key))
    return {
      ca: { certPem: readFileSync(files.ca, "utf8") },
      serving: { certPem: readFileSync(files.cert, "utf8"), keyPem: readFileSync(files.key, "utf8") },
    };
  const certs = generateBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], validDays: 30 });
  mkdirSync(tls, { recursive: true, mode: 0o700 });
  writeFileSync(files.key, certs.serving.keyPem, { mode: 0o600 });
  writeFileSync(files.cert, certs.serving.certPem);
  writeFileSync(files.ca, certs.ca.certPem);
  return certs;
}

export async function startObjectStore(dir: string): Promise<ObjectStore> {
  mkdirSync(dir, { recursive: true });
  const secret = randomBytes(32);
  const certs = storeCertificates(dir);
  const pathOf = (bucket: string, key: string): string | undefined =>
    KEY_RE.test(bucket) && KEY_RE.test(key) && !`${bucket}/${key}`.split("/").includes("..")
      ? join(dir, bucket, key)
      : undefined;
  const signature = (bucket: string, key: string, expiresAt: number): Buffer =>
    createHmac("sha256", secret).update(`${bucket}/${key}\n${expiresAt}`).digest();

  const server: Server = createServer(
    { key: certs.serving.keyPem, cert: certs.serving.certPem, minVersion: "TLSv1.2" },
    (req, res) => {
      const send = (code: number, body: string | Buffer, type = "application/xml"): void => {
        res.writeHead(code, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
        res.end(body);
      };
      if (req.method !== "GET" && req.method !== "HEAD")
        return send(
          405,
          s3Error("MethodNotAllowed", "The specified method is not allowed against this resource."),
        );
      const url = new URL(req.url ?? "/", "https://store.invalid");
      const [bucket, ...rest] = url.pathname.slice(1).split("/").map(decodeURIComponent);
      const key = rest.join("/");
      const expiresAt = Number(url.searchParams.get("X-Expires-At"));
      const sig = Buffer.from(url.searchParams.get("X-Signature") ?? "", "hex");
      const file = bucket ? pathOf(bucket, key) : undefined;
      if (!file || !Number.isFinite(expiresAt))
        return send(
          403,
          s3Error("AccessDenied", "Query-string authentication requires the signature and expiry parameters"),
        );
      const want = signature(bucket!, key, expiresAt);
      if (sig.length !== want.length || !timingSafeEqual(sig, want))
        return send(
          403,
          s3Error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
          ),
        );
      if (Date.now() > expiresAt) return send(403, s3Error("AccessDenied", "Request has expired"));
      if (!existsSync(file)) return send(404, s3Error("NoSuchKey", "The specified key does not exist."));
      const body = readFileSync(file);
      send(200, req.method === "HEAD" ? Buffer.alloc(0) : body, "application/octet-stream");
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    caPem: certs.ca.certPem,
    dir,
    put(bucket, key, body) {
      const file = pathOf(bucket, key);
      if (!file) throw new Error(`invalid object key ${bucket}/${key}`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(`${file}.tmp`, body);
      renameSync(`${file}.tmp`, file);
    },
    has(bucket, key) {
      const file = pathOf(bucket, key);
      return file !== undefined && existsSync(file);
    },
    sign(bucket, key, ttlMs) {
      // Whole seconds, as S3 signs expiry, so the DownloadRequest's RFC3339 expiration is exact.
      const expiresAt = Math.floor((Date.now() + ttlMs) / 1000) * 1000;
      const q = new URLSearchParams({
        "X-Expires-At": String(expiresAt),
        "X-Signature": signature(bucket, key, expiresAt).toString("hex"),
      });
      return {
        url: `${url}/${encodeURIComponent(bucket)}/${key.split("/").map(encodeURIComponent).join("/")}?${q}`,
        expires: new Date(expiresAt),
      };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
