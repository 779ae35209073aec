// The cert dir: `tls.crt`/`tls.key` (serving pair) and, in dev mode, `ca.crt`/`ca.key`. Files are
// read through their names, so Kubernetes Secret volumes (`tls.crt -> ..data/tls.crt`) work as is.
import { X509Certificate, createPrivateKey } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Result } from "../domain/types.js";
import { generateBundle } from "./generate.js";

export interface LoadedPair {
  certPem: string;
  keyPem: string;
  /** Leaf certificate expiry, for the expiry gauge and logs. */
  notAfter: Date;
  /** Serial of the leaf, to tell pairs apart in logs and tests. */
  serial: string;
}

/** Reads and checks the serving pair: both parse and the key belongs to the certificate. */
export function loadPair(dir: string): Result<LoadedPair> {
  const read = readPair(dir);
  return read.ok ? parsePair(dir, read.value) : read;
}

export interface PairBytes {
  certPem: string;
  keyPem: string;
}

/** The serving pair's files as they are now, unchecked. */
export function readPair(dir: string): Result<PairBytes> {
  try {
    return {
      ok: true,
      value: {
        certPem: readFileSync(join(dir, "tls.crt"), "utf8"),
        keyPem: readFileSync(join(dir, "tls.key"), "utf8"),
      },
    };
  } catch (err) {
    return { ok: false, error: `cannot read tls.crt/tls.key in ${dir}: ${(err as Error).message}` };
  }
}

/** Parses a pair read from `dir` and checks that the key belongs to the certificate. */
export function parsePair(dir: string, { certPem, keyPem }: PairBytes): Result<LoadedPair> {
  try {
    const cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) {
      return { ok: false, error: `tls.key in ${dir} does not belong to tls.crt` };
    }
    return {
      ok: true,
      value: { certPem, keyPem, notAfter: new Date(cert.validTo), serial: cert.serialNumber },
    };
  } catch (err) {
    return { ok: false, error: `invalid certificate or key in ${dir}: ${(err as Error).message}` };
  }
}

/**
 * Dev mode: when the cert dir holds no serving pair, writes a fresh CA and serving certificate
 * there (keys mode 0600). Returns whether it generated, so the caller can say so.
 */
export function ensureDevCerts(dir: string, dnsNames: string[] = []): Result<{ generated: boolean }> {
  const hasCert = existsSync(join(dir, "tls.crt"));
  const hasKey = existsSync(join(dir, "tls.key"));
  if (hasCert && hasKey) return { ok: true, value: { generated: false } };
  if (hasCert !== hasKey) {
    // Half a pair is a broken deployment, not an empty dir: never overwrite what someone put there.
    return {
      ok: false,
      error: `${dir} holds ${hasCert ? "tls.crt but no tls.key" : "tls.key but no tls.crt"}`,
    };
  }
  try {
    mkdirSync(dir, { recursive: true });
    const bundle = generateBundle({ dnsNames });
    writeFileSync(join(dir, "ca.crt"), bundle.ca.certPem);
    writeFileSync(join(dir, "ca.key"), bundle.ca.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, "tls.key"), bundle.serving.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, "tls.crt"), bundle.serving.certPem);
    return { ok: true, value: { generated: true } };
  } catch (err) {
    return { ok: false, error: `cannot write dev certificates to ${dir}: ${(err as Error).message}` };
  }
}
