// Small async helpers shared by the agent, the cluster adapters and the CLI. Not in src/domain:
// timers are I/O as far as the domain is concerned.

/** Waits `ms`; resolves early (never rejects) when `signal` aborts, so a stopping loop ends at once. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
