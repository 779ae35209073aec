// The agent's one typed configuration, built from flags (and the environment for the storage-dir
// default), validated up front: every problem is reported at startup, before anything runs.
import { hostname } from "node:os";
import { LOG_LEVELS } from "../../log.js";
import {
  nanosToMillis,
  parseGoDuration,
  parseLabelSelector,
  type LabelSelector,
  type Result,
} from "../../domain/index.js";

/** companion: observe the Backups a Velero server runs (read-only); standalone: run Backups itself. */
export type AgentMode = "companion" | "standalone";
export const AGENT_MODES: readonly AgentMode[] = ["companion", "standalone"];

export interface AgentConfig {
  mode: AgentMode;
  namespace: string;
  /** companion: PEM file of the CA that signs the object store's certificate (Velero's download URLs) */
  downloadCaFile?: string;
  kubeconfig?: string;
  metricsPort: number;
  metricsHost: string;
  /** standalone: HTTPS port serving the stored files read-only (0 = any free port) */
  resultsPort: number;
  storageDir: string;
  workers: number;
  parallelHooks: boolean;
  /** standalone: a block's freeze bound; companion: the thaw guard's trigger 3 (0 = off) */
  maxFreezeWindowMs: number;
  /** companion: run eligible post hooks when Velero is interrupted mid-backup (docs/thaw-guard.md) */
  thawGuard: boolean;
  volumeSnapshotClass?: string;
  snapshotTimeoutMs: number;
  /** standalone: how often the leader looks for expired Backups to delete */
  gcIntervalMs: number;
  leaderElect: boolean;
  leaseName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  backupSelector?: LabelSelector;
  identity: string;
  logLevel: string;
  /** on SIGTERM, how long pending post hooks of this agent's own Backups may take */
  shutdownPostHookTimeoutMs: number;
}

/** Raw flag values as commander hands them over. */
export interface AgentFlags {
  mode?: string;
  namespace: string;
  downloadCaFile?: string;
  kubeconfig?: string;
  metricsPort: string;
  metricsBindAddress?: string;
  resultsPort?: string;
  storageDir?: string;
  workers: string;
  parallelHooks?: boolean;
  maxFreezeWindow: string;
  /** commander's --no-thaw-guard sets false */
  thawGuard?: boolean;
  volumeSnapshotClass?: string;
  snapshotTimeout: string;
  gcInterval?: string;
  leaderElect?: boolean;
  leaseName: string;
  leaderElectLeaseDuration?: string;
  leaderElectRenewDeadline?: string;
  leaderElectRetryPeriod?: string;
  backupSelector?: string;
  identity?: string;
  logLevel: string;
}

/** `$HOOKGUARD_STORAGE_DIR`, else `./hookguard-data`. */
export function defaultStorageDir(env: NodeJS.ProcessEnv): string {
  return env.HOOKGUARD_STORAGE_DIR || "./hookguard-data";
}

function durationMs(flag: string, value: string, problems: string[], zeroAllowed = false): number {
  const d = parseGoDuration(value);
  if (!d.ok) {
    problems.push(`--${flag}: ${d.error}`);
    return 0;
  }
  if (d.value < 0 || (d.value === 0 && !zeroAllowed))
    problems.push(`--${flag} must be ${zeroAllowed ? "0 or more" : "positive"}, got ${value}`);
  return nanosToMillis(d.value);
}

function intFlag(flag: string, value: string, min: number, max: number, problems: string[]): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    problems.push(`--${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

export function buildAgentConfig(
  flags: AgentFlags,
  env: NodeJS.ProcessEnv,
  inCluster: boolean,
): Result<AgentConfig, string[]> {
  const problems: string[] = [];
  const mode = flags.mode ?? "companion";
  if (!(AGENT_MODES as readonly string[]).includes(mode))
    problems.push(`--mode must be companion or standalone, got ${JSON.stringify(mode)}`);
  const cfg: AgentConfig = {
    mode: mode as AgentMode,
    namespace: flags.namespace,
    metricsPort: intFlag("metrics-port", flags.metricsPort, 0, 65535, problems),
    metricsHost: flags.metricsBindAddress ?? "0.0.0.0",
    resultsPort: intFlag("results-port", flags.resultsPort ?? "0", 0, 65535, problems),
    storageDir: flags.storageDir ?? defaultStorageDir(env),
    workers: intFlag("workers", flags.workers, 1, 256, problems),
    parallelHooks: flags.parallelHooks === true,
    // companion: 0 turns the thaw guard's freeze-window trigger off; standalone needs a bound
    maxFreezeWindowMs: durationMs("max-freeze-window", flags.maxFreezeWindow, problems, mode === "companion"),
    thawGuard: flags.thawGuard !== false,
    snapshotTimeoutMs: durationMs("snapshot-timeout", flags.snapshotTimeout, problems),
    gcIntervalMs: durationMs("gc-interval", flags.gcInterval ?? "1h", problems),
    leaderElect: flags.leaderElect ?? inCluster,
    leaseName: flags.leaseName,
    leaseDurationMs: durationMs(
      "leader-elect-lease-duration",
      flags.leaderElectLeaseDuration ?? "15s",
      problems,
    ),
    renewDeadlineMs: durationMs(
      "leader-elect-renew-deadline",
      flags.leaderElectRenewDeadline ?? "10s",
      problems,
    ),
    retryPeriodMs: durationMs("leader-elect-retry-period", flags.leaderElectRetryPeriod ?? "2s", problems),
    identity: flags.identity ?? `${hostname()}-${process.pid}`,
    logLevel: flags.logLevel,
    shutdownPostHookTimeoutMs: 20_000,
  };
  if (flags.kubeconfig) cfg.kubeconfig = flags.kubeconfig;
  if (flags.downloadCaFile) {
    if (cfg.mode === "standalone") problems.push("--download-ca-file only applies with --mode companion");
    cfg.downloadCaFile = flags.downloadCaFile;
  }
  if (flags.volumeSnapshotClass) cfg.volumeSnapshotClass = flags.volumeSnapshotClass;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(cfg.namespace))
    problems.push(`--namespace ${JSON.stringify(cfg.namespace)} is not a valid namespace name`);
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(cfg.leaseName))
    problems.push(`--lease-name ${JSON.stringify(cfg.leaseName)} is not a valid object name`);
  if (!(LOG_LEVELS as readonly string[]).includes(cfg.logLevel))
    problems.push(`--log-level must be one of ${LOG_LEVELS.join(", ")}`);
  if (!(cfg.leaseDurationMs > cfg.renewDeadlineMs && cfg.renewDeadlineMs > cfg.retryPeriodMs)) {
    problems.push(
      "leader election needs --leader-elect-lease-duration > --leader-elect-renew-deadline > --leader-elect-retry-period",
    );
  }
  if (cfg.mode === "companion") {
    // these steer how hookguard runs a Backup itself; beside Velero they would silently do nothing
    const standaloneOnly: Array<[string, unknown]> = [
      ["--storage-dir", flags.storageDir],
      ["--results-port", flags.resultsPort],
      ["--parallel-hooks", flags.parallelHooks],
      ["--volume-snapshot-class", flags.volumeSnapshotClass],
      ["--backup-selector", flags.backupSelector],
      ["--gc-interval", flags.gcInterval],
    ];
    const given = standaloneOnly.filter(([, v]) => v !== undefined && v !== false).map(([f]) => f);
    if (given.length > 0)
      problems.push(
        `${given.join(", ")} only apply with --mode standalone (in companion mode Velero runs the Backups)`,
      );
  }
  if (cfg.mode === "standalone" && flags.thawGuard === false)
    problems.push("--no-thaw-guard only applies with --mode companion (standalone runs its own post hooks)");
  if (flags.backupSelector !== undefined) {
    const sel = parseLabelSelector(flags.backupSelector);
    if (sel.ok) cfg.backupSelector = sel.value;
    else problems.push(`--backup-selector: ${sel.error}`);
  }
  return problems.length > 0 ? { ok: false, error: problems } : { ok: true, value: cfg };
}
