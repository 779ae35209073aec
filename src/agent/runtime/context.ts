// What one Backup run carries through its blocks, pods and hooks. Built by backup-run.ts (and by
// recovery.ts for a dead owner's post hooks); tests build it around recording fakes.
import type { Logger } from "../../log.js";
import { formatGoDuration } from "../../domain/index.js";
import type { ExecHook, PodLike } from "../../domain/index.js";
import type { BackupLog } from "../store/backup-log.js";
import type { AgentMetrics } from "./metrics.js";
import type { KeyedMutex } from "./pod-lock.js";
import type { AgentCluster, PodExecutor } from "../ports.js";
import type { BackupObject } from "../../velero/types.js";
import type { HookRecord } from "../store/results.js";
import type { HookTracker } from "../hooks/tracker.js";

export interface AgentRunOptions {
  /** ItemBlocks processed at once (default 4) */
  workers: number;
  /** run the pods' hooks of one phase concurrently inside a block */
  parallelHooks: boolean;
  /** first pre hook of a block to its post hooks; past it the item step is abandoned */
  maxFreezeWindowMs: number;
  volumeSnapshotClass?: string;
  snapshotTimeoutMs: number;
  /** directory holding `<backup>/<backup>.tar.gz`, logs and results */
  storageDir: string;
  /** exec WebSocket handshake bound */
  handshakeTimeoutMs?: number;
  /** how often snapshot readiness is polled */
  snapshotPollMs?: number;
}

export interface RunContext {
  backup: BackupObject;
  cluster: AgentCluster;
  executor: PodExecutor;
  podLocks: KeyedMutex;
  tracker: HookTracker;
  log: BackupLog;
  metrics: AgentMetrics;
  records: HookRecord[];
  /** aborted when leadership is lost or the agent stops: no new hook starts after that */
  signal: AbortSignal;
  logger: Logger;
  /** set by recovery: its records are marked `recovered` */
  recovering?: boolean;
  handshakeTimeoutMs?: number;
}

/** Velero's hook log fields (section 5.3), JSON flavour, plus the pod. */
export function hookFields(hook: ExecHook, pod: { namespace: string; name: string }): Record<string, unknown> {
  return {
    namespace: pod.namespace,
    pod: pod.name,
    hookCommand: hook.argv,
    hookContainer: hook.container,
    hookName: hookDisplayName(hook),
    hookOnError: hook.onError,
    hookPhase: hook.phase,
    hookSource: hook.source,
    hookTimeout: goDurationMs(hook.timeoutMs),
    hookType: "exec",
  };
}

export function hookDisplayName(hook: ExecHook): string {
  return hook.source === "annotation" ? "<from-annotation>" : hook.name;
}

export function podRef(pod: PodLike): { namespace: string; name: string } {
  return { namespace: pod.metadata?.namespace ?? "", name: pod.metadata?.name ?? "" };
}

export function goDurationMs(ms: number): string {
  return formatGoDuration(ms * 1e6);
}
