// What the companion exports, through the same series as standalone mode so one dashboard serves
// both: hook executions by the pod's namespace ("" when unattributed), Backups by final phase, the
// Backup's duration; plus Velero's own hook counts from status.hookStatus, which are the numbers
// Velero stands by when the log cannot be read or attributed.
import type { HookSource, Phase } from "../../domain/index.js";
import type { AgentMetrics } from "../runtime/metrics.js";
import type { CompanionHookResult } from "../../velero/hook-records.js";
import type { ThawGuardMetrics } from "./thaw-guard.js";

export interface CompanionMetricsSink {
  hookExecution(namespace: string, phase: Phase, source: HookSource, result: CompanionHookResult): void;
  /** durationSeconds undefined when the Backup has no start or completion time */
  backupFinished(phase: string, durationSeconds: number | undefined): void;
  veleroHookStatus(attempted: number, failed: number): void;
}

/** The sink on the agent's registry: the series standalone exports too, and Velero's counts. */
export function companionMetrics(agent: AgentMetrics): CompanionMetricsSink {
  return {
    hookExecution: (namespace, phase, source, result) => agent.hookHandled(namespace, phase, source, result),
    backupFinished: (phase, durationSeconds) => {
      agent.backups.inc({ phase });
      if (durationSeconds !== undefined) agent.backupDuration.observe(durationSeconds);
    },
    veleroHookStatus: (a, f) => {
      agent.veleroHooksAttempted.inc(a);
      agent.veleroHooksFailed.inc(f);
    },
  };
}

/** The thaw guard's counts on the agent's registry (docs/thaw-guard.md). */
export function thawGuardMetrics(agent: AgentMetrics): ThawGuardMetrics {
  return {
    forcedPostHooks: (reason) => agent.forcedPostHooks.inc({ reason }),
    notEligible: (reason) => agent.thawGuardNotEligible.inc({ reason }),
  };
}
