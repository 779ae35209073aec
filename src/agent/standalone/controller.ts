// Turns Backup events into work, only while leading: claim New/empty-phase Backups (a
// resourceVersion-guarded PUT, so two agents never both claim one), run each claimed Backup once
// (a per-backup queue: events for a Backup already being handled are dropped), and on becoming
// leader recover InProgress Backups whose owner is gone. Losing leadership aborts the shared
// signal: no new hook starts after that.
import { matchLabelSelector, type LabelSelector } from "../../domain/index.js";
import type { AgentDeps } from "../runtime/run-context.js";
import { OWNER_ANNOTATION } from "./pending.js";
import type { BackupObject } from "../../velero/types.js";
import { processBackup } from "./lifecycle.js";
import { isOrphanCandidate, recoverBackup } from "./recovery.js";
import { VeleroServerGuard } from "./velero-guard.js";
import { expirationFor } from "./expiry.js";

export interface ControllerOptions {
  namespace: string;
  backupSelector?: LabelSelector;
  /** delay before retrying a claim that failed with a transient error */
  claimRetryMs?: number;
}

const claimable = (b: BackupObject): boolean => !b.status?.phase || b.status.phase === "New";

export class BackupController {
  private leading: AbortController | undefined;
  private readonly active = new Map<string, Promise<void>>();
  private readonly retries = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly veleroGuard: VeleroServerGuard;

  constructor(
    private readonly deps: AgentDeps,
    private readonly opts: ControllerOptions,
  ) {
    this.veleroGuard = new VeleroServerGuard(deps, opts.namespace);
  }

  get isLeading(): boolean {
    return this.leading !== undefined && !this.leading.signal.aborted;
  }

  /** Informer handler. Never throws. */
  onBackup(obj: BackupObject, type: "add" | "update" | "delete"): void {
    if (type === "delete" || !this.isLeading) return;
    if (obj.metadata?.namespace !== this.opts.namespace || !claimable(obj) || !this.selected(obj)) return;
    this.enqueue(obj.metadata.name);
  }

  /** Leadership acquired: recover orphans, then claim whatever is waiting. */
  async startLeading(term?: AbortSignal): Promise<void> {
    this.leading?.abort();
    const ac = new AbortController();
    this.leading = ac;
    // the elector's term signal ends this leadership (lease lost or not renewed in time)
    term?.addEventListener("abort", () => this.leading === ac && this.stopLeading(), { once: true });
    if (term?.aborted) return this.stopLeading();
    this.deps.metrics.leader.set(1);
    const listed = await this.deps.cluster.listBackups(this.opts.namespace);
    if (!listed.ok) {
      this.deps.logger.error(
        { err: listed.error },
        "listing backups on becoming leader failed; relying on watch events",
      );
      return;
    }
    for (const b of listed.value) {
      if (ac.signal.aborted) return;
      if (isOrphanCandidate(b) && !this.active.has(b.metadata.name))
        this.track(b.metadata.name, () => this.recover(b, ac.signal));
    }
    for (const b of listed.value) if (claimable(b) && this.selected(b)) this.enqueue(b.metadata.name);
  }

  /** Leadership lost (or agent stopping): no new hook starts. */
  stopLeading(): void {
    this.leading?.abort();
    this.leading = undefined;
    this.deps.metrics.leader.set(0);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Waits for all in-flight work (after stopLeading it ends promptly). */
  async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.all([...this.active.values()]);
  }

  async stop(): Promise<void> {
    this.stopLeading();
    await this.idle();
  }

  /**
   * Graceful shutdown (SIGTERM), not leadership loss: nobody else may be coming, so the pods this
   * agent froze are thawed now. After stop(), Backups still InProgress under this agent's identity
   * get their pending post hooks run and are marked Failed (the recovery path), within `timeoutMs`.
   */
  async finishOwn(timeoutMs: number): Promise<number> {
    const listed = await this.deps.cluster.listBackups(this.opts.namespace);
    if (!listed.ok) {
      this.deps.logger.error(
        { err: listed.error },
        "listing backups at shutdown failed; the next agent recovers them",
      );
      return 0;
    }
    const mine = listed.value.filter(
      (b) => isOrphanCandidate(b) && b.metadata.annotations?.[OWNER_ANNOTATION] === this.deps.identity,
    );
    const signal = AbortSignal.timeout(timeoutMs);
    for (const b of mine) {
      this.deps.logger.warn(
        { backup: b.metadata.name },
        "shutting down mid-backup: running its pending post hooks now",
      );
      await recoverBackup(this.deps, b, signal);
    }
    return mine.length;
  }

  private selected(b: BackupObject): boolean {
    if (!this.opts.backupSelector) return true;
    const r = matchLabelSelector(this.opts.backupSelector, b.metadata.labels);
    return r.ok && r.value;
  }

  private enqueue(name: string): void {
    if (this.active.has(name) || !this.leading) return;
    const signal = this.leading.signal;
    this.track(name, () => this.claimAndRun(name, signal));
  }

  private track(name: string, fn: () => Promise<void>): void {
    const p = fn()
      .catch((err: unknown) => this.deps.logger.error({ err, backup: name }, "backup handling failed"))
      .finally(() => this.active.delete(name));
    this.active.set(name, p);
  }

  private async recover(b: BackupObject, signal: AbortSignal): Promise<void> {
    this.deps.logger.warn(
      { backup: b.metadata.name, owner: b.metadata.annotations?.[OWNER_ANNOTATION] },
      "recovering a backup whose owner is gone",
    );
    await recoverBackup(this.deps, b, signal);
  }

  private async claimAndRun(name: string, signal: AbortSignal): Promise<void> {
    const ns = this.opts.namespace;
    const got = await this.deps.cluster.getBackup(ns, name);
    if (!got.ok) return this.retryLater(name, got.error.message);
    const b = got.value;
    if (!b || !claimable(b) || !this.selected(b) || signal.aborted) return;
    // never beside a Velero server: it claims the same Backups. The Backup is left as it is (a later
    // event or the informer's resync asks again).
    const allowed = await this.veleroGuard.mayClaim({
      namespace: ns,
      name,
      ...(b.metadata.uid ? { uid: b.metadata.uid } : {}),
    });
    if (!allowed.ok || signal.aborted) return;
    const started = new Date();
    const startTimestamp = started.toISOString();
    const claim: BackupObject = structuredClone(b);
    claim.metadata.annotations = {
      ...(claim.metadata.annotations ?? {}),
      [OWNER_ANNOTATION]: this.deps.identity,
    };
    // as Velero: the expiration is fixed when the Backup starts (spec.ttl, default 720h)
    claim.status = {
      ...(claim.status ?? {}),
      phase: "InProgress",
      startTimestamp,
      expiration: expirationFor(b, started),
    };
    const put = await this.deps.cluster.replaceBackup(claim);
    if (!put.ok) {
      if (put.error.code === 409) {
        this.deps.logger.info(
          { backup: name },
          "backup changed or was claimed by another agent; not claiming",
        );
        return;
      }
      return this.retryLater(name, put.error.message);
    }
    this.retries.delete(name);
    // Velero's Backup has no status subresource: the guarded PUT above wrote InProgress with the claim.
    const claimed = put.value;
    const uid = claimed.metadata.uid;
    await this.deps.cluster
      .createEvent(
        { apiVersion: "velero.io/v1", kind: "Backup", namespace: ns, name, ...(uid ? { uid } : {}) },
        "Normal",
        "BackupStarted",
        `backup started by hookguard agent ${this.deps.identity}`,
      )
      .catch(() => undefined);
    this.deps.logger.info({ backup: name }, "backup claimed");
    await processBackup(this.deps, claimed, signal);
  }

  private retryLater(name: string, message: string): void {
    const n = (this.retries.get(name) ?? 0) + 1;
    this.retries.set(name, n);
    if (n > 8) {
      // a later event (or the informer's periodic resync) starts a fresh round of attempts
      this.retries.delete(name);
      this.deps.logger.error(
        { backup: name, err: message },
        "giving up on claiming backup after repeated errors",
      );
      return;
    }
    const delay = Math.min(30_000, (this.opts.claimRetryMs ?? 500) * 2 ** (n - 1));
    this.deps.logger.warn(
      { backup: name, err: message, retryInMs: delay },
      "claiming backup failed; will retry",
    );
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.enqueue(name);
    }, delay);
    this.timers.add(t);
  }
}
