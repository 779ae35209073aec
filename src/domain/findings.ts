// Small helpers shared by the parsers: finding constructors, field paths and "did you mean".
import type { Finding } from "./types.js";

export function error(code: string, path: string, message: string): Finding {
  return { severity: "error", code, path, message };
}
export function warning(code: string, path: string, message: string): Finding {
  return { severity: "warning", code, path, message };
}

/** `metadata.annotations["<key>"]` under a pod template prefix. */
export function annotationPath(prefix: string, key: string): string {
  let byKey = PATHS.get(prefix);
  const known = byKey?.get(key);
  if (known !== undefined) return known;
  const path = `${prefix}metadata.annotations[${JSON.stringify(key)}]`;
  if (pathsKept < MAX_PATHS_KEPT) {
    if (!byKey) PATHS.set(prefix, (byKey = new Map()));
    byKey.set(key, path);
    pathsKept++;
  }
  return path;
}
// The parsers name the path of every hook field they read, finding or not, on every admission; the
// same few keys under the same few prefixes come back each time, so the first paths made are kept
// (a bounded number: whatever else comes is quoted afresh).
const PATHS = new Map<string, Map<string, string>>();
const MAX_PATHS_KEPT = 512;
let pathsKept = 0;

/** Go %q for the ASCII cases that matter in messages (JSON string quoting is the same there). */
export function q(value: string): string {
  return JSON.stringify(value);
}

/** Shortens a user value for a message so warnings stay within the API server's limits. */
export function shortValue(value: string, max = 32): string {
  const quoted = q(value);
  return quoted.length <= max ? quoted : `${quoted.slice(0, max - 4)}..."`;
}

/**
 * The fix for a value whose only fault is whitespace around it. A trailing newline almost always
 * comes from a YAML block scalar (`|`), which keeps the final line break; `|-` strips it.
 */
export function whitespaceFix(value: string): string {
  return /\n\s*$/.test(value)
    ? `ends with a newline (YAML "|"); use "|-" or quote it`
    : `has spaces around it; remove them`;
}

// One row reused by every call on strings of annotation-key size: the webhook compares each unknown
// annotation domain with the hook domains on every admission, and a fresh array per call showed in
// its profile. Longer strings (lint input, anything) get a row of their own.
const SHARED_ROW = new Int32Array(320);

/**
 * Levenshtein distance, row by row. With a `bound`, it stops as soon as a whole row exceeds it (the
 * distance never shrinks from one row to the next) and returns a number above the bound: unrelated
 * annotation domains, compared on the webhook's hot path, differ within a few characters.
 */
export function levenshtein(a: string, b: string, bound = Infinity): number {
  const row = b.length < SHARED_ROW.length ? SHARED_ROW : new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) row[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const ai = a.charCodeAt(i - 1);
    let diag = row[0]!;
    row[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      let d = diag + (ai === b.charCodeAt(j - 1) ? 0 : 1);
      if (up + 1 < d) d = up + 1;
      if (row[j - 1]! + 1 < d) d = row[j - 1]! + 1;
      row[j] = d;
      if (d < rowMin) rowMin = d;
      diag = up;
    }
    if (rowMin > bound) return bound + 1;
  }
  return row[b.length]!;
}

/** Whether two strings are at most `max` edits apart; the length check alone settles most pairs. */
export function withinEditDistance(a: string, b: string, max: number): boolean {
  return Math.abs(a.length - b.length) <= max && levenshtein(a, b, max) <= max;
}

/** The candidate closest to `value` (case-insensitive), if it is plausibly a typo of it. */
export function closest(value: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = levenshtein(value.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  if (best === undefined) return undefined;
  const allowed = Math.max(1, Math.floor(Math.min(value.length, best.length) / 3));
  return bestDistance <= allowed && bestDistance < value.length ? best : undefined;
}
