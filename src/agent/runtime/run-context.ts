// The run context: what one agent shares across Backups (AgentDeps: cluster, executor, metrics, pod
// locks, options) and what one Backup run carries through its blocks, pods and hooks (RunContext,
// built by newRunContext for a run and for a recovery of a dead owner's post hooks). Tests build
// both around recording fakes.
import type { Logger } from "../../log.js";
import type { PodLike } from "../../domain/index.js";
import type { BackupLog } from "../store/backup-log.js";
import type { AgentMetrics } from "./metrics.js";
import type { KeyedMutex } from "./pod-lock.js";
import type { AgentCluster, PodExecutor } from "../ports.js";
import type { BackupObject } from "../../velero/types.js";
import type { HookRecord } from "../hooks/record.js";
import { HookTracker } from "../hooks/tracker.js";

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

export interface AgentDeps {
  cluster: AgentCluster;
  executor: PodExecutor;
  metrics: AgentMetrics;
  podLocks: KeyedMutex;
  logger: Logger;
  options: AgentRunOptions;
  /** this agent's identity (owner annotation value) */
  identity: string;
}

export interface RunContext {
  backup: BackupObject;
  cluster: AgentCluster;
  executor: PodExecutor;
  podLocks: KeyedMutex;
  tracker: HookTracker;
  /**
   * The per-backup log. Its recordError lines decide the Backup's phase: any of them makes it
   * PartiallyFailed (Velero's rule), and they and recordWarning's are counted into status.errors
   * and status.warnings. Operational noise goes to `logger` (pino), never here.
   */
  backupLog: BackupLog;
  metrics: AgentMetrics;
  records: HookRecord[];
  /** aborted when leadership is lost or the agent stops: no new hook starts after that */
  signal: AbortSignal;
  logger: Logger;
  /** set by recovery: its records are marked `recovered` */
  recovering?: boolean;
  handshakeTimeoutMs?: number;
}

export function podRef(pod: PodLike): { namespace: string; name: string } {
  return { namespace: pod.metadata?.namespace ?? "", name: pod.metadata?.name ?? "" };
}

/** A fresh run of one Backup (a new tracker and record list), for processing it or recovering it. */
export function newRunContext(
  deps: AgentDeps,
  backup: BackupObject,
  backupLog: BackupLog,
  signal: AbortSignal,
  recovering = false,
): RunContext {
  return {
    backup,
    cluster: deps.cluster,
    executor: deps.executor,
    podLocks: deps.podLocks,
    tracker: new HookTracker(),
    backupLog,
    metrics: deps.metrics,
    records: [],
    signal,
    logger: deps.logger.child(
      recovering ? { backup: backup.metadata.name, recovery: true } : { backup: backup.metadata.name },
    ),
    ...(recovering ? { recovering: true } : {}),
    ...(deps.options.handshakeTimeoutMs !== undefined
      ? { handshakeTimeoutMs: deps.options.handshakeTimeoutMs }
      : {}),
  };
}
