// Velero Schedules (velero.io/v1), run by the elected agent. Per Velero's schedule controller:
// - spec.schedule is read by the domain's grammar (src/domain/schedule.ts, robfig/cron's standard
//   parser: 5 fields, descriptors, `@every <duration>`, UTC unless `CRON_TZ=Zone `/`TZ=Zone `); an
//   invalid one sets status.phase FailedValidation with validationErrors ["invalid schedule: ..."],
//   a valid one phase Enabled;
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
import { parseSchedule as parseScheduleSpec, type ScheduleSpec } from "../../domain/index.js";
import type { Logger } from "../../log.js";
import type { AgentCluster } from "../ports.js";
import type { BackupObject, ScheduleObject } from "../../velero/types.js";
import { isAlreadyExists } from "../ports.js";

export const SCHEDULE_NAME_LABEL = "velero.io/schedule-name";

/** A parsed schedule and the next-time computation for it. */
export interface ParsedSchedule {
  spec: ScheduleSpec;
  /** The latest run time t with lastRun < t <= now, or undefined when not due. */
  due(lastRun: Date, now: Date): Date | undefined;
}

/**
 * Parses `spec.schedule` with the domain's grammar (Velero's, robfig/cron's standard parser). Next
 * times come from croner, fed the domain's normalized five fields (explicit value lists, day fields
 * `*` only when robfig's star bit is set), so croner's own grammar and messages never reach a user
 * and its OR/AND day matching is robfig's. `@every` is robfig's constant delay from the last run.
 */
export function parseSchedule(
  text: string,
): { ok: true; value: ParsedSchedule } | { ok: false; error: string } {
  const parsed = parseScheduleSpec(text);
  if (!parsed.ok) return { ok: false, error: `invalid schedule: ${parsed.error}` };
  const spec = parsed.value;
  if (spec.kind === "every") {
    return {
      ok: true,
      value: {
        spec,
        due: (lastRun, now) =>
          lastRun.getTime() + spec.everyMs <= now.getTime()
            ? new Date(lastRun.getTime() + spec.everyMs)
            : undefined,
      },
    };
  }
  const cron = new Cron(spec.normalized, {
    paused: true,
    timezone: spec.timezone,
    mode: "5-part",
    domAndDow: false,
  });
  if (!cron.nextRun(new Date()))
    return { ok: false, error: `invalid schedule: ${JSON.stringify(text)} never fires` };
  return { ok: true, value: { spec, due: (lastRun, now) => dueTime(cron, lastRun, now) } };
}

/** `yyyyMMddHHmmss` in UTC, Velero's TimestampedName format. */
export function timestampName(d: Date): string {
  return d
    .toISOString()
    .replace(/\.\d+Z$/, "")
    .replace(/[-:T]/g, "");
}

const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, "Z");

/** The latest cron time t with lastRun < t <= now, or undefined when not due. */
export function dueTime(cron: Cron, lastRun: Date, now: Date): Date | undefined {
  const latest = cron.previousRuns(1, new Date(now.getTime() + 1))[0];
  return latest && latest.getTime() > lastRun.getTime() ? latest : undefined;
}

/** The Backup Velero's builder.FromSchedule would create for the scheduled time `at`. */
export function backupFromSchedule(s: ScheduleObject, at: Date): BackupObject {
  const templateMeta = (s.spec.template as { metadata?: { labels?: Record<string, string> } } | undefined)
    ?.metadata;
  const labels = {
    ...(s.metadata.labels ?? {}),
    ...(templateMeta?.labels ?? {}),
    [SCHEDULE_NAME_LABEL]: s.metadata.name,
  };
  const metadata: BackupObject["metadata"] = {
    name: `${s.metadata.name}-${timestampName(at)}`,
    namespace: s.metadata.namespace,
    labels,
  };
  if (s.metadata.annotations) metadata.annotations = { ...s.metadata.annotations };
  if (s.spec.useOwnerReferencesInBackup) {
    metadata.ownerReferences = [
      {
        apiVersion: "velero.io/v1",
        kind: "Schedule",
        name: s.metadata.name,
        uid: s.metadata.uid,
        controller: true,
      },
    ];
  }
  return {
    apiVersion: "velero.io/v1",
    kind: "Backup",
    metadata,
    spec: structuredClone(s.spec.template ?? {}),
  };
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
    for (let s of listed.value) {
      const log = this.log.child({ schedule: s.metadata.name, namespace: s.metadata.namespace });
      const parsed = parseSchedule(s.spec?.schedule);
      if (!parsed.ok) {
        if (s.status?.phase !== "FailedValidation") {
          log.warn({ err: parsed.error }, "schedule failed validation");
          await this.patch(s, { phase: "FailedValidation", validationErrors: [parsed.error] }, log);
        }
        continue;
      }
      if (s.status?.phase !== "Enabled") {
        const enabled = await this.patch(s, { phase: "Enabled", validationErrors: null }, log);
        if (!enabled) continue;
        s = enabled;
      }
      if (s.spec.paused) continue;
      const now = this.now();
      const lastRun = new Date(s.status?.lastBackup ?? s.metadata.creationTimestamp ?? now.toISOString());
      const at = parsed.value.due(lastRun, now);
      if (!at) continue;
      if (!backups) {
        const b = await this.cluster.listBackups(this.opts.namespace);
        if (!b.ok) {
          log.warn(
            { code: b.error.code, err: b.error.message },
            "could not list backups; schedule retried next tick",
          );
          return;
        }
        backups = b.value;
      }
      const running = backups.find(
        (b) =>
          b.metadata.labels?.[SCHEDULE_NAME_LABEL] === s.metadata.name && ACTIVE.has(b.status?.phase ?? ""),
      );
      if (running) {
        log.info(
          { backup: running.metadata.name },
          "a backup of this schedule is still running; the due backup waits",
        );
        continue;
      }
      const backup = backupFromSchedule(s, at);
      const created = await this.cluster.createBackup(backup);
      if (!created.ok && !isAlreadyExists(created.error)) {
        log.warn(
          { backup: backup.metadata.name, code: created.error.code, err: created.error.message },
          "could not create the scheduled backup; retried next tick",
        );
        continue;
      }
      log.info(
        { backup: backup.metadata.name, scheduledFor: rfc3339(at), existed: !created.ok },
        "scheduled backup created",
      );
      if (created.ok) backups.push(created.value);
      await this.patch(s, { phase: "Enabled", lastBackup: rfc3339(now) }, log);
    }
  }

  /**
   * Merge-patches the status through the Schedule itself (no status subresource), at the version
   * this pass read: a Schedule changed meanwhile (a new spec, another controller's write) gets a 409
   * and is looked at again next pass. Returns the updated Schedule, or undefined when not written.
   */
  private async patch(
    s: ScheduleObject,
    status: Record<string, unknown>,
    log: Logger,
  ): Promise<ScheduleObject | undefined> {
    const r = await this.cluster.patchScheduleStatus(
      s.metadata.namespace,
      s.metadata.name,
      status,
      s.metadata.resourceVersion,
    );
    if (r.ok) return r.value;
    log.warn(
      { code: r.error.code, err: r.error.message },
      "could not update schedule status; retried next pass",
    );
    return undefined;
  }
}
