// The thaw guard's memory: for each interrupted Backup (by UID), why it was judged interrupted and
// what happened to each pod, in a ConfigMap of its own next to the report checkpoint (never on
// Velero's objects). It is what makes "never twice, never forgotten" hold across restarts and leader
// changes:
// - a pod is marked `started` (a guarded write) before its first post hook runs, and `ran` after; a
//   pod found `started` by a later process may or may not have been thawed, and is never run again
//   (it is reported as uncertain instead): at most once, and said so;
// - a Backup is `done` once its Backup Event was sent; an unfinished one is resumed by the next leader;
// - `horizon`: the ConfigMap's creation. Backups Velero failed at server start before it are not
//   hookguard's to thaw (installing hookguard next to old failures thaws nothing).
// Writes are resourceVersion-guarded PUTs; a conflict re-reads and re-applies the change.
import type { Result } from "../../domain/types.js";
import { sleep } from "../../util/async.js";
import { checkpointConfigMap } from "./checkpoint.js";
import type { InterruptReason } from "./interruption.js";
import type { CompanionCluster, ConfigMapObject } from "./ports.js";

export type PodThawState =
  /** its post hooks are being run (or were, by a process that stopped before recording the result) */
  | { state: "started"; at: string }
  | { state: "ran"; at: string; result: "succeeded" | "failed" | "skipped"; detail: string }
  | { state: "not-eligible"; reason: string }
  /** found `started` by a later process: reported, never run again */
  | { state: "uncertain"; at: string };

export interface ThawRecord {
  name: string;
  reason: InterruptReason;
  /** when hookguard judged it interrupted */
  at: string;
  done: boolean;
  pods: Record<string, PodThawState>;
}

type Store = Pick<CompanionCluster, "getConfigMap" | "createConfigMap" | "replaceConfigMap">;

export interface ThawCheckpointOptions {
  namespace: string;
  name: string;
  /** records older than this are dropped (default 14 days) */
  maxAgeMs?: number;
  attempts?: number;
  backoffMs?: number;
  now?: () => Date;
}

const FORMAT = "1";
const DAY = 86_400_000;

export class ThawCheckpoint {
  private records = new Map<string, ThawRecord>();
  private horizon = 0;
  private resourceVersion: string | undefined;
  private loaded = false;
  private readonly now: () => Date;

  constructor(
    private readonly store: Store,
    private readonly opts: ThawCheckpointOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  get horizonMs(): number {
    return this.horizon;
  }

  get(uid: string): ThawRecord | undefined {
    const r = this.records.get(uid);
    return r ? structuredClone(r) : undefined;
  }

  /** UIDs of Backups whose handling was started and not finished (a new leader resumes them). */
  unfinished(): Array<{ uid: string; record: ThawRecord }> {
    return [...this.records]
      .filter(([, r]) => !r.done)
      .map(([uid, r]) => ({ uid, record: structuredClone(r) }));
  }

  /** Reads the ConfigMap, creating it (horizon = now) when absent. Call it on every start. */
  async load(): Promise<Result<{ created: boolean; notice?: string }, string>> {
    const got = await this.store.getConfigMap(this.opts.namespace, this.opts.name);
    if (!got.ok) return { ok: false, error: `reading ${this.where()}: ${got.error.message}` };
    if (got.value) return { ok: true, value: this.adopt(got.value) };
    const created = await this.store.createConfigMap(this.encode(new Map(), this.now().getTime() - 1000));
    if (created.ok) {
      this.adopt(created.value);
      return { ok: true, value: { created: true } };
    }
    if (created.error.code === 409) return this.load();
    return { ok: false, error: `creating ${this.where()}: ${created.error.message}` };
  }

  /**
   * Applies `change` to the Backup's record (undefined when there is none yet) and writes it with one
   * guarded PUT; on a conflict, re-reads and applies it again to the other writer's data. `change`
   * returns the new record, or undefined to write nothing.
   */
  async update(
    uid: string,
    change: (current: ThawRecord | undefined) => ThawRecord | undefined,
    live?: ReadonlySet<string>,
  ): Promise<Result<ThawRecord | undefined, string>> {
    if (!this.loaded) return { ok: false, error: "thaw checkpoint not loaded" };
    const attempts = this.opts.attempts ?? 8;
    let last = "";
    for (let attempt = 0; attempt < attempts; attempt++) {
      const current = this.get(uid);
      const next = change(current);
      if (next === undefined) return { ok: true, value: current };
      const records = new Map(this.records);
      records.set(uid, next);
      this.prune(records, live, uid);
      const body = this.encode(records, this.horizon);
      body.metadata.resourceVersion = this.resourceVersion;
      const r = await this.store.replaceConfigMap(body);
      if (r.ok) {
        this.adopt(r.value);
        return { ok: true, value: this.get(uid) };
      }
      last = r.error.message;
      if (r.error.code === 409 || r.error.code === 404) {
        const reloaded = await this.load();
        if (!reloaded.ok) last = reloaded.error;
        continue;
      }
      await sleep(Math.min(10_000, (this.opts.backoffMs ?? 200) * 2 ** attempt));
    }
    return { ok: false, error: `updating ${this.where()}: ${last}` };
  }

  /** Drops finished records of Backups that are gone, and every record older than the max age. */
  private prune(records: Map<string, ThawRecord>, live: ReadonlySet<string> | undefined, keep: string): void {
    const oldest = this.now().getTime() - (this.opts.maxAgeMs ?? 14 * DAY);
    for (const [uid, r] of records) {
      if (uid === keep) continue;
      const at = Date.parse(r.at);
      if ((r.done && live && !live.has(uid)) || (!Number.isNaN(at) && at < oldest)) records.delete(uid);
    }
  }

  private encode(records: Map<string, ThawRecord>, horizon: number): ConfigMapObject {
    return checkpointConfigMap(this.opts, "thaw-guard-checkpoint", {
      format: FORMAT,
      horizon: new Date(horizon).toISOString(),
      backups: JSON.stringify(Object.fromEntries(records)),
    });
  }

  private adopt(cm: ConfigMapObject): { created: boolean; notice?: string } {
    this.resourceVersion = cm.metadata.resourceVersion;
    this.loaded = true;
    const data = cm.data ?? {};
    const horizon = Date.parse(data.horizon ?? "");
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.backups ?? "{}");
    } catch {
      parsed = undefined;
    }
    if (Number.isNaN(horizon) || typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      // Unreadable (edited by hand?): act on nothing from before now rather than repeat old thaws.
      this.records = new Map();
      this.horizon = Math.max(this.horizon, this.now().getTime());
      return {
        created: false,
        notice: `${this.where()} was unreadable; interruptions before now are ignored`,
      };
    }
    const records = new Map<string, ThawRecord>();
    for (const [uid, v] of Object.entries(parsed as Record<string, unknown>)) {
      const r = v as Partial<ThawRecord>;
      if (typeof r?.name === "string" && typeof r.reason === "string" && typeof r.pods === "object" && r.pods)
        records.set(uid, {
          name: r.name,
          reason: r.reason,
          at: typeof r.at === "string" ? r.at : "",
          done: r.done === true,
          pods: r.pods,
        });
    }
    this.records = records;
    this.horizon = Math.max(this.horizon, horizon);
    return { created: false };
  }

  private where(): string {
    return `thaw-guard checkpoint ConfigMap ${this.opts.namespace}/${this.opts.name}`;
  }
}
