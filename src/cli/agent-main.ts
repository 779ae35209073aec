// `hookguard agent`'s main: wires the cluster adapters (src/kube), the metrics endpoint, the Backup
// informer, leader election and the controllers. Only src/kube talks to client-node.
import { mkdirSync } from "node:fs";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "../log.js";
import { createAgentCluster } from "../kube/agent-cluster.js";
import { createPodExecutor } from "../kube/exec.js";
import { LeaderElector } from "../kube/leader.js";
import { backupsPath, listBackupsFn, watchObjects, type ObjectWatcher } from "../kube/informer.js";
import type { AgentConfig } from "../agent/runtime/config.js";
import { BackupController } from "../agent/standalone/controller.js";
import type { AgentDeps } from "../agent/runtime/run-context.js";
import { AgentMetrics } from "../agent/runtime/metrics.js";
import { startMetricsServer } from "../agent/runtime/metrics-server.js";
import { KeyedMutex } from "../agent/runtime/pod-lock.js";
import { ScheduleController } from "../agent/standalone/schedules.js";
import type { AgentCluster, PodExecutor } from "../agent/ports.js";
import type { BackupObject } from "../velero/types.js";

export interface AgentOverrides {
  cluster?: AgentCluster;
  executor?: PodExecutor;
  metrics?: AgentMetrics;
}

export interface RunningAgent {
  metricsPort: number;
  controller: BackupController;
  metrics: AgentMetrics;
  stop(): Promise<void>;
}

export async function startAgent(config: AgentConfig, kc: KubeConfig, logger: Logger, overrides: AgentOverrides = {}): Promise<RunningAgent> {
  mkdirSync(config.storageDir, { recursive: true });
  const metrics = overrides.metrics ?? new AgentMetrics();
  const cluster = overrides.cluster ?? createAgentCluster(kc, logger.child({ component: "cluster" }));
  const executor = overrides.executor ?? createPodExecutor(kc);
  const deps: AgentDeps = {
    cluster,
    executor,
    metrics,
    podLocks: new KeyedMutex(),
    logger,
    identity: config.identity,
    options: {
      workers: config.workers,
      parallelHooks: config.parallelHooks,
      maxFreezeWindowMs: config.maxFreezeWindowMs,
      snapshotTimeoutMs: config.snapshotTimeoutMs,
      storageDir: config.storageDir,
      ...(config.volumeSnapshotClass ? { volumeSnapshotClass: config.volumeSnapshotClass } : {}),
    },
  };
  const controller = new BackupController(deps, { namespace: config.namespace, ...(config.backupSelector ? { backupSelector: config.backupSelector } : {}) });
  // Schedules create Backups only while this agent leads (one catch-up Backup, never two agents' worth)
  const schedules = new ScheduleController(cluster, { namespace: config.namespace }, logger.child({ component: "schedules" }));
  const server = await startMetricsServer(metrics.registry, config.metricsHost, config.metricsPort);
  logger.info({ port: server.port, path: "/metrics" }, "metrics listening");

  const backups: ObjectWatcher = watchObjects<BackupObject>(
    kc,
    { path: backupsPath(config.namespace), list: listBackupsFn(kc, config.namespace) },
    (type, obj) => controller.onBackup(obj, type),
    logger.child({ component: "backup-informer" }),
  );
  await backups.start();

  const leadership = await startLeadership(config, kc, logger, {
    onStartedLeading: (term) => {
      logger.info({ identity: config.identity }, "leading: processing backups");
      void controller.startLeading(term).catch((err: unknown) => logger.error({ err }, "starting to lead failed"));
      schedules.start();
    },
    onStoppedLeading: () => {
      logger.warn({ identity: config.identity }, "lost leadership: no new hooks start");
      controller.stopLeading();
      void schedules.stop();
    },
  });
  logger.info({ identity: config.identity, namespace: config.namespace, leaderElect: config.leaderElect }, "hookguard agent started");

  let stopping: Promise<void> | undefined;
  return {
    metricsPort: server.port,
    controller,
    metrics,
    stop: () =>
      (stopping ??= (async () => {
        // no new hooks; let in-flight ones end; thaw what this agent froze; then give up the lease
        await schedules.stop();
        await controller.stop();
        await controller.finishOwn(config.shutdownPostHookTimeoutMs);
        await leadership.stop();
        await backups.stop();
        await server.close();
      })()),
  };
}

interface LeadershipCallbacks {
  onStartedLeading(term?: AbortSignal): void;
  onStoppedLeading(): void;
}

/** A Lease in --namespace named --lease-name; with --no-leader-elect the agent leads at once. */
async function startLeadership(config: AgentConfig, kc: KubeConfig, logger: Logger, cb: LeadershipCallbacks): Promise<{ stop(): Promise<void> }> {
  if (!config.leaderElect) {
    cb.onStartedLeading();
    return { stop: async () => cb.onStoppedLeading() };
  }
  const elector = new LeaderElector(
    kc,
    {
      namespace: config.namespace,
      name: config.leaseName,
      identity: config.identity,
      leaseDurationMs: config.leaseDurationMs,
      renewDeadlineMs: config.renewDeadlineMs,
      retryPeriodMs: config.retryPeriodMs,
    },
    { onStartedLeading: (signal) => cb.onStartedLeading(signal), onStoppedLeading: () => cb.onStoppedLeading() },
    logger.child({ component: "leader" }),
  );
  elector.start();
  return { stop: () => elector.stop() };
}
