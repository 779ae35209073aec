// Collaborators shared by the controller, the backup processor and recovery (one set per agent).
import type { Logger } from "../../log.js";
import type { BackupLog } from "../store/backup-log.js";
import type { AgentRunOptions, RunContext } from "./context.js";
import type { AgentMetrics } from "./metrics.js";
import type { KeyedMutex } from "./pod-lock.js";
import type { AgentCluster, PodExecutor } from "../ports.js";
import type { BackupObject } from "../../velero/types.js";
import { HookTracker } from "../hooks/tracker.js";

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

/** A fresh run of one Backup (a new tracker and record list), for processing it or recovering it. */
export function newRunContext(deps: AgentDeps, backup: BackupObject, log: BackupLog, signal: AbortSignal, recovering = false): RunContext {
  return {
    backup,
    cluster: deps.cluster,
    executor: deps.executor,
    podLocks: deps.podLocks,
    tracker: new HookTracker(),
    log,
    metrics: deps.metrics,
    records: [],
    signal,
    logger: deps.logger.child(recovering ? { backup: backup.metadata.name, recovery: true } : { backup: backup.metadata.name }),
    ...(recovering ? { recovering: true } : {}),
    ...(deps.options.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: deps.options.handshakeTimeoutMs } : {}),
  };
}
