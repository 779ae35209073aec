// Velero Schedules (velero.io/v1), run by the elected agent. Per Velero's schedule controller:
// - spec.schedule is a 5-field cron (or @daily-style nickname), UTC unless prefixed with
//   `CRON_TZ=Zone ` or `TZ=Zone `; an invalid one sets status.phase FailedValidation with
//   validationErrors ["invalid schedule: ..."], a valid one phase Enabled;
// - the last run is status.lastBackup, or the Schedule's creationTimestamp before the first backup;
//   a schedule is due when a cron time lies in (lastRun, now];
// - no new Backup while one of this schedule's Backups is still New/InProgress (no overlap);
// - spec.paused: nothing is created;
// - the Backup copies spec.template, carries label velero.io/schedule-name (plus the Schedule's
//   labels and template.metadata.labels) and, with useOwnerReferencesInBackup, an ownerReference.
// Differences, on purpose: the name uses the scheduled time (`<schedule>-<yyyyMMddHHmmss>`, UTC),
// not the wall clock at creation, so two agents racing across a failover create the same name and
// the loser's AlreadyExists simply means "done". Several missed times (no leader for hours)
// produce ONE Backup, for the latest missed time.
import { Cron } from "croner";
import type { Logger } from "../../log.js";
import type { AgentCluster } from "../ports.js";
import type { BackupObject, ScheduleObject } from "../../velero/types.js";
import { isAlreadyExists } from "../ports.js";

export const SCHEDULE_NAME_LABEL = "velero.io/schedule-name";

export interface ParsedSchedule {
  cron: Cron;
  timezone: string;
}

/** Parse `spec.schedule` like Velero (robfig/cron ParseStandard with CRON_TZ=/TZ= prefixes). */
export function parseSchedule(spec: string): { ok: true; value: ParsedSchedule } | { ok: false; error: string } {
  let expr = (spec ?? "").trim();
  let timezone = "UTC";
  const tz = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(expr);
  if (tz) {
    timezone = tz[1]!;
    expr = tz[2]!.trim();
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    } catch {
      return { ok: false, error: `invalid schedule: provided bad location ${timezone}: unknown time zone ${timezone}` };
    }
  }
  if (expr === "") return { ok: false, error: "invalid schedule: empty spec string" };
  if (/^@every\b/.test(expr)) return { ok: false, error: `invalid schedule: "@every" intervals are not supported by hookguard; use a cron expression` };
  try {
    const cron = new Cron(expr, { paused: true, timezone, mode: "5-part", domAndDow: false });
    if (!cron.nextRun(new Date())) return { ok: false, error: `invalid schedule: "${expr}" never fires` };
    return { ok: true, value: { cron, timezone } };
  } catch (err) {
    return { ok: false, error: `invalid schedule: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** `yyyyMMddHHmmss` in UTC, Velero's TimestampedName format. */
export function timestampName(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, "").replace(/[-:T]/g, "");
}

const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, "Z");

/** The latest cron time t with lastRun < t <= now, or undefined when not due. */
export function dueTime(cron: Cron, lastRun: Date, now: Date): Date | undefined {
  const latest = cron.previousRuns(1, new Date(now.getTime() + 1))[0];
  return latest && latest.getTime() > lastRun.getTime() ? latest : undefined;
}

/** The Backup Velero's builder.FromSchedule would create for the scheduled time `at`. */
export function backupFromSchedule(s: ScheduleObject, at: Date): BackupObject {
  const templateMeta = (s.spec.template as { metadata?: { labels?: Record<string, string> } } | undefined)?.metadata;
  const labels = { ...(s.metadata.labels ?? {}), ...(templateMeta?.labels ?? {}), [SCHEDULE_NAME_LABEL]: s.metadata.name };
  const metadata: BackupObject["metadata"] = { name: `${s.metadata.name}-${timestampName(at)}`, namespace: s.metadata.namespace, labels };
  if (s.metadata.annotations) metadata.annotations = { ...s.metadata.annotations };
  if (s.spec.useOwnerReferencesInBackup) {
    metadata.ownerReferences = [{ apiVersion: "velero.io/v1", kind: "Schedule", name: s.metadata.name, uid: s.metadata.uid, controller: true }];
  }
  return { apiVersion: "velero.io/v1", kind: "Backup", metadata, spec: structuredClone(s.spec.template ?? {}) };
}

const ACTIVE = new Set(["", "New", "InProgress"]);

export interface ScheduleControllerOptions {
  namespace: string;
  now?: () => Date;
  /** start() ticks on this period (default 5 s). */
  intervalMs?: number;
}

export class ScheduleController {
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly cluster: AgentCluster,
    private readonly opts: ScheduleControllerOptions,
    private readonly log: Logger,
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs ?? 5000);
    void this.tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** One pass over all Schedules. Overlapping calls share the pass in flight. Never throws. */
  tick(): Promise<void> {
    this.ticking ??= this.pass()
      .catch((err: unknown) => this.log.error({ err }, "schedule pass failed"))
      .finally(() => {
        this.ticking = undefined;
      });
    return this.ticking;
  }

  private async pass(): Promise<void> {
    const listed = await this.cluster.listSchedules(this.opts.namespace);
    if (!listed.ok) {
      this.log.warn({ code: listed.error.code, err: listed.error.message }, "could not list schedules");
      return;
    }
    let backups: BackupObject[] | undefined;
    for (const s of listed.value) {
      const log = this.log.child({ schedule: s.metadata.name, namespace: s.metadata.namespace });
      const parsed = parseSchedule(s.spec?.schedule);
      if (!parsed.ok) {
        if (s.status?.phase !== "FailedValidation") {
          log.warn({ err: parsed.error }, "schedule failed validation");
          await this.patch(s, { phase: "FailedValidation", validationErrors: [parsed.error] }, log);
        }
        continue;
      }
      if (s.status?.phase !== "Enabled") await this.patch(s, { phase: "Enabled", validationErrors: null }, log);
      if (s.spec.paused) continue;
      const now = this.now();
      const lastRun = new Date(s.status?.lastBackup ?? s.metadata.creationTimestamp ?? now.toISOString());
      const at = dueTime(parsed.value.cron, lastRun, now);
      if (!at) continue;
      if (!backups) {
        const b = await this.cluster.listBackups(this.opts.namespace);
        if (!b.ok) {
          log.warn({ code: b.error.code, err: b.error.message }, "could not list backups; schedule retried next tick");
          return;
        }
        backups = b.value;
      }
      const running = backups.find((b) => b.metadata.labels?.[SCHEDULE_NAME_LABEL] === s.metadata.name && ACTIVE.has(b.status?.phase ?? ""));
      if (running) {
        log.info({ backup: running.metadata.name }, "a backup of this schedule is still running; the due backup waits");
        continue;
      }
      const backup = backupFromSchedule(s, at);
      const created = await this.cluster.createBackup(backup);
      if (!created.ok && !isAlreadyExists(created.error)) {
        log.warn({ backup: backup.metadata.name, code: created.error.code, err: created.error.message }, "could not create the scheduled backup; retried next tick");
        continue;
      }
      log.info({ backup: backup.metadata.name, scheduledFor: rfc3339(at), existed: !created.ok }, "scheduled backup created");
      if (created.ok) backups.push(created.value);
      await this.patch(s, { phase: "Enabled", lastBackup: rfc3339(now) }, log);
    }
  }

  private async patch(s: ScheduleObject, status: Record<string, unknown>, log: Logger): Promise<void> {
    const r = await this.cluster.patchScheduleStatus(s.metadata.namespace, s.metadata.name, status);
    if (!r.ok) log.warn({ code: r.error.code, err: r.error.message }, "could not update schedule status");
  }
}
