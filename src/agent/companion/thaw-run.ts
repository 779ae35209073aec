// One pod's post hooks, run by the thaw guard: the same gate (src/domain hookGate) and exec path as
// every hook hookguard runs (pods/exec through the PodExecutor port, the hook's container and
// timeout, Velero's error texts from hooks/exec-hook.ts). A recognised unfreeze that fails only
// because its path was not frozen is `skipped`: the pod was never frozen, or is thawed already.
// As Velero does for post hooks, a failure of a hook whose on-error is Fail stops the pod's later ones.
import { hookGate, isNotFrozenFailure, type ExecHook, type PodLike } from "../../domain/index.js";
import { hookDisplayName, outcomeError } from "../hooks/exec-hook.js";
import type { PodExecutor } from "../ports.js";

export type ThawHookResult = "succeeded" | "failed" | "skipped" | "not_run";

export interface ThawHookOutcome {
  /** `<from-annotation>` or the spec entry's name */
  name: string;
  container: string;
  argv: string[];
  result: ThawHookResult;
  /** why it failed, was skipped or was not run */
  detail?: string;
}

export function describeHook(h: ExecHook): string {
  return `${hookDisplayName(h)} ${JSON.stringify(h.argv)} in container ${h.container}`;
}

export async function runThawHooks(
  executor: PodExecutor,
  ref: { namespace: string; name: string },
  pod: PodLike | undefined,
  hooks: ExecHook[],
  signal: AbortSignal,
  handshakeTimeoutMs?: number,
): Promise<ThawHookOutcome[]> {
  const out: ThawHookOutcome[] = [];
  let stopped: string | undefined;
  for (const hook of hooks) {
    const base = { name: hookDisplayName(hook), container: hook.container, argv: hook.argv };
    if (stopped !== undefined) {
      out.push({ ...base, result: "not_run", detail: stopped });
      continue;
    }
    const gate = hookGate(pod, hook);
    if (gate.kind === "skip") {
      out.push({ ...base, result: "skipped", detail: gate.reason });
      continue;
    }
    let outcome: ThawHookOutcome;
    if (gate.kind === "fail") outcome = { ...base, result: "failed", detail: gate.reason };
    else {
      const r = await executor.exec({
        namespace: ref.namespace,
        pod: ref.name,
        container: hook.container,
        argv: hook.argv,
        timeoutMs: hook.timeoutMs,
        signal,
        ...(handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs } : {}),
      });
      const error = outcomeError(r, hook.timeoutMs);
      if (error === undefined) outcome = { ...base, result: "succeeded" };
      else if (r.kind === "exited" && isNotFrozenFailure(hook.argv, r.exitCode, r.stderr))
        outcome = { ...base, result: "skipped", detail: "not frozen (fsfreeze: Invalid argument)" };
      else {
        const cause = r.stderr.trim().split("\n").pop()?.slice(0, 200);
        outcome = { ...base, result: "failed", detail: cause ? `${error}: ${cause}` : error };
      }
    }
    out.push(outcome);
    if (outcome.result === "failed" && hook.onError === "Fail")
      stopped = `not run: post hook ${describeHook(hook)} failed with on-error Fail`;
  }
  return out;
}

/** One word for a pod: failed if any hook failed or was not run, succeeded if any ran, else skipped. */
export function podResult(outcomes: ThawHookOutcome[]): "succeeded" | "failed" | "skipped" {
  if (outcomes.some((o) => o.result === "failed" || o.result === "not_run")) return "failed";
  return outcomes.some((o) => o.result === "succeeded") ? "succeeded" : "skipped";
}

export function summarise(outcomes: ThawHookOutcome[]): string {
  return outcomes
    .map((o) => `${o.name} ${JSON.stringify(o.argv)} ${o.result}${o.detail ? ` (${o.detail})` : ""}`)
    .join("; ");
}
