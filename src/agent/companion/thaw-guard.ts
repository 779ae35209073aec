// The thaw guard: when a Velero-run Backup is interrupted between its pods' pre and post hooks
// (interruption.ts: Velero's server died, Velero failed it at startup, or it overstayed
// --max-freeze-window), run the post hooks of the pods in its scope that the domain rule allows
// (thawEligibility), once, and say what was done and what was not. docs/thaw-guard.md.
//
// Only the leader runs it (started and stopped with the lease, like the observer). Never writes a
// Velero object: it execs into pods, writes Events and its own checkpoint ConfigMap.
//
// Order per pod, and what a crash in between does:
//   mark `started` (guarded write) -> exec the post hooks -> Event -> mark `ran` -> metric
// A crash after `started` and before `ran` leaves the pod `started`: the next leader does not run it
// again (never twice) and reports it as uncertain (never forgotten). The Backup's Event is sent
// before the Backup is marked done: at least once.
import type { Logger } from "../../log.js";
import { parseBackupHooks, thawEligibility, type PodLike, type Result } from "../../domain/index.js";
import { isVeleroServerPod, runningIncarnations, type ServerPodLike } from "../../velero/server-pods.js";
import type { BackupObject } from "../../velero/types.js";
import { collectItems } from "../scope/collect.js";
import type { AgentCluster, PodExecutor } from "../ports.js";
import { judgeBackup, type InterruptReason } from "./interruption.js";
import { isSyncedFromStorage } from "./observer.js";
import type { BackupWatch, CompanionCluster, InvolvedObject } from "./ports.js";
import type { ThawCheckpoint, ThawRecord } from "./thaw-checkpoint.js";
import { describeHook, podResult, runThawHooks, summarise } from "./thaw-run.js";

export interface ThawGuardMetrics {
  /** one pod whose post hooks the guard ran */
  forcedPostHooks(reason: InterruptReason): void;
  /** one pod with a pre hook whose post hooks the guard must not run */
  notEligible(reason: InterruptReason): void;
}

export interface ThawGuardOptions {
  veleroNamespace: string;
  /** trigger 3; 0 = off */
  maxFreezeWindowMs: number;
  /** delay before a Backup whose scope could not be read is tried again (default 15 s) */
  retryDelayMs?: number;
  handshakeTimeoutMs?: number;
}

export interface ThawGuardDeps {
  cluster: CompanionCluster;
  executor: PodExecutor;
  checkpoint: ThawCheckpoint;
  metrics: ThawGuardMetrics;
  logger: Logger;
  options: ThawGuardOptions;
}

/** What the guard did for one Backup, for logs and tests. */
export interface ThawReport {
  backup: string;
  reason: InterruptReason;
  thawed: Array<{ pod: string; result: string }>;
  notEligible: Array<{ pod: string; reason: string }>;
  uncertain: string[];
}

/** Kubernetes keeps an Event message short; the rest is in the log line. */
const MAX_MESSAGE = 1000;
const clip = (s: string): string => (s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE - 1)}…` : s);

const REASON_TEXT: Record<InterruptReason, string> = {
  velero_died: "the Velero server died",
  velero_failed: "Velero failed it when its server started again",
  freeze_window: "it stayed InProgress longer than --max-freeze-window",
};

export class ThawGuard {
  private backupWatch: BackupWatch | undefined;
  private podWatch: BackupWatch | undefined;
  private readonly backups = new Map<string, BackupObject>();
  private readonly serverPods = new Map<string, ServerPodLike>();
  /** per InProgress Backup: the server processes running when it was first seen */
  private readonly witness = new Map<string, ReadonlySet<string>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** queued or being handled, with the reason and detail of the judgement */
  private readonly pending = new Map<string, { reason: InterruptReason; detail: string }>();
  private readonly queue: string[] = [];
  private worker: Promise<void> | undefined;
  private running = false;
  private abort = new AbortController();
  private idleWaiters: Array<() => void> = [];
  readonly reports: ThawReport[] = [];

  constructor(private readonly deps: ThawGuardDeps) {}

  async start(): Promise<Result<void, string>> {
    if (this.running) return { ok: true, value: undefined };
    const loaded = await this.deps.checkpoint.load();
    if (!loaded.ok) return loaded;
    if (loaded.value.notice)
      this.deps.logger.warn({ notice: loaded.value.notice }, "thaw guard checkpoint replaced");
    this.running = true;
    this.abort = new AbortController();
    const ns = this.deps.options.veleroNamespace;
    // pods first: a Backup is judged against the server pods as listed
    this.podWatch = this.deps.cluster.watchPods(ns, (type, pod) => this.onPod(type, pod));
    await this.podWatch.start();
    this.backupWatch = this.deps.cluster.watchBackups(ns, (type, b) => this.onBackup(type, b));
    await this.backupWatch.start();
    // a previous leader's unfinished work
    for (const { uid, record } of this.deps.checkpoint.unfinished())
      this.enqueue(uid, record.reason, "resumed after a restart or leader change");
    this.deps.logger.info(
      {
        namespace: ns,
        maxFreezeWindowSeconds: this.deps.options.maxFreezeWindowMs / 1000,
        serverPods: this.serverPods.size,
      },
      "thaw guard: watching Velero's Backups and server pods",
    );
    return { ok: true, value: undefined };
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.backupWatch?.stop();
    await this.podWatch?.stop();
    await this.worker;
    this.queue.length = 0;
    this.pending.clear();
    this.backups.clear();
    this.serverPods.clear();
    this.witness.clear();
    this.notifyIdle();
  }

  /** Resolves when nothing is queued or being handled. */
  idle(): Promise<void> {
    if (!this.worker && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private onPod(type: "add" | "update" | "delete", pod: PodLike & ServerPodLike): void {
    const key = pod.metadata?.name ?? "";
    if (type === "delete") this.serverPods.delete(key);
    else if (isVeleroServerPod(pod)) this.serverPods.set(key, pod);
    else return;
    for (const uid of this.backups.keys()) this.evaluate(uid);
  }

  private onBackup(type: "add" | "update" | "delete", b: BackupObject): void {
    const uid = b.metadata.uid;
    if (!uid) return;
    if (type === "delete") {
      this.backups.delete(uid);
      this.witness.delete(uid);
      this.clearTimer(uid);
      return;
    }
    this.backups.set(uid, b);
    this.evaluate(uid);
  }

  private clearTimer(uid: string): void {
    const t = this.timers.get(uid);
    if (t) clearTimeout(t);
    this.timers.delete(uid);
  }

  private evaluate(uid: string): void {
    const b = this.backups.get(uid);
    if (!this.running || !b || this.pending.has(uid) || this.deps.checkpoint.get(uid)) return;
    const pods = [...this.serverPods.values()];
    const j = judgeBackup({
      backup: b,
      witness: this.witness.get(uid),
      running: runningIncarnations(pods),
      serverPodsPresent: pods.length > 0,
      podsSynced: this.podWatch?.synced() ?? false,
      now: Date.now(),
      maxFreezeWindowMs: this.deps.options.maxFreezeWindowMs,
    });
    if (j.kind === "ignore") {
      this.witness.delete(uid);
      this.clearTimer(uid);
      return;
    }
    if (j.kind === "watch") {
      if (j.witness) this.witness.set(uid, j.witness);
      if (j.recheckAt !== undefined && !this.timers.has(uid)) {
        const delay = Math.max(0, j.recheckAt - Date.now()) + 50;
        this.timers.set(
          uid,
          setTimeout(() => {
            this.timers.delete(uid);
            this.evaluate(uid);
          }, delay),
        );
      }
      return;
    }
    if (j.reason === "velero_failed") {
      // only failures after hookguard started guarding, and only of Backups run in this cluster
      const completed = Date.parse(b.status?.completionTimestamp ?? "");
      if (Number.isNaN(completed) || completed <= this.deps.checkpoint.horizonMs || isSyncedFromStorage(b))
        return;
    }
    this.clearTimer(uid);
    this.enqueue(uid, j.reason, j.detail);
  }

  private enqueue(uid: string, reason: InterruptReason, detail: string): void {
    if (!this.running || this.pending.has(uid)) return;
    this.pending.set(uid, { reason, detail });
    this.queue.push(uid);
    if (!this.worker)
      this.worker = this.drain().finally(() => {
        this.worker = undefined;
        this.notifyIdle();
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
      const why = this.pending.get(uid)!;
      let retry: string | undefined;
      try {
        const r = await this.handle(uid, why.reason, why.detail);
        if (!r.ok) retry = r.error;
      } catch (err) {
        retry = String(err);
      }
      if (retry !== undefined && this.running && !this.abort.signal.aborted) {
        const delay = this.deps.options.retryDelayMs ?? 15_000;
        this.deps.logger.warn(
          { uid, retryInMs: delay, reason: retry },
          "thaw guard: will try this Backup again",
        );
        const t = setTimeout(() => {
          this.timers.delete(uid);
          this.pending.delete(uid);
          this.enqueue(uid, why.reason, why.detail);
        }, delay);
        this.timers.set(uid, t);
      } else this.pending.delete(uid);
    }
  }

  /** Confirms the interruption on a fresh copy, then thaws what may be thawed. */
  private async handle(uid: string, reason: InterruptReason, detail: string): Promise<Result<void, string>> {
    const { cluster, checkpoint, logger, options } = this.deps;
    const known = this.backups.get(uid);
    const existing = checkpoint.get(uid);
    if (existing?.done) return { ok: true, value: undefined };
    const name = known?.metadata.name ?? existing?.name;
    if (!name) return { ok: true, value: undefined };
    const fresh = await cluster.getBackup(options.veleroNamespace, name);
    if (!fresh.ok) return { ok: false, error: `reading Backup ${name}: ${fresh.error.message}` };
    let backup = fresh.value?.metadata.uid === uid ? fresh.value : undefined;
    if (!existing) {
      // never act for a Backup that ended normally (or any other way) meanwhile
      const phase = backup?.status?.phase;
      const stillInterrupted =
        phase === "InProgress" ||
        (phase === "Failed" && judgeBackup({ ...idleJudge, backup: backup! }).kind === "interrupted");
      if (!backup || !stillInterrupted) {
        logger.info({ backup: name, phase, reason }, "thaw guard: the Backup moved on; nothing to do");
        return { ok: true, value: undefined };
      }
    }
    backup ??= known;
    const log = logger.child({ backup: name });

    const opened = await checkpoint.update(
      uid,
      (cur) => cur ?? { name, reason, at: new Date().toISOString(), done: false, pods: {} },
      this.live(),
    );
    if (!opened.ok) return opened;
    const record = opened.value!;
    if (record.done) return { ok: true, value: undefined };
    reason = record.reason;
    log.warn(
      { reason, detail },
      "thaw guard: Velero was interrupted during this Backup; running eligible post hooks",
    );

    const report: ThawReport = { backup: name, reason, thawed: [], notEligible: [], uncertain: [] };
    // pods of the record still `started`: a process stopped while running them
    const settle = async (key: string): Promise<Result<void, string>> => {
      const r = await checkpoint.update(uid, (cur) => {
        if (!cur || cur.pods[key]?.state !== "started") return undefined;
        return { ...cur, pods: { ...cur.pods, [key]: { state: "uncertain", at: new Date().toISOString() } } };
      });
      if (!r.ok) return r;
      const [namespace, podName] = key.split("/") as [string, string];
      report.uncertain.push(key);
      await this.event(
        { apiVersion: "v1", kind: "Pod", namespace, name: podName },
        "Warning",
        "ThawGuardUncertain",
        `hookguard started this pod's post hooks after Velero was interrupted during backup ${options.veleroNamespace}/${name}, and stopped before it recorded their result; they are not run again: check the pod`,
      );
      return { ok: true, value: undefined };
    };
    for (const [key, state] of Object.entries(record.pods)) {
      if (state.state !== "started") continue;
      const r = await settle(key);
      if (!r.ok) return r;
    }

    if (backup) {
      const scope = await collectItems(cluster as unknown as AgentCluster, backup.spec ?? {});
      if (!scope.ok) return { ok: false, error: `listing the Backup's pods: ${scope.error}` };
      const specs = parseBackupHooks(backup.spec?.hooks, { pathPrefix: "spec.hooks" }).resources;
      const pods = [...scope.value.pods, ...scope.value.extraPods].sort((a, b) =>
        podKey(a).localeCompare(podKey(b)),
      );
      for (const pod of pods) {
        if (this.abort.signal.aborted) return { ok: false, error: "stopped" };
        const r = await this.handlePod(uid, backup, reason, detail, pod, specs, report);
        if (!r.ok) return r;
      }
    }

    // the Backup's Event (at least once), then done
    const latest = checkpoint.get(uid) ?? record;
    await this.event(
      {
        apiVersion: "velero.io/v1",
        kind: "Backup",
        namespace: options.veleroNamespace,
        name,
        uid,
      },
      latest && hasProblems(latest) ? "Warning" : "Normal",
      "ThawGuard",
      backupMessage(reason, detail, latest),
    );
    const closed = await checkpoint.update(
      uid,
      (cur) => (cur ? { ...cur, done: true } : undefined),
      this.live(),
    );
    if (!closed.ok) return closed;
    log.info(
      {
        reason,
        thawed: report.thawed,
        notEligible: report.notEligible,
        uncertain: report.uncertain,
      },
      "thaw guard: done with this Backup",
    );
    this.reports.push(report);
    if (this.reports.length > 100) this.reports.shift();
    return { ok: true, value: undefined };
  }

  private async handlePod(
    uid: string,
    backup: BackupObject,
    reason: InterruptReason,
    detail: string,
    pod: PodLike,
    specs: ReturnType<typeof parseBackupHooks>["resources"],
    report: ThawReport,
  ): Promise<Result<void, string>> {
    const { cluster, checkpoint, executor, metrics, logger, options } = this.deps;
    const key = podKey(pod);
    if (this.deps.checkpoint.get(uid)?.pods[key]) return { ok: true, value: undefined }; // handled already
    const ref = { namespace: pod.metadata?.namespace ?? "", name: pod.metadata?.name ?? "" };
    const involved: InvolvedObject = {
      apiVersion: "v1",
      kind: "Pod",
      namespace: ref.namespace,
      name: ref.name,
      ...(pod.metadata?.uid ? { uid: pod.metadata.uid } : {}),
    };
    const where = `backup ${options.veleroNamespace}/${backup.metadata.name} (${REASON_TEXT[reason]}: ${detail})`;
    const e = thawEligibility(pod, specs);
    if (e.kind === "none") return { ok: true, value: undefined };
    if (e.kind === "not-eligible") {
      const r = await checkpoint.update(uid, (cur) =>
        cur && !cur.pods[key]
          ? { ...cur, pods: { ...cur.pods, [key]: { state: "not-eligible", reason: e.reason } } }
          : undefined,
      );
      if (!r.ok) return r;
      const byHand =
        e.post.length > 0 ? ` If its pre hook ran, run by hand: ${e.post.map(describeHook).join("; ")}` : "";
      await this.event(
        involved,
        "Warning",
        "ThawGuardNotEligible",
        `Velero was interrupted during ${where}, maybe between this pod's pre and post hooks; hookguard did not run its post hooks: ${e.reason}.${byHand}`,
      );
      metrics.notEligible(reason);
      report.notEligible.push({ pod: key, reason: e.reason });
      logger.warn(
        { backup: backup.metadata.name, pod: key, why: e.reason },
        "thaw guard: post hooks not eligible",
      );
      return { ok: true, value: undefined };
    }

    // mark started before the first exec: a crash from here on never runs them again
    const started = await checkpoint.update(uid, (cur) =>
      cur && !cur.pods[key]
        ? { ...cur, pods: { ...cur.pods, [key]: { state: "started", at: new Date().toISOString() } } }
        : undefined,
    );
    if (!started.ok) return started;
    if (started.value?.pods[key]?.state !== "started") return { ok: true, value: undefined };
    const current = await cluster.getPod(ref.namespace, ref.name);
    const outcomes = await runThawHooks(
      executor,
      ref,
      current.ok ? current.value : undefined,
      e.post,
      this.abort.signal,
      options.handshakeTimeoutMs,
    );
    const result = podResult(outcomes);
    const text = summarise(outcomes);
    await this.event(
      involved,
      result === "failed" ? "Warning" : "Normal",
      result === "failed" ? "ThawGuardPostHooksFailed" : "ThawGuardPostHooks",
      `post hooks run by hookguard after Velero was interrupted during ${where}: ${text}`,
    );
    const ran = await checkpoint.update(uid, (cur) =>
      cur
        ? {
            ...cur,
            pods: {
              ...cur.pods,
              [key]: { state: "ran", at: new Date().toISOString(), result, detail: text },
            },
          }
        : undefined,
    );
    if (!ran.ok) return ran;
    metrics.forcedPostHooks(reason);
    report.thawed.push({ pod: key, result });
    logger.warn(
      { backup: backup.metadata.name, pod: key, reason, result, hooks: outcomes },
      "thaw guard: post hooks run after Velero was interrupted",
    );
    return { ok: true, value: undefined };
  }

  private live(): ReadonlySet<string> | undefined {
    return this.backupWatch?.synced() ? new Set(this.backups.keys()) : undefined;
  }

  private event(
    involved: InvolvedObject,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ): Promise<void> {
    return this.deps.cluster.createEvent(involved, type, reason, clip(message)).catch(() => undefined);
  }
}

/** Judge input for "is this Failed Backup one Velero failed at startup" (no server facts needed). */
const idleJudge = {
  witness: undefined,
  running: new Set<string>(),
  serverPodsPresent: false,
  podsSynced: false,
  now: 0,
  maxFreezeWindowMs: 0,
};

const podKey = (p: PodLike): string => `${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}`;

function hasProblems(r: ThawRecord): boolean {
  return Object.values(r.pods).some(
    (p) =>
      p.state === "not-eligible" || p.state === "uncertain" || (p.state === "ran" && p.result === "failed"),
  );
}

function backupMessage(reason: InterruptReason, detail: string, r: ThawRecord): string {
  const ran: string[] = [];
  const not: string[] = [];
  const uncertain: string[] = [];
  for (const [pod, s] of Object.entries(r.pods)) {
    if (s.state === "ran") ran.push(`${pod} (${s.result})`);
    else if (s.state === "not-eligible") not.push(`${pod} (${s.reason})`);
    else if (s.state === "uncertain" || s.state === "started") uncertain.push(pod);
  }
  const parts = [
    `hookguard judged this backup interrupted: ${REASON_TEXT[reason]} (${detail}).`,
    ran.length > 0 ? `Post hooks run on ${ran.length} pod(s): ${ran.join(", ")}.` : "No post hooks run.",
  ];
  if (not.length > 0)
    parts.push(`Not eligible, run their post hooks by hand if their pre hooks ran: ${not.join(", ")}.`);
  if (uncertain.length > 0)
    parts.push(`Result unknown (hookguard stopped while running them): ${uncertain.join(", ")}.`);
  if (reason === "freeze_window")
    parts.push(
      "Velero still holds this backup: it may be inconsistent, and Velero's own post hooks may fail on a path already thawed.",
    );
  return parts.join(" ");
}
