// Bounded exponential backoff for API calls. Only transient failures are retried: transport errors
// (code 0), 429 and 5xx. A 4xx is an answer (NotFound, Conflict, Forbidden...), never retried.
import { toKubeApiError, type KubeApiError } from "./errors.js";
import type { Result } from "../domain/types.js";
import { sleep } from "../util/async.js";

export interface RetryOptions {
  /** Total attempts including the first (default 5). */
  attempts?: number;
  /** First delay (default 200 ms); doubles each time up to maxDelayMs (default 5 s), with ±20% jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
}

export const isTransient = (e: KubeApiError): boolean => e.code === 0 || e.code === 429 || e.code >= 500;

export function backoffDelay(attempt: number, base: number, max: number): number {
  const d = Math.min(max, base * 2 ** attempt);
  return Math.round(d * (0.8 + Math.random() * 0.4));
}

/** Run `fn`, retrying transient API errors; every failure comes back as a typed KubeApiError. */
export async function withRetry<T>(
  fn: () => Promise<T>,
  opts: RetryOptions = {},
): Promise<Result<T, KubeApiError>> {
  const attempts = Math.max(1, opts.attempts ?? 5);
  const base = opts.baseDelayMs ?? 200;
  const max = opts.maxDelayMs ?? 5000;
  let last: KubeApiError = { code: 0, reason: "TransportError", message: "not attempted" };
  for (let i = 0; i < attempts; i++) {
    try {
      return { ok: true, value: await fn() };
    } catch (err) {
      last = toKubeApiError(err);
      if (!isTransient(last) || i === attempts - 1 || opts.signal?.aborted) break;
      await sleep(backoffDelay(i, base, max), opts.signal);
    }
  }
  return { ok: false, error: last };
}
