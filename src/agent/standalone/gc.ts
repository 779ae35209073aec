// Garbage collection of the Backups hookguard ran, by the leader in standalone mode only: a finished
// Backup past its expiration (expiry.ts), or one `hookguard backup delete` marked, is deleted with
// deletion.ts (snapshots, files, then the Backup). A pass runs when leadership starts and every
// --gc-interval; a marked Backup is taken at once from its watch event. A failed deletion is retried
// with backoff (at most one interval apart), and the Backup stays until every step has succeeded, so
// nothing is half-forgotten. A Backup hookguard did not run is never touched: a marker on one only
// earns a Warning Event saying so.
import type { AgentDeps } from "../runtime/run-context.js";
import type { BackupObject } from "../../velero/types.js";
import { backupExpiresAt } from "./expiry.js";
import { DELETE_ANNOTATION, deleteBackupAndData, deletionRefusal, deletionRequested } from "./deletion.js";

export interface CollectorOptions {
  namespace: string;
  /** how often expired Backups are looked for (Velero's GC default: 1h) */
  intervalMs: number;
  /** first retry delay after a failed deletion; doubles up to intervalMs */
  retryBaseMs?: number;
}

export class BackupCollector {
  private leading: AbortController | undefined;
  private readonly active = new Map<string, Promise<void>>();
  private readonly failures = new Map<string, number>();
  /** uids already told (by Event) that hookguard will not delete them, so the Event is not repeated */
  private readonly refused = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly deps: AgentDeps,
    private readonly opts: CollectorOptions,
  ) {}

  /** Leadership acquired: a pass now, then every interval. */
  start(): void {
    this.stop();
    this.leading = new AbortController();
    this.schedule(0, () => this.pass());
  }

  /** Leadership lost or the agent stops: no new deletion starts; one in flight stops between steps. */
  stop(): void {
    this.leading?.abort();
    this.leading = undefined;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.all([...this.active.values()]);
  }

  /** Informer handler: a marked Backup is deleted without waiting for the next pass. Never throws. */
  onBackup(obj: BackupObject, type: "add" | "update" | "delete"): void {
    if (type === "delete" || !this.leading || obj.metadata?.namespace !== this.opts.namespace) return;
    if (deletionRequested(obj)) this.consider(obj);
  }

  /** One look at every Backup of the namespace (also what the tests call). */
  async pass(): Promise<void> {
    if (!this.leading) return;
    const listed = await this.deps.cluster.listBackups(this.opts.namespace);
    if (!listed.ok) {
      this.deps.logger.error({ err: listed.error }, "garbage collection: listing backups failed");
    } else {
      const now = Date.now();
      for (const b of listed.value) if (this.due(b, now)) this.consider(b);
    }
    this.schedule(this.opts.intervalMs, () => this.pass());
  }

  private due(b: BackupObject, now: number): boolean {
    if (deletionRequested(b)) return true;
    const at = backupExpiresAt(b);
    return at !== undefined && at <= now && deletionRefusal(b) === undefined;
  }

  private schedule(ms: number, fn: () => Promise<void> | void): void {
    if (!this.leading) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      void Promise.resolve(fn()).catch((err: unknown) =>
        this.deps.logger.error({ err }, "garbage collection failed"),
      );
    }, ms);
    this.timers.add(t);
  }

  private consider(b: BackupObject): void {
    const name = b.metadata.name;
    if (this.active.has(name) || !this.leading) return;
    const signal = this.leading.signal;
    const p = this.collect(b, signal)
      .catch((err: unknown) => this.deps.logger.error({ err, backup: name }, "deleting backup failed"))
      .finally(() => this.active.delete(name));
    this.active.set(name, p);
  }

  private involved(b: BackupObject) {
    const { namespace, name, uid } = b.metadata;
    return { apiVersion: "velero.io/v1", kind: "Backup", namespace, name, ...(uid ? { uid } : {}) };
  }

  private async collect(seen: BackupObject, signal: AbortSignal): Promise<void> {
    const { namespace, name } = seen.metadata;
    // act on the Backup as it is now, not as an event or a list saw it
    const got = await this.deps.cluster.getBackup(namespace, name);
    if (!got.ok) return this.failed(seen, `reading the Backup: ${got.error.message}`);
    const b = got.value;
    if (!b || signal.aborted) return;
    const requested = deletionRequested(b);
    const refusal = deletionRefusal(b);
    if (refusal) {
      // not finished yet: the marker stays and the update that finishes the Backup brings it back
      if (
        refusal.kind === "not-hookguard" &&
        requested &&
        b.metadata.uid &&
        !this.refused.has(b.metadata.uid)
      ) {
        this.refused.add(b.metadata.uid);
        this.deps.metrics.backupDeletions.inc({ result: "refused" });
        this.deps.logger.warn({ backup: name }, refusal.message);
        await this.deps.cluster.createEvent(
          this.involved(b),
          "Warning",
          "BackupDeletionRefused",
          refusal.message,
        );
      }
      return;
    }
    const expiresAt = backupExpiresAt(b);
    const why = requested
      ? `deletion requested at ${b.metadata.annotations?.[DELETE_ANNOTATION]}`
      : `expired at ${expiresAt !== undefined ? new Date(expiresAt).toISOString() : "?"}`;
    if (!requested && (expiresAt === undefined || expiresAt > Date.now())) return;
    const attempt = (this.failures.get(b.metadata.uid ?? name) ?? 0) + 1;
    if (attempt === 1) {
      this.deps.logger.info({ backup: name, why }, "deleting backup, its snapshots and files");
      await this.deps.cluster.createEvent(
        this.involved(b),
        "Normal",
        "BackupDeleting",
        `${why}: deleting its VolumeSnapshots, archive, log and results, then the Backup`,
      );
    }
    const r = await deleteBackupAndData(this.deps, b, signal);
    if (r.ok) {
      this.failures.delete(b.metadata.uid ?? name);
      this.deps.metrics.backupDeletions.inc({ result: "succeeded" });
      this.deps.logger.info({ backup: name, snapshots: r.value.snapshots, why }, "backup deleted");
      await this.deps.cluster.createEvent(
        this.involved(b),
        "Normal",
        "BackupDeleted",
        `${why}: deleted ${r.value.snapshots} VolumeSnapshot(s), the archive, log and results, and the Backup`,
      );
      return;
    }
    if (r.error === "aborted") return;
    return this.failed(b, `${r.error.step}: ${r.error.message}`);
  }

  /** Counted, told (Event), and tried again later: the Backup stays until its deletion succeeds. */
  private async failed(b: BackupObject, message: string): Promise<void> {
    const key = b.metadata.uid ?? b.metadata.name;
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const delay = Math.min(this.opts.intervalMs, (this.opts.retryBaseMs ?? 5_000) * 2 ** (n - 1));
    this.deps.metrics.backupDeletions.inc({ result: "failed" });
    this.deps.logger.warn(
      { backup: b.metadata.name, err: message, attempt: n, retryInMs: delay },
      "deleting backup failed; will retry",
    );
    await this.deps.cluster.createEvent(
      this.involved(b),
      "Warning",
      "BackupDeletionFailed",
      `deleting the backup failed (attempt ${n}, retrying in ${Math.round(delay / 1000)}s); the Backup stays until everything it left is deleted: ${message}`,
    );
    this.schedule(delay, () => this.consider(b));
  }
}
