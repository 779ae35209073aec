// `hookguard agent`'s main: wires the cluster adapters (src/kube), the metrics endpoint, leader
// election and, by --mode, either the companion observer (Velero runs the Backups; read-only on them)
// or the standalone controllers (hookguard claims and runs them). Only src/kube talks to client-node.
import { mkdirSync, readFileSync } from "node:fs";
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
import { startFileServer } from "../agent/store/file-server.js";
import { generateBundle } from "../tls/generate.js";
import { KeyedMutex } from "../agent/runtime/pod-lock.js";
import { ScheduleController } from "../agent/standalone/schedules.js";
import { BackupCollector } from "../agent/standalone/gc.js";
import type { AgentCluster, PodExecutor } from "../agent/ports.js";
import type { BackupObject } from "../velero/types.js";
import { createCompanionCluster } from "../kube/companion-cluster.js";
import { BackupCheckpoint } from "../agent/companion/checkpoint.js";
import { companionMetrics, thawGuardMetrics } from "../agent/companion/metrics.js";
import { ThawCheckpoint } from "../agent/companion/thaw-checkpoint.js";
import { ThawGuard } from "../agent/companion/thaw-guard.js";
import { CompanionObserver } from "../agent/companion/observer.js";
import type { CompanionCluster } from "../agent/companion/ports.js";

export interface AgentOverrides {
  cluster?: AgentCluster;
  companionCluster?: CompanionCluster;
  executor?: PodExecutor;
  metrics?: AgentMetrics;
}

export interface RunningAgent {
  metricsPort: number;
  /** standalone: the port serving the stored files */
  resultsPort?: number;
  /** the standalone controller; undefined in companion mode */
  controller?: BackupController;
  /** standalone: garbage collection of expired and deletion-requested Backups */
  collector?: BackupCollector;
  /** the companion observer; undefined in standalone mode */
  observer?: CompanionObserver;
  /** the companion's thaw guard; undefined in standalone mode or with --no-thaw-guard */
  thawGuard?: ThawGuard;
  metrics: AgentMetrics;
  stop(): Promise<void>;
}

export async function startAgent(
  config: AgentConfig,
  kc: KubeConfig,
  logger: Logger,
  overrides: AgentOverrides = {},
): Promise<RunningAgent> {
  return config.mode === "companion"
    ? startCompanion(config, kc, logger, overrides)
    : startStandalone(config, kc, logger, overrides);
}

/** The checkpoint ConfigMap's name: one per Lease, so two companion installs never share one. */
export const checkpointName = (config: AgentConfig): string => `${config.leaseName}-checkpoint`;
/** The thaw guard's own checkpoint, beside the report checkpoint. */
export const thawCheckpointName = (config: AgentConfig): string => `${config.leaseName}-thaw-guard`;

/**
 * Companion: Velero claims and runs the Backups; only the leader observes them, and writes nothing
 * but DownloadRequests, Events and its own checkpoint ConfigMap (kept next to its Lease).
 */
async function startCompanion(
  config: AgentConfig,
  kc: KubeConfig,
  logger: Logger,
  overrides: AgentOverrides,
): Promise<RunningAgent> {
  const agentMetrics = overrides.metrics ?? new AgentMetrics();
  // read at start: a missing or unreadable CA file is a startup error, not a failure per Backup
  const downloadCaPem = config.downloadCaFile ? readFileSync(config.downloadCaFile, "utf8") : undefined;
  const cluster =
    overrides.companionCluster ??
    createCompanionCluster(
      kc,
      logger.child({ component: "cluster" }),
      downloadCaPem ? { downloadCaPem } : {},
    );
  const observer = new CompanionObserver({
    cluster,
    checkpoint: new BackupCheckpoint(cluster, { namespace: config.namespace, name: checkpointName(config) }),
    metrics: companionMetrics(agentMetrics),
    logger: logger.child({ component: "companion" }),
    options: { veleroNamespace: config.namespace },
  });
  const thawGuard = config.thawGuard
    ? new ThawGuard({
        cluster,
        executor: overrides.executor ?? createPodExecutor(kc),
        checkpoint: new ThawCheckpoint(cluster, {
          namespace: config.namespace,
          name: thawCheckpointName(config),
        }),
        metrics: thawGuardMetrics(agentMetrics),
        logger: logger.child({ component: "thaw-guard" }),
        options: { veleroNamespace: config.namespace, maxFreezeWindowMs: config.maxFreezeWindowMs },
      })
    : undefined;
  const server = await startMetricsServer(agentMetrics.registry, config.metricsHost, config.metricsPort);
  logger.info({ port: server.port, path: "/metrics" }, "metrics listening");

  // start/stop are serialised: a lease lost while starting must not leave a running observer behind
  let transition: Promise<unknown> = Promise.resolve();
  let leading = false;
  const startWithRetry = async (what: string, start: () => Promise<{ ok: boolean; error?: string }>) => {
    for (let attempt = 1; leading; attempt++) {
      const r = await start();
      if (r.ok) return;
      logger.error({ err: r.error, attempt }, `companion: cannot start ${what}; retrying`);
      await new Promise((res) => setTimeout(res, Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5))));
    }
  };
  const startObserving = async (): Promise<void> => {
    // the thaw guard first: an interruption must not wait for a slow log download
    if (thawGuard) await startWithRetry("the thaw guard", () => thawGuard.start());
    await startWithRetry("observing", () => observer.start());
  };
  const leadership = await startLeadership(config, kc, logger, {
    onStartedLeading: () => {
      leading = true;
      agentMetrics.leader.set(1);
      logger.info({ identity: config.identity }, "leading: observing Velero's backups");
      transition = transition
        .then(startObserving)
        .catch((err: unknown) => logger.error({ err }, "starting to observe failed"));
    },
    onStoppedLeading: () => {
      leading = false;
      agentMetrics.leader.set(0);
      logger.warn({ identity: config.identity }, "lost leadership: stopped observing");
      transition = transition
        .then(() => Promise.all([observer.stop(), thawGuard?.stop()]))
        .catch((err: unknown) => logger.error({ err }, "stopping the observer failed"));
    },
  });
  logger.info(
    {
      identity: config.identity,
      namespace: config.namespace,
      mode: "companion",
      leaderElect: config.leaderElect,
      thawGuard: config.thawGuard,
      maxFreezeWindowSeconds: config.maxFreezeWindowMs / 1000,
    },
    "hookguard agent started",
  );

  let stopping: Promise<void> | undefined;
  return {
    metricsPort: server.port,
    observer,
    ...(thawGuard ? { thawGuard } : {}),
    metrics: agentMetrics,
    stop: () =>
      (stopping ??= (async () => {
        await leadership.stop();
        await transition;
        await observer.stop();
        await thawGuard?.stop();
        await server.close();
      })()),
  };
}

/** Standalone: hookguard claims the Backups of --namespace and runs them (no Velero server there). */
async function startStandalone(
  config: AgentConfig,
  kc: KubeConfig,
  logger: Logger,
  overrides: AgentOverrides,
): Promise<RunningAgent> {
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
  const controller = new BackupController(deps, {
    namespace: config.namespace,
    ...(config.backupSelector ? { backupSelector: config.backupSelector } : {}),
  });
  // deleting expired and requested Backups is the leader's too, like claiming them
  const collector = new BackupCollector(deps, {
    namespace: config.namespace,
    intervalMs: config.gcIntervalMs,
  });
  // Schedules create Backups only while this agent leads (one catch-up Backup, never two agents' worth)
  const schedules = new ScheduleController(
    cluster,
    { namespace: config.namespace },
    logger.child({ component: "schedules" }),
  );
  const server = await startMetricsServer(metrics.registry, config.metricsHost, config.metricsPort);
  logger.info({ port: server.port, path: "/metrics" }, "metrics listening");
  // every replica serves the shared storage dir read-only, for the CLI through the service proxy;
  // the API server's proxy does not verify the certificate, so a fresh self-signed one will do
  const tls = generateBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], validDays: 3650 });
  const files = await startFileServer(
    config.storageDir,
    config.metricsHost,
    config.resultsPort,
    tls.serving,
    (err) => logger.error({ err }, "serving a stored file failed"),
  );
  logger.info({ port: files.port, path: "/backups" }, "stored files listening");

  const backups: ObjectWatcher = watchObjects<BackupObject>(
    kc,
    { path: backupsPath(config.namespace), list: listBackupsFn(kc, config.namespace) },
    (type, obj) => {
      controller.onBackup(obj, type);
      collector.onBackup(obj, type);
    },
    logger.child({ component: "backup-informer" }),
  );
  await backups.start();

  const leadership = await startLeadership(config, kc, logger, {
    onStartedLeading: (term) => {
      logger.info({ identity: config.identity }, "leading: processing backups");
      void controller
        .startLeading(term)
        .catch((err: unknown) => logger.error({ err }, "starting to lead failed"));
      schedules.start();
      collector.start();
      term?.addEventListener("abort", () => collector.stop(), { once: true });
    },
    onStoppedLeading: () => {
      logger.warn({ identity: config.identity }, "lost leadership: no new hooks start");
      controller.stopLeading();
      collector.stop();
      void schedules.stop();
    },
  });
  logger.info(
    {
      identity: config.identity,
      namespace: config.namespace,
      mode: "standalone",
      leaderElect: config.leaderElect,
    },
    "hookguard agent started",
  );

  let stopping: Promise<void> | undefined;
  return {
    metricsPort: server.port,
    resultsPort: files.port,
    controller,
    collector,
    metrics,
    stop: () =>
      (stopping ??= (async () => {
        // no new hooks; let in-flight ones end; thaw what this agent froze; then give up the lease
        await schedules.stop();
        collector.stop();
        await collector.idle();
        await controller.stop();
        await controller.finishOwn(config.shutdownPostHookTimeoutMs);
        await leadership.stop();
        await backups.stop();
        await files.close();
        await server.close();
      })()),
  };
}

interface LeadershipCallbacks {
  onStartedLeading(term?: AbortSignal): void;
  onStoppedLeading(): void;
}

/** A Lease in --namespace named --lease-name; with --no-leader-elect the agent leads at once. */
async function startLeadership(
  config: AgentConfig,
  kc: KubeConfig,
  logger: Logger,
  cb: LeadershipCallbacks,
): Promise<{ stop(): Promise<void> }> {
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
    {
      onStartedLeading: (signal) => cb.onStartedLeading(signal),
      onStoppedLeading: () => cb.onStoppedLeading(),
    },
    logger.child({ component: "leader" }),
  );
  elector.start();
  return { stop: () => elector.stop() };
}
