// Collaborators shared by the controller, the backup processor and recovery (one set per agent).
import type { Logger } from "../log.js";
import type { AgentRunOptions } from "./context.js";
import type { AgentMetrics } from "./metrics.js";
import type { KeyedMutex } from "./pod-lock.js";
import type { AgentCluster, PodExecutor } from "./ports.js";

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
