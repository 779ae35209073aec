// Companion mode's core: watch Velero's Backups, and once for each Backup that reaches a terminal
// phase read its results (status.hookStatus, the backup log through a DownloadRequest), turn its
// hook lines into records, and report them: Events, then the checkpoint, then metrics.
//
// Never writes a Backup. Only the leader should run it (start on gaining, stop on losing the lease).
//
// Order per Backup, and what a crash in between does:
//   read log -> Events for failed hooks -> checkpoint commit -> metrics (synchronous)
// - The checkpoint commit is the commit point: only the process whose guarded write records the
//   Backup's UID counts it, so two agents (restart, leader change, two leaders for a moment) never
//   both count one Backup.
// - Metrics come after the commit: at most once. A crash between the commit and the increments
//   (nothing awaits in between) loses them, exactly as a crash loses every increment not yet
//   scraped: a Prometheus counter lives in its process and restarts at 0; `increase()` handles the
//   reset. Counting before the commit would instead count a Backup twice whenever the process died
//   after a scrape and before the commit.
// - Events come before the commit: at least once. A crash there repeats them for that Backup; a lost
//   "this hook failed" Event would be worse than a duplicate.
import type { Logger } from "../../log.js";
import type { Result } from "../../domain/index.js";
import type { BackupObject } from "../../velero/types.js";
import { BackupCheckpoint, backupTime } from "./checkpoint.js";
import { readHookReport } from "../scope/velero-hooks.js";
import type { CompanionMetricsSink } from "./metrics.js";
import type { BackupWatch, CompanionCluster } from "./ports.js";
import type { CompanionHookRecord } from "../../velero/hook-records.js";

/** Velero's own terminal phases (its backup tracker and `backup create --wait` use exactly these). */
export const TERMINAL_PHASES: ReadonlySet<string> = new Set([
  "Completed",
  "PartiallyFailed",
  "Failed",
  "FailedValidation",
]);

export interface ObserverOptions {
  /** the Velero server's namespace: where its Backups and DownloadRequests live */
  veleroNamespace: string;
  /** how long Velero gets to answer a DownloadRequest (default 60 s) */
  downloadTimeoutMs?: number;
  downloadPollMs?: number;
  /** attempts at reading a log Velero does not serve (down, storage unavailable) before reporting without it (default 4) */
  logAttempts?: number;
  /** first delay before such a retry, doubled each time (default 30 s) */
  retryDelayMs?: number;
  maxLogBytes?: number;
}

export interface ObserverDeps {
  cluster: CompanionCluster;
  checkpoint: BackupCheckpoint;
  metrics: CompanionMetricsSink;
  logger: Logger;
  options: ObserverOptions;
}

/** What happened to one Backup, for logs and tests. */
export interface BackupReport {
  backup: string;
  phase: string;
  records: CompanionHookRecord[];
  /** why the log gave no records, if it did not */
  logProblem?: string;
  /** false when another agent had already reported it */
  counted: boolean;
}

type Outcome = { kind: "done"; report: BackupReport } | { kind: "retry"; reason: string } | { kind: "skip" };

/**
 * Velero's backup-sync re-creates, from object storage, Backups this cluster never ran (another
 * cluster's, or ones whose object was deleted). The API server stamps such an object's creation at
 * sync time, after the completion it carries; a Backup run here is created before it completes.
 * Their hooks ran elsewhere (or were reported already): not this cluster's to report. The minute of
 * slack absorbs clock skew between the API server and Velero's node.
 */
export function isSyncedFromStorage(b: BackupObject): boolean {
  const created = Date.parse(b.metadata.creationTimestamp ?? "");
  const completed = Date.parse(b.status?.completionTimestamp ?? "");
  return !Number.isNaN(created) && !Number.isNaN(completed) && created > completed + 60_000;
}

const hookLabel = (r: CompanionHookRecord): string =>
  r.name === undefined ? "(unknown hook)" : r.name === "" ? "<from-annotation>" : r.name;

export class CompanionObserver {
  private watch: BackupWatch | undefined;
  /** latest copy of each Backup by UID, from the watch */
  private readonly known = new Map<string, BackupObject>();
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private readonly logAttempts = new Map<string, number>();
  /** Backups whose Events were sent by this process: a checkpoint retry must not send them again */
  private readonly eventsSent = new Set<string>();
  private worker: Promise<void> | undefined;
  /** the Backup being reported now: an update meanwhile must not queue it a second time */
  private current: string | undefined;
  private running = false;
  private abort = new AbortController();
  private idleWaiters: Array<() => void> = [];
  /** reports of this process, newest last (bounded), for `describe`-style callers and tests */
  readonly reports: BackupReport[] = [];

  constructor(private readonly deps: ObserverDeps) {}

  async start(): Promise<Result<void, string>> {
    if (this.running) return { ok: true, value: undefined };
    // a new leader must see what the previous one committed
    const loaded = await this.deps.checkpoint.load();
    if (!loaded.ok) return loaded;
    if (loaded.value.notice)
      this.deps.logger.warn({ notice: loaded.value.notice }, "companion checkpoint replaced");
    this.running = true;
    this.abort = new AbortController();
    this.deps.logger.info(
      {
        namespace: this.deps.options.veleroNamespace,
        reportedSince: this.deps.checkpoint.horizonIso,
        created: loaded.value.created,
      },
      "companion: observing Velero's Backups (read-only)",
    );
    this.watch = this.deps.cluster.watchBackups(this.deps.options.veleroNamespace, (type, b) =>
      this.onEvent(type, b),
    );
    await this.watch.start();
    return { ok: true, value: undefined };
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
    await this.watch?.stop();
    await this.worker;
    this.queue.length = 0;
    this.queued.clear();
    this.known.clear();
    this.notifyIdle();
  }

  /** Resolves when nothing is queued or being reported (retries waiting on a timer do not count). */
  idle(): Promise<void> {
    if (!this.worker && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private onEvent(type: "add" | "update" | "delete", b: BackupObject): void {
    const uid = b.metadata.uid;
    if (!uid) return;
    if (type === "delete") {
      this.known.delete(uid);
      return;
    }
    this.known.set(uid, b);
    if (this.isDue(b)) this.enqueue(uid);
  }

  private isDue(b: BackupObject): boolean {
    return (
      TERMINAL_PHASES.has(b.status?.phase ?? "") &&
      !isSyncedFromStorage(b) &&
      this.deps.checkpoint.isPending(b.metadata.uid ?? "", backupTime(b))
    );
  }

  private enqueue(uid: string): void {
    if (!this.running || this.queued.has(uid) || this.retryTimers.has(uid) || this.current === uid) return;
    this.queued.add(uid);
    this.queue.push(uid);
    this.kick();
  }

  /** One worker: Backups are reported one at a time, in the order they became due. */
  private kick(): void {
    if (this.worker) return;
    this.worker = this.drain().finally(() => {
      this.worker = undefined;
      if (this.running && this.queue.length > 0) this.kick();
      else this.notifyIdle();
    });
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async drain(): Promise<void> {
    while (this.running && this.queue.length > 0) {
      const uid = this.queue.shift()!;
      this.queued.delete(uid);
      const backup = this.known.get(uid);
      if (!backup || !this.isDue(backup)) continue;
      let outcome: Outcome;
      this.current = uid;
      try {
        outcome = await this.report(backup);
      } catch (err) {
        // a bug must not stop the observer: log it and try this Backup again later
        this.deps.logger.error(
          { err, backup: backup.metadata.name },
          "companion: reporting a Backup failed unexpectedly",
        );
        outcome = { kind: "retry", reason: String(err) };
      } finally {
        this.current = undefined;
      }
      if (outcome.kind === "retry") this.scheduleRetry(uid, outcome.reason);
      else if (outcome.kind === "done") {
        this.reports.push(outcome.report);
        if (this.reports.length > 100) this.reports.shift();
      }
    }
  }

  private scheduleRetry(uid: string, reason: string): void {
    if (!this.running) return;
    const n = this.logAttempts.get(uid) ?? 1;
    const delay = Math.min(30 * 60_000, (this.deps.options.retryDelayMs ?? 30_000) * 2 ** (n - 1));
    const name = this.known.get(uid)?.metadata.name;
    this.deps.logger.warn(
      { backup: name, retryInMs: delay, reason },
      "companion: will try this Backup again",
    );
    this.retryTimers.set(
      uid,
      setTimeout(() => {
        this.retryTimers.delete(uid);
        this.enqueue(uid);
      }, delay),
    );
  }

  /** Reads, records and reports one terminal Backup. */
  private async report(backup: BackupObject): Promise<Outcome> {
    const { cluster, checkpoint, logger, options } = this.deps;
    const uid = backup.metadata.uid!;
    const name = backup.metadata.name;
    const phase = backup.status?.phase ?? "";
    const log = logger.child({ backup: name, phase });

    // 1. the log, unless Velero never wrote one
    let records: CompanionHookRecord[] = [];
    let logProblem: string | undefined;
    const report = await readHookReport(cluster, backup, {
      ...(options.downloadTimeoutMs !== undefined ? { timeoutMs: options.downloadTimeoutMs } : {}),
      ...(options.downloadPollMs !== undefined ? { pollMs: options.downloadPollMs } : {}),
      ...(options.maxLogBytes !== undefined ? { maxBytes: options.maxLogBytes } : {}),
      signal: this.abort.signal,
    });
    if (!report.ok) {
      if (report.error.kind === "aborted") return { kind: "skip" };
      if (this.shouldRetry(uid)) return { kind: "retry", reason: report.error.message };
      logProblem = report.error.message;
    } else if (report.value.kind === "no-log") {
      logProblem = report.value.reason;
    } else {
      const r = report.value;
      records = r.records;
      if (r.skippedLines > 0 || r.unreadableHookLines > 0)
        log.warn(
          { skippedLines: r.skippedLines, unreadableHookLines: r.unreadableHookLines },
          "companion: backup log lines skipped",
        );
      if (r.scopeProblem)
        log.warn(
          { err: r.scopeProblem },
          "companion: cannot list the Backup's pods; 1.15+ hook records stay unattributed",
        );
    }
    if (logProblem) log.warn({ reason: logProblem }, "companion: no hook records for this Backup");

    // 2. Events (at least once), never twice from this process
    if (!this.eventsSent.has(uid)) {
      await this.sendEvents(backup, records, logProblem);
      this.eventsSent.add(uid);
    }

    // 3. the commit point
    const live = this.watch?.synced() ? new Set(this.known.keys()) : undefined;
    const committed = await checkpoint.commit([{ uid, name, at: backupTime(backup) }], live);
    if (!committed.ok) return { kind: "retry", reason: committed.error };
    this.logAttempts.delete(uid);
    this.eventsSent.delete(uid);
    const counted = committed.value.added.includes(uid);

    // 4. metrics, only by the process that committed
    if (counted) this.count(backup, records);
    const failed = records.filter((r) => r.result === "failed").length;
    log.info(
      {
        counted,
        hooks: records.length,
        failed,
        unattributed: records.filter((r) => r.attribution === "unattributed").length,
        hooksAttempted: backup.status?.hookStatus?.hooksAttempted ?? 0,
        hooksFailed: backup.status?.hookStatus?.hooksFailed ?? 0,
      },
      counted
        ? "companion: Velero Backup reported"
        : "companion: Velero Backup already reported by another agent",
    );
    return {
      kind: "done",
      report: { backup: name, phase, records, counted, ...(logProblem ? { logProblem } : {}) },
    };
  }

  /** A log Velero does not serve now may be served later (a missing file is not a failure here). */
  private shouldRetry(uid: string): boolean {
    const n = (this.logAttempts.get(uid) ?? 0) + 1;
    this.logAttempts.set(uid, n);
    return n < (this.deps.options.logAttempts ?? 4);
  }

  private async sendEvents(
    backup: BackupObject,
    records: CompanionHookRecord[],
    logProblem: string | undefined,
  ): Promise<void> {
    const { cluster } = this.deps;
    const b = {
      apiVersion: "velero.io/v1",
      kind: "Backup",
      namespace: backup.metadata.namespace,
      name: backup.metadata.name,
      ...(backup.metadata.uid ? { uid: backup.metadata.uid } : {}),
    };
    for (const r of records.filter((x) => x.result === "failed")) {
      const where =
        r.attribution === "unattributed"
          ? `an unattributed pod (${r.candidates} pods in scope hold this hook)`
          : `pod ${r.namespace}/${r.pod}`;
      const container = r.container ? ` in container ${r.container}` : "";
      const message = `${r.phase} hook ${hookLabel(r)} (${r.source})${container} on ${where} failed: ${r.error ?? "unknown error"}`;
      await cluster.createEvent(b, "Warning", "HookFailed", message);
      if (r.attribution !== "unattributed") {
        await cluster.createEvent(
          { apiVersion: "v1", kind: "Pod", namespace: r.namespace, name: r.pod },
          "Warning",
          "HookFailed",
          `${r.phase} hook ${hookLabel(r)} (${r.source})${container} of Velero backup ${backup.metadata.namespace}/${backup.metadata.name} failed: ${r.error ?? "unknown error"}`,
        );
      }
    }
    const failedByVelero = backup.status?.hookStatus?.hooksFailed ?? 0;
    if (logProblem && failedByVelero > 0) {
      await cluster.createEvent(
        b,
        "Warning",
        "HookResultsUnavailable",
        `Velero counts ${failedByVelero} failed hook(s), but hookguard cannot say which: ${logProblem}`,
      );
    }
  }

  private count(backup: BackupObject, records: CompanionHookRecord[]): void {
    const { metrics } = this.deps;
    for (const r of records) metrics.hookExecution(r.namespace, r.phase, r.source, r.result);
    const start = Date.parse(backup.status?.startTimestamp ?? "");
    const end = Date.parse(backup.status?.completionTimestamp ?? "");
    const duration =
      Number.isNaN(start) || Number.isNaN(end) || end < start ? undefined : (end - start) / 1000;
    metrics.backupFinished(backup.status?.phase ?? "", duration);
    const hs = backup.status?.hookStatus;
    metrics.veleroHookStatus(hs?.hooksAttempted ?? 0, hs?.hooksFailed ?? 0);
  }
}
