// Runs one Backup through processBackup against the recording fakes and gathers what a user sees:
// the Backup's status, the backup log lines, the per-hook records and the archive.
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/log.js";
import { readArchive, archivePath } from "../../src/agent/store/archive.js";
import type { AgentDeps, AgentRunOptions } from "../../src/agent/runtime/run-context.js";
import { AgentMetrics } from "../../src/agent/runtime/metrics.js";
import { KeyedMutex } from "../../src/agent/runtime/pod-lock.js";
import type { BackupObject, BackupStatus } from "../../src/velero/types.js";
import { processBackup, type ProcessResult } from "../../src/agent/standalone/lifecycle.js";
import { backupLogPath } from "../../src/agent/store/backup-log.js";
import { FakeCluster, RecordingExecutor, backupObject } from "./fakes.js";

export interface World {
  events: string[];
  cluster: FakeCluster;
  executor: RecordingExecutor;
  deps: AgentDeps;
  metrics: AgentMetrics;
}

export function world(options: Partial<AgentRunOptions> = {}): World {
  const events: string[] = [];
  const cluster = new FakeCluster(events);
  const executor = new RecordingExecutor(events);
  const metrics = new AgentMetrics();
  const storageDir = mkdtempSync(join(tmpdir(), "hookguard-agent-"));
  const deps: AgentDeps = {
    cluster,
    executor,
    metrics,
    podLocks: new KeyedMutex(),
    logger: silentLogger(),
    identity: "agent-test",
    options: {
      workers: 4,
      parallelHooks: false,
      maxFreezeWindowMs: 600_000,
      snapshotTimeoutMs: 300_000,
      snapshotPollMs: 5,
      storageDir,
      ...options,
    },
  };
  return { events, cluster, executor, deps, metrics };
}

export interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

export interface RunView extends ProcessResult {
  status: BackupStatus;
  backup: BackupObject;
  log: LogLine[];
  archive: Map<string, Buffer> | undefined;
}

export async function run(
  w: World,
  spec: BackupObject["spec"] = {},
  name = "b1",
  signal = new AbortController().signal,
): Promise<RunView> {
  // as the controller's claim leaves it: InProgress under this agent (the final status is written only then)
  const claimed = backupObject(name, spec);
  claimed.metadata.annotations = {
    ...(claimed.metadata.annotations ?? {}),
    "hookguard.io/owner": w.deps.identity,
  };
  claimed.status = { phase: "InProgress" };
  const backup = (await w.cluster.createBackup(claimed)) as { ok: true; value: BackupObject };
  const r = await processBackup(w.deps, backup.value, signal);
  const stored = w.cluster.backups.get(`velero/${name}`)!;
  const logPath = backupLogPath(w.deps.options.storageDir, name);
  const log = existsSync(logPath)
    ? readFileSync(logPath, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as LogLine)
    : [];
  const a = await readArchive(archivePath(w.deps.options.storageDir, name));
  return { ...r, status: stored.status ?? {}, backup: stored, log, archive: a.ok ? a.value : undefined };
}

export const execs = (w: World): string[] => w.events.filter((e) => e.startsWith("exec "));
export const hookCommandLines = (log: LogLine[]): LogLine[] =>
  log.filter((l) => JSON.stringify(l).includes("hookCommand"));
export async function metricValue(
  m: AgentMetrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const values = (metric?.values ?? []) as Array<{
    value: number;
    labels: Record<string, string | number>;
    metricName?: string;
  }>;
  return values
    .filter(
      (v) =>
        (v.metricName === undefined || v.metricName === name || v.metricName === `${name}_count`) &&
        Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val),
    )
    .filter((v) => !v.metricName || !v.metricName.endsWith("_bucket"))
    .reduce((n, v) => n + v.value, 0);
}
