// "Count each Velero Backup exactly once, across restarts and leader changes": which Backups the
// companion has already reported, kept in a ConfigMap of its own in the agent's namespace (never on
// Velero's objects). The ConfigMap holds:
// - `horizon`: an instant; a Backup whose own time (completion, else start, else creation) is at or
//   before it is never reported. It starts at the ConfigMap's creation, so installing hookguard next
//   to a Velero with a year of Backups reports none of them, and it only ever moves forward;
// - `processed`: the UIDs of the Backups reported after the horizon, with name and time.
// Bounded, and why that is safe: an entry is dropped only when it can never matter again, i.e.
// (a) its Backup no longer exists (a UID is never reused: a Backup re-created under the same name is
// a new Backup), or (b) its time is at or before the horizon, which moves to now − maxAge (and
// further, oldest first, if the ConfigMap would outgrow its size budget): a Backup that old is
// ignored whether or not its entry is still there.
// Writes are resourceVersion-guarded (PUT): of two agents (a leader change, or two leaders for a
// moment) committing the same Backup, exactly one succeeds; the other re-reads, finds the UID and
// must not count it. So `commit` is the commit point of "this process reports this Backup".
import type { Result } from "../../domain/types.js";
import { sleep } from "../../util/async.js";
import type { CompanionCluster, ConfigMapObject } from "./ports.js";

export interface CheckpointOptions {
  namespace: string;
  name: string;
  /** Backups older than this are never reported and their entries are dropped (default 14 days). */
  maxAgeMs?: number;
  /** Serialized `processed` budget; ConfigMaps are capped at 1 MiB (default 768 KiB). */
  maxBytes?: number;
  /** Attempts per commit across conflicts and transient errors (default 8). */
  attempts?: number;
  backoffMs?: number;
  now?: () => Date;
}

export interface CheckpointEntry {
  uid: string;
  name: string;
  /** the Backup's own time, ISO 8601 */
  at: string;
}

export interface CommitResult {
  /** UIDs this call recorded: this process reports them */
  added: string[];
  /** UIDs already recorded (by this or another agent) or before the horizon: not to be reported */
  skipped: string[];
}

type Store = Pick<CompanionCluster, "getConfigMap" | "createConfigMap" | "replaceConfigMap">;

const DAY = 86_400_000;
const FORMAT = "1";

const time = (iso: string): number => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
};

/**
 * The horizon for "from now on". Kubernetes writes times in whole seconds, so a Backup that
 * completes later in this very second carries this second's start, which is before `now`: the
 * horizon sits just before the second began, or such a Backup would never be reported.
 */
const fromThisSecond = (now: Date): number => Math.floor(now.getTime() / 1000) * 1000 - 1;

/** A companion checkpoint as stored: a ConfigMap of hookguard's own, labelled with what it holds. */
export function checkpointConfigMap(
  where: { namespace: string; name: string },
  component: string,
  data: Record<string, string>,
): ConfigMapObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: where.name,
      namespace: where.namespace,
      labels: {
        "app.kubernetes.io/managed-by": "hookguard",
        "app.kubernetes.io/component": component,
      },
    },
    data,
  };
}

export class BackupCheckpoint {
  private entries = new Map<string, { name: string; at: string }>();
  private horizon = 0;
  private resourceVersion: string | undefined;
  private loaded = false;
  private readonly maxAgeMs: number;
  private readonly maxBytes: number;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly store: Store,
    private readonly opts: CheckpointOptions,
  ) {
    this.maxAgeMs = opts.maxAgeMs ?? 14 * DAY;
    this.maxBytes = opts.maxBytes ?? 768 * 1024;
    this.attempts = opts.attempts ?? 8;
    this.backoffMs = opts.backoffMs ?? 200;
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * Reads the ConfigMap, creating it (horizon = now) when absent. Call it on every start of the
   * observer: after a leader change the other agent's commits must be seen. `notice` says when the
   * stored data was unreadable and was replaced (horizon = now, nothing re-reported).
   */
  async load(): Promise<Result<{ created: boolean; notice?: string }, string>> {
    const got = await this.store.getConfigMap(this.opts.namespace, this.opts.name);
    if (!got.ok)
      return { ok: false, error: `reading checkpoint ConfigMap ${this.where()}: ${got.error.message}` };
    if (got.value) return { ok: true, value: this.adopt(got.value) };
    const fresh = this.encode(new Map(), fromThisSecond(this.now()));
    const created = await this.store.createConfigMap(fresh);
    if (created.ok) {
      this.adopt(created.value);
      return { ok: true, value: { created: true } };
    }
    if (created.error.code === 409) return this.load(); // another agent made it first
    return { ok: false, error: `creating checkpoint ConfigMap ${this.where()}: ${created.error.message}` };
  }

  /** Whether a Backup with this UID and time is still to be reported. */
  isPending(uid: string, at: string): boolean {
    return this.loaded && !this.entries.has(uid) && time(at) > this.horizon;
  }

  get size(): number {
    return this.entries.size;
  }

  get horizonIso(): string {
    return new Date(this.horizon).toISOString();
  }

  /**
   * Records `add` (those still pending) with one guarded write, dropping entries for Backups not in
   * `live` (pass it only from a synced informer) and entries at or before the advanced horizon.
   */
  async commit(add: CheckpointEntry[], live?: ReadonlySet<string>): Promise<Result<CommitResult, string>> {
    if (!this.loaded) return { ok: false, error: "checkpoint not loaded" };
    let last = "";
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      const toAdd = add.filter((e) => this.isPending(e.uid, e.at));
      const skipped = add.filter((e) => !toAdd.includes(e)).map((e) => e.uid);
      if (toAdd.length === 0) return { ok: true, value: { added: [], skipped } };
      const next = new Map(this.entries);
      for (const e of toAdd) next.set(e.uid, { name: e.name, at: e.at });
      const horizon = this.prune(next, live);
      const body = this.encode(next, horizon);
      body.metadata.resourceVersion = this.resourceVersion;
      const r = await this.store.replaceConfigMap(body);
      if (r.ok) {
        this.adopt(r.value);
        // entries pruned by the horizon this write advanced are not "added" if they fell behind it
        const added = toAdd.filter((e) => this.entries.has(e.uid)).map((e) => e.uid);
        return {
          ok: true,
          value: {
            added,
            skipped: [...skipped, ...toAdd.filter((e) => !added.includes(e.uid)).map((e) => e.uid)],
          },
        };
      }
      last = r.error.message;
      if (r.error.code === 409 || r.error.code === 404) {
        // someone else wrote (or deleted it): re-read and decide again against their data
        const reloaded = await this.load();
        if (!reloaded.ok) last = reloaded.error;
        continue;
      }
      await sleep(Math.min(10_000, this.backoffMs * 2 ** attempt));
    }
    return { ok: false, error: `updating checkpoint ConfigMap ${this.where()}: ${last}` };
  }

  /** Drops what can never matter again; returns the (possibly advanced) horizon. */
  private prune(entries: Map<string, { name: string; at: string }>, live?: ReadonlySet<string>): number {
    let horizon = Math.max(this.horizon, this.now().getTime() - this.maxAgeMs);
    if (live) for (const uid of [...entries.keys()]) if (!live.has(uid)) entries.delete(uid);
    for (const [uid, e] of entries) if (time(e.at) <= horizon) entries.delete(uid);
    // over budget: move the horizon past the oldest entries until it fits
    let bytes = JSON.stringify(Object.fromEntries(entries)).length;
    if (bytes > this.maxBytes) {
      const byAge = [...entries].sort((a, b) => time(a[1].at) - time(b[1].at));
      for (const [uid, e] of byAge) {
        if (bytes <= this.maxBytes) break;
        horizon = Math.max(horizon, time(e.at));
        entries.delete(uid);
        bytes -= JSON.stringify({ [uid]: e }).length - 1; // the entry, less the braces, plus its comma
      }
      for (const [uid, e] of entries) if (time(e.at) <= horizon) entries.delete(uid);
    }
    return horizon;
  }

  private encode(entries: Map<string, { name: string; at: string }>, horizon: number): ConfigMapObject {
    return checkpointConfigMap(this.opts, "companion-checkpoint", {
      format: FORMAT,
      horizon: new Date(horizon).toISOString(),
      processed: JSON.stringify(Object.fromEntries(entries)),
    });
  }

  private adopt(cm: ConfigMapObject): { created: boolean; notice?: string } {
    this.resourceVersion = cm.metadata.resourceVersion;
    this.loaded = true;
    const data = cm.data ?? {};
    const horizon = time(data.horizon ?? "");
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.processed ?? "{}");
    } catch {
      parsed = undefined;
    }
    const valid = horizon > 0 && typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
    if (!valid) {
      // Unreadable (edited by hand?): report nothing from before now rather than everything again.
      this.entries = new Map();
      this.horizon = Math.max(this.horizon, fromThisSecond(this.now()));
      return {
        created: false,
        notice: `checkpoint ConfigMap ${this.where()} was unreadable; Backups finished before now are not reported`,
      };
    }
    const entries = new Map<string, { name: string; at: string }>();
    for (const [uid, e] of Object.entries(parsed as Record<string, unknown>)) {
      const v = e as { name?: unknown; at?: unknown };
      if (typeof v?.at === "string")
        entries.set(uid, { name: typeof v.name === "string" ? v.name : "", at: v.at });
    }
    this.entries = entries;
    // never move backwards, even if someone wrote an older horizon
    this.horizon = Math.max(this.horizon, horizon);
    return { created: false };
  }

  private where(): string {
    return `${this.opts.namespace}/${this.opts.name}`;
  }
}

/** The instant a Backup is judged by: completion, else start, else creation. */
export function backupTime(b: {
  metadata: { creationTimestamp?: string };
  status?: { completionTimestamp?: string; startTimestamp?: string };
}): string {
  return b.status?.completionTimestamp ?? b.status?.startTimestamp ?? b.metadata.creationTimestamp ?? "";
}
