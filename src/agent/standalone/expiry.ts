// When a Backup expires, with Velero's rules: `status.expiration` is set when the Backup starts, to
// the start time plus `spec.ttl`, and an unset (or zero) ttl means Velero's default of 720h (30 days).
// A Backup without `status.expiration` (claimed before hookguard wrote it) gets the same computation
// from its start or creation time, so it is never kept forever.
import { nanosToMillis, parseGoDuration } from "../../domain/index.js";
import type { BackupObject } from "../../velero/types.js";

export const DEFAULT_TTL_MS = 720 * 3600 * 1000;

/** The Backup's TTL in ms: spec.ttl, or the 720h default when it is unset, zero or unparsable. */
export function backupTtlMs(b: BackupObject): number {
  if (!b.spec.ttl) return DEFAULT_TTL_MS;
  const d = parseGoDuration(b.spec.ttl);
  // the webhook refuses an unparsable ttl; one that slipped in must not mean "expire at once"
  return d.ok && d.value > 0 ? nanosToMillis(d.value) : DEFAULT_TTL_MS;
}

/** status.expiration for a Backup starting at `start`. */
export function expirationFor(b: BackupObject, start: Date): string {
  return new Date(start.getTime() + backupTtlMs(b)).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** When the Backup expires (ms since the epoch), or undefined when no time on it says. */
export function backupExpiresAt(b: BackupObject): number | undefined {
  const written = b.status?.expiration;
  if (typeof written === "string") {
    const t = Date.parse(written);
    if (!Number.isNaN(t)) return t;
  }
  const from = b.status?.startTimestamp ?? b.metadata.creationTimestamp;
  if (!from) return undefined;
  const t = Date.parse(from);
  return Number.isNaN(t) ? undefined : t + backupTtlMs(b);
}
