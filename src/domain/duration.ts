// Go `time.ParseDuration` and `Duration.String`, reproduced from the Go grammar so hookguard accepts
// and rejects exactly what Velero's annotation parser and metav1.Duration decoder do. Arithmetic is
// done on BigInt nanoseconds (Go uses uint64) and converted to a number at the end.
import type { Result } from "./types.js";

const NS = 1n;
const US = 1000n * NS;
const MS = 1000n * US;
const SEC = 1000n * MS;
const MIN = 60n * SEC;
const HOUR = 60n * MIN;
const MAX_MAGNITUDE = 1n << 63n;

// Keys are the UTF-8 byte sequences decoded as latin1, because Go compares bytes.
const UNITS = new Map<string, bigint>([
  ["ns", NS],
  ["us", US],
  ["\u00c2\u00b5s", US], // U+00B5 micro sign
  ["\u00ce\u00bcs", US], // U+03BC Greek mu
  ["ms", MS],
  ["s", SEC],
  ["m", MIN],
  ["h", HOUR],
]);

const HEX = "0123456789abcdef";

/** Go's time.quote: ASCII printable kept (with \" and \\ escaped), every other byte as \xNN. */
function goQuote(bytes: Uint8Array): string {
  let out = '"';
  for (const b of bytes) {
    if (b >= 0x80 || b < 0x20) out += `\\x${HEX[b >> 4]}${HEX[b & 0xf]}`;
    else {
      const c = String.fromCharCode(b);
      out += c === '"' || c === "\\" ? `\\${c}` : c;
    }
  }
  return `${out}"`;
}

const invalid = (bytes: Uint8Array): Result<number, string> => ({
  ok: false,
  error: `time: invalid duration ${goQuote(bytes)}`,
});

// Go parses durations byte by byte; one encoder serves every call.
const UTF8 = new TextEncoder();
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
const DOT = 0x2e;

/** Parses a Go duration; ok value is nanoseconds, error is Go's exact error text. */
export function parseGoDuration(text: string): Result<number, string> {
  const simple = parseSimple(text);
  return simple === undefined ? parseBytes(text) : { ok: true, value: simple };
}

// Unit values as numbers, for the fast path; every product it keeps is checked against 2^53.
const SIMPLE_UNITS: ReadonlyMap<string, number> = new Map([
  ["ns", 1],
  ["us", 1e3],
  ["ms", 1e6],
  ["s", 1e9],
  ["m", 60e9],
  ["h", 3600e9],
]);

/**
 * The timeouts people write ("30s", "2m", "1h30m"): ASCII digits and ASCII units, no sign, no
 * fraction, below 2^53 ns (104 days), where number arithmetic is exact. Everything else, errors
 * included, is undefined and goes to the byte-level parser. This path exists because the webhook
 * parses every hook timeout of every pod admitted, and the byte-level one (UTF-8 encoding, BigInt)
 * cost a quarter of a pod's validation.
 */
function parseSimple(text: string): number | undefined {
  let total = 0;
  let i = 0;
  const n = text.length;
  if (n === 0) return undefined;
  while (i < n) {
    let v = 0;
    const intStart = i;
    let c = text.charCodeAt(i);
    while (c >= 0x30 && c <= 0x39) {
      v = v * 10 + (c - 0x30);
      c = text.charCodeAt(++i); // NaN past the end: ends the loop
    }
    // No digits (a sign, a dot, a unit first) or too many to stay exact: the byte-level parser.
    if (i === intStart || i - intStart > 15) return undefined;
    const unitStart = i;
    while (i < n && !((c >= 0x30 && c <= 0x39) || c === 0x2e)) c = text.charCodeAt(++i);
    // Go's unit is the whole run up to the next digit or dot; a dot here is a fraction.
    if (i < n && c === 0x2e) return undefined;
    const unit = i - unitStart <= 2 ? SIMPLE_UNITS.get(text.slice(unitStart, i)) : undefined;
    if (unit === undefined) return undefined;
    // Exact while the true sum stays at most 2^53 - 1; past it the rounded sum is at least 2^53.
    total += v * unit;
    if (total > Number.MAX_SAFE_INTEGER) return undefined;
  }
  return total;
}

function parseBytes(text: string): Result<number, string> {
  const bytes = UTF8.encode(text);
  let i = 0;
  let neg = false;
  if (bytes.length > 0 && (bytes[0] === 0x2d || bytes[0] === 0x2b)) {
    neg = bytes[0] === 0x2d;
    i = 1;
  }
  if (bytes.length - i === 1 && bytes[i] === 0x30) return { ok: true, value: 0 };
  if (i === bytes.length) return invalid(bytes);
  let total = 0n;
  while (i < bytes.length) {
    const c = bytes[i]!;
    if (!(c === DOT || isDigit(c))) return invalid(bytes);
    // leadingInt: [0-9]*, overflow is an invalid duration
    let v = 0n;
    const intStart = i;
    while (i < bytes.length && isDigit(bytes[i]!)) {
      if (v > MAX_MAGNITUDE / 10n) return invalid(bytes);
      v = v * 10n + BigInt(bytes[i]! - 0x30);
      if (v > MAX_MAGNITUDE) return invalid(bytes);
      i++;
    }
    const pre = i !== intStart;
    let f = 0n;
    let scale = 1;
    let post = false;
    if (i < bytes.length && bytes[i] === DOT) {
      i++;
      const fracStart = i;
      let overflow = false;
      // leadingFraction: digits past the precision of int64 are consumed but ignored
      while (i < bytes.length && isDigit(bytes[i]!)) {
        if (!overflow) {
          if (f > (MAX_MAGNITUDE - 1n) / 10n) overflow = true;
          else {
            const y = f * 10n + BigInt(bytes[i]! - 0x30);
            if (y > MAX_MAGNITUDE) overflow = true;
            else {
              f = y;
              scale *= 10;
            }
          }
        }
        i++;
      }
      post = i !== fracStart;
    }
    if (!pre && !post) return invalid(bytes);
    const unitStart = i;
    while (i < bytes.length && !(bytes[i] === DOT || isDigit(bytes[i]!))) i++;
    if (i === unitStart) return { ok: false, error: `time: missing unit in duration ${goQuote(bytes)}` };
    const unitBytes = bytes.subarray(unitStart, i);
    // units are at most 3 bytes; longer runs cannot match (and must not be spread into a call)
    const unit = unitBytes.length <= 3 ? UNITS.get(String.fromCharCode(...unitBytes)) : undefined;
    if (unit === undefined) {
      return { ok: false, error: `time: unknown unit ${goQuote(unitBytes)} in duration ${goQuote(bytes)}` };
    }
    if (v > MAX_MAGNITUDE / unit) return invalid(bytes);
    v *= unit;
    if (f > 0n) {
      // Go: v += uint64(float64(f) * (float64(unit) / scale))
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > MAX_MAGNITUDE) return invalid(bytes);
    }
    total += v;
    if (total > MAX_MAGNITUDE) return invalid(bytes);
  }
  if (neg) return { ok: true, value: total === 0n ? 0 : -Number(total) };
  if (total > MAX_MAGNITUDE - 1n) return invalid(bytes);
  return { ok: true, value: Number(total) };
}

/** The fraction of v/10**prec without trailing zeros (and without the dot when it is 0). */
function fmtFrac(v: bigint, prec: number): { text: string; rest: bigint } {
  let text = "";
  let print = false;
  for (let k = 0; k < prec; k++) {
    const digit = v % 10n;
    print = print || digit !== 0n;
    if (print) text = digit.toString() + text;
    v /= 10n;
  }
  return { text: print ? `.${text}` : "", rest: v };
}

/** Go's Duration.String(): `1h30m0s`, `1.5s`, `100ms`, `0s`, `-5s`. Input is nanoseconds. */
export function formatGoDuration(ns: number): string {
  let u = BigInt(Math.trunc(ns));
  const neg = u < 0n;
  if (neg) u = -u;
  let out: string;
  if (u < SEC) {
    if (u === 0n) return "0s";
    let prec: number;
    let unit: string;
    if (u < US) [prec, unit] = [0, "ns"];
    else if (u < MS) [prec, unit] = [3, "\u00b5s"];
    else [prec, unit] = [6, "ms"];
    const frac = fmtFrac(u, prec);
    out = `${frac.rest}${frac.text}${unit}`;
  } else {
    const frac = fmtFrac(u, 9);
    let rest = frac.rest;
    out = `${rest % 60n}${frac.text}s`;
    rest /= 60n;
    if (rest > 0n) {
      out = `${rest % 60n}m${out}`;
      rest /= 60n;
      if (rest > 0n) out = `${rest}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** Milliseconds, for hooks; sub-millisecond remainders are rounded up so "500us" is not 0. */
export function nanosToMillis(ns: number): number {
  return Math.ceil(ns / 1e6);
}

/** Milliseconds as Go prints a time.Duration ("30s", "1m0s"), the form Velero's logs and flags use. */
export function millisToGoDuration(ms: number): string {
  return formatGoDuration(ms * 1e6);
}
