// Leader election on a coordination.k8s.io/v1 Lease with client-go's leaderelection semantics:
// - a lease held by someone else is valid until observedTime + leaseDurationSeconds, where
//   observedTime is OUR local clock when we last saw the record change (clocks are never compared
//   across machines);
// - every write is a PUT guarded by resourceVersion, so two candidates never both win;
// - acquireTime and leaseTransitions change only when the holder changes;
// - a leader that cannot renew within renewDeadline stops leading at once (its signal aborts);
//   unlike client-go it also stops at once when it sees another valid holder (it never waits out
//   the deadline while someone else holds the lease);
// - stop() releases a held lease (holder "", duration 1 s) so a successor need not wait for expiry.
// After losing, the elector goes back to trying to acquire (a new term, a new signal).
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from "@kubernetes/client-node";
import type { Logger } from "../log.js";
import { toKubeApiError } from "./errors.js";
import { sleep } from "../util/async.js";
import { makePooledApiClient } from "./transport.js";

export interface LeaderElectorOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface LeaderCallbacks {
  onStartedLeading(signal: AbortSignal): void;
  onStoppedLeading(): void;
}

type Attempt = "acquired" | "held-by-other" | "failed";

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private wake = new AbortController();
  private term: AbortController | undefined;
  private lastRenew = 0;
  private watchdog: NodeJS.Timeout | undefined;
  /** Last lease we read or wrote, and when (local clock) its content last changed. */
  private observed: V1Lease | undefined;
  private observedAt = 0;

  constructor(
    kc: KubeConfig,
    private readonly opts: LeaderElectorOptions,
    private readonly callbacks: LeaderCallbacks,
    private readonly log: Logger,
  ) {
    this.api = makePooledApiClient(kc, CoordinationV1Api);
    this.leaseMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
    if (!(this.leaseMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryMs && this.retryMs > 0)) {
      throw new Error("leader election needs leaseDuration > renewDeadline > retryPeriod > 0");
    }
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.wake = new AbortController();
    this.loop = this.run();
  }

  isLeader(): boolean {
    return this.term !== undefined;
  }

  /** Stop campaigning; if leading, stop leading (signal aborted) and release the lease. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake.abort();
    const wasLeader = this.isLeader();
    this.stopLeading("stopping");
    await this.loop;
    if (wasLeader) await this.release();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const result = await this.tryAcquireOrRenew();
      if (this.stopped) break;
      if (result === "acquired") {
        this.lastRenew = Date.now();
        if (!this.term) this.startLeading();
        else this.armWatchdog();
      } else if (this.term && result === "held-by-other") {
        this.stopLeading("lease is held by another candidate");
      }
      // Candidates jitter their retries (client-go JitterFactor 1.2); the leader renews on the period.
      await sleep(this.term ? this.retryMs : this.retryMs * (1 + Math.random() * 0.2), this.wake.signal);
    }
  }

  private startLeading(): void {
    this.term = new AbortController();
    this.armWatchdog();
    this.log.info(
      { lease: `${this.opts.namespace}/${this.opts.name}`, identity: this.opts.identity },
      "became leader",
    );
    try {
      this.callbacks.onStartedLeading(this.term.signal);
    } catch (err) {
      this.log.error({ err }, "onStartedLeading threw");
    }
  }

  /** The renew deadline is enforced by a timer, so a hung API call cannot keep us leading. */
  private armWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    const due = this.lastRenew + this.renewDeadlineMs - Date.now();
    this.watchdog = setTimeout(
      () => this.stopLeading(`could not renew the lease within ${this.renewDeadlineMs}ms`),
      Math.max(0, due),
    );
  }

  private stopLeading(reason: string): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = undefined;
    const term = this.term;
    if (!term) return;
    this.term = undefined;
    this.log.warn(
      { lease: `${this.opts.namespace}/${this.opts.name}`, identity: this.opts.identity, reason },
      "stopped leading",
    );
    term.abort(new Error(reason));
    try {
      this.callbacks.onStoppedLeading();
    } catch (err) {
      this.log.error({ err }, "onStoppedLeading threw");
    }
  }

  /** An API call bounded so that one hung request cannot stall the loop past a retry cycle. */
  private async bounded<T>(
    fn: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; code: number; message: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error("lease request timed out"), { code: 0 })),
        this.renewDeadlineMs,
      );
    });
    try {
      return { ok: true, value: await Promise.race([fn(), timeout]) };
    } catch (err) {
      const e = toKubeApiError(err);
      return { ok: false, code: e.code, message: e.message };
    } finally {
      clearTimeout(timer);
    }
  }

  private observe(lease: V1Lease): void {
    if (lease.metadata?.resourceVersion !== this.observed?.metadata?.resourceVersion)
      this.observedAt = Date.now();
    this.observed = lease;
  }

  private async tryAcquireOrRenew(): Promise<Attempt> {
    const { namespace, name, identity } = this.opts;
    const now = new V1MicroTime(Date.now());
    const durationSeconds = Math.ceil(this.leaseMs / 1000);
    const got = await this.bounded(() => this.api.readNamespacedLease({ namespace, name }));
    if (!got.ok) {
      if (got.code !== 404) {
        this.log.warn({ code: got.code, err: got.message }, "could not read the lease");
        return "failed";
      }
      const body: V1Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: 0,
        },
      };
      const created = await this.bounded(() => this.api.createNamespacedLease({ namespace, body }));
      if (!created.ok) return "failed"; // 409: someone else created it first
      this.observe(created.value);
      return "acquired";
    }
    const lease = got.value;
    this.observe(lease);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    const recordMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    const iHold = holder === identity;
    if (holder !== "" && !iHold && this.observedAt + recordMs > Date.now()) return "held-by-other";

    const body: V1Lease = {
      ...lease,
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: iHold && spec.acquireTime ? new V1MicroTime(new Date(spec.acquireTime).getTime()) : now,
        renewTime: now,
        leaseTransitions: iHold ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    const put = await this.bounded(() => this.api.replaceNamespacedLease({ namespace, name, body }));
    if (!put.ok) {
      if (put.code !== 409) this.log.warn({ code: put.code, err: put.message }, "could not update the lease");
      return "failed";
    }
    this.observe(put.value);
    if (!iHold) this.log.info({ previousHolder: holder || undefined, identity }, "acquired the lease");
    return "acquired";
  }

  private async release(): Promise<void> {
    const lease = this.observed;
    if (!lease || lease.spec?.holderIdentity !== this.opts.identity) return;
    const now = new V1MicroTime(Date.now());
    const body: V1Lease = {
      ...lease,
      spec: {
        holderIdentity: "",
        leaseDurationSeconds: 1,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: lease.spec?.leaseTransitions ?? 0,
      },
    };
    const r = await this.bounded(() =>
      this.api.replaceNamespacedLease({ namespace: this.opts.namespace, name: this.opts.name, body }),
    );
    if (!r.ok)
      this.log.warn({ code: r.code, err: r.message }, "could not release the lease (it will expire)");
  }
}
