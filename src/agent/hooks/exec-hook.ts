// One hook on one pod: the checks that decide whether it may run, the exec, and the outcome in
// Velero's words (`command terminated with exit code N`, `timed out after 30s`). Never throws.
import { hookGate, millisToGoDuration, type ExecHook, type PodLike } from "../../domain/index.js";
import type { RunContext } from "../runtime/run-context.js";
import type { HookMetricResult } from "../runtime/metrics.js";
import type { ExecResult } from "../ports.js";
import type { HookRecord, HookResultKind } from "./record.js";

/** Velero's hook log fields (docs/velero-hook-semantics.md, "Log lines"), JSON flavour, plus the pod. */
export function hookFields(
  hook: ExecHook,
  pod: { namespace: string; name: string },
): Record<string, unknown> {
  return {
    namespace: pod.namespace,
    pod: pod.name,
    hookCommand: hook.argv,
    hookContainer: hook.container,
    hookName: hookDisplayName(hook),
    hookOnError: hook.onError,
    hookPhase: hook.phase,
    hookSource: hook.source,
    hookTimeout: millisToGoDuration(hook.timeoutMs),
    hookType: "exec",
  };
}

export function hookDisplayName(hook: ExecHook): string {
  return hook.source === "annotation" ? "<from-annotation>" : hook.name;
}

/** The last non-empty line of a stream, capped so a table row stays readable. */
function lastLine(text: string): string | undefined {
  const line = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .pop();
  return line === undefined ? undefined : line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

export function outcomeError(r: ExecResult, timeoutMs: number): string | undefined {
  switch (r.kind) {
    case "exited":
      return r.exitCode === 0 ? undefined : `command terminated with exit code ${r.exitCode}`;
    case "timed_out":
      return `timed out after ${millisToGoDuration(timeoutMs)}`;
    case "transport_error":
      return r.message;
  }
}

/** What every per-hook record starts with: which hook of which pod, as `backup describe` shows it. */
export function hookRecordBase(
  ref: { namespace: string; name: string },
  hook: ExecHook,
  recovered?: boolean,
) {
  return {
    namespace: ref.namespace,
    pod: ref.name,
    container: hook.container,
    phase: hook.phase,
    source: hook.source,
    name: hookDisplayName(hook),
    argv: hook.argv,
    onError: hook.onError,
    ...(recovered ? { recovered: true } : {}),
  };
}

/**
 * Runs `hook` on `pod` (the copy re-read just before this pod's hooks; undefined when it is gone).
 * Logs Velero's lines to the backup log, counts the metric, emits events on failure, and returns
 * the record. The caller handles the tracker and the on-error mode.
 */
export async function runHook(
  ctx: RunContext,
  ref: { namespace: string; name: string },
  pod: PodLike | undefined,
  hook: ExecHook,
): Promise<HookRecord> {
  const fields = hookFields(hook, ref);
  const base = { ...hookRecordBase(ref, hook, ctx.recovering), startedAt: new Date().toISOString() };
  const warnings = hook.warnings.map((w) => `${w.path}: ${w.message}`);
  for (const w of warnings) {
    ctx.backupLog.recordWarning(w, {
      namespace: ref.namespace,
      pod: ref.name,
      hookPhase: hook.phase,
      hookSource: hook.source,
    });
    ctx.metrics.hookConfigWarnings.inc();
  }
  const withWarnings = warnings.length > 0 ? { warnings } : {};

  const g = hookGate(pod, hook);
  if (g.kind === "skip") {
    ctx.backupLog.info(g.reason, fields);
    ctx.metrics.hookHandled(ref.namespace, hook.phase, hook.source, "skipped");
    return { ...base, ...withWarnings, result: "skipped", durationMs: 0 };
  }
  if (g.kind === "fail")
    return failed(
      ctx,
      ref,
      pod,
      hook,
      { ...base, ...withWarnings, result: "failed", durationMs: 0, error: g.reason },
      undefined,
    );

  ctx.backupLog.info("running exec hook", fields);
  const r = await ctx.executor.exec({
    namespace: ref.namespace,
    pod: ref.name,
    container: hook.container,
    argv: hook.argv,
    timeoutMs: hook.timeoutMs,
    signal: ctx.signal,
    ...(ctx.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: ctx.handshakeTimeoutMs } : {}),
  });
  if (r.kind === "exited") {
    // Velero logs both streams whenever the command finished, even empty, even on a non-zero exit
    ctx.backupLog.info(`stdout: ${r.stdout}`, fields);
    ctx.backupLog.info(`stderr: ${r.stderr}`, fields);
  }
  const error = outcomeError(r, hook.timeoutMs);
  const result: HookResultKind =
    error === undefined ? "succeeded" : r.kind === "timed_out" ? "timed_out" : "failed";
  const record: HookRecord = {
    ...base,
    ...withWarnings,
    result,
    ...(r.kind === "exited" ? { exitCode: r.exitCode } : {}),
    durationMs: Math.round(r.durationMs),
    ...(error !== undefined ? { error } : {}),
    ...(error !== undefined && r.kind === "exited" && lastLine(r.stderr)
      ? { cause: lastLine(r.stderr) }
      : {}),
  };
  if (error === undefined) {
    ctx.metrics.hookHandled(ref.namespace, hook.phase, hook.source, "succeeded", r.durationMs);
    return record;
  }
  return failed(ctx, ref, pod, hook, record, r.durationMs);
}

function failed(
  ctx: RunContext,
  ref: { namespace: string; name: string },
  pod: PodLike | undefined,
  hook: ExecHook,
  record: HookRecord,
  durationMs: number | undefined,
): HookRecord {
  // Velero's error line carries no hookCommand, so `grep hookCommand` does not match it (E50)
  ctx.backupLog.recordError("Error executing hook", {
    namespace: ref.namespace,
    pod: ref.name,
    hookName: hookDisplayName(hook),
    hookContainer: hook.container,
    hookPhase: hook.phase,
    hookSource: hook.source,
    hookType: "exec",
    error: record.error,
  });
  const metricResult: HookMetricResult = record.result === "timed_out" ? "timed_out" : "failed";
  ctx.metrics.hookHandled(ref.namespace, hook.phase, hook.source, metricResult, durationMs);
  const message = `${hook.phase} hook ${hookDisplayName(hook)} in ${ref.namespace}/${ref.name} container ${hook.container}: ${record.error}`;
  const b = ctx.backup.metadata;
  void ctx.cluster
    .createEvent(
      {
        apiVersion: "velero.io/v1",
        kind: "Backup",
        namespace: b.namespace,
        name: b.name,
        ...(b.uid ? { uid: b.uid } : {}),
      },
      "Warning",
      "HookFailed",
      message,
    )
    .catch(() => undefined);
  if (pod) {
    const uid = pod.metadata?.uid;
    void ctx.cluster
      .createEvent(
        { apiVersion: "v1", kind: "Pod", namespace: ref.namespace, name: ref.name, ...(uid ? { uid } : {}) },
        "Warning",
        "BackupHookFailed",
        `backup ${b.name}: ${message}`,
      )
      .catch(() => undefined);
  }
  return record;
}
