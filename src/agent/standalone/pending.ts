// Crash safety: before a block's pre hooks start, the pods that will need post hooks are written on
// the Backup (annotation hookguard.io/pending-post-hooks, JSON); after the post hooks they are
// removed. A recovering agent runs what is left (recovery.ts). Blocks run concurrently, so the
// annotation holds the union of all in-flight blocks and patches are serialised.
import type { Logger } from "../../log.js";
import { OWNER_ANNOTATION, type Result } from "../../domain/index.js";
import type { AgentCluster } from "../ports.js";

export const PENDING_ANNOTATION = "hookguard.io/pending-post-hooks";
/** the claim's annotation; defined in the domain, where the CLI reads it too */
export { OWNER_ANNOTATION };

export interface PendingPod {
  namespace: string;
  pod: string;
  block: number;
}

export function parsePending(value: string | undefined): Result<PendingPod[], string> {
  if (value === undefined || value === "") return { ok: true, value: [] };
  try {
    const parsed = JSON.parse(value) as unknown;
    if (!Array.isArray(parsed)) return { ok: false, error: `${PENDING_ANNOTATION} is not a JSON list` };
    const pods: PendingPod[] = [];
    for (const p of parsed) {
      const e = p as Partial<PendingPod>;
      if (typeof e?.namespace !== "string" || typeof e.pod !== "string")
        return { ok: false, error: `${PENDING_ANNOTATION} has an entry without namespace/pod` };
      pods.push({ namespace: e.namespace, pod: e.pod, block: typeof e.block === "number" ? e.block : -1 });
    }
    return { ok: true, value: pods };
  } catch (err) {
    return { ok: false, error: `${PENDING_ANNOTATION} is not valid JSON: ${(err as Error).message}` };
  }
}

export class PendingRecord {
  private readonly byBlock = new Map<number, PendingPod[]>();
  /** the write in flight, if any */
  private inFlight: Promise<void> | undefined;
  /** callers waiting for a write that includes their change (joined while another was in flight) */
  private waiters: Array<(r: Result<void, string>) => void> = [];

  constructor(
    private readonly cluster: AgentCluster,
    private readonly namespace: string,
    private readonly name: string,
    private readonly logger: Logger,
  ) {}

  /** Persists the block's pods; resolves only once the API server has a record that includes them. */
  add(block: number, pods: Array<{ namespace: string; name: string }>): Promise<Result<void, string>> {
    this.byBlock.set(
      block,
      pods.map((p) => ({ namespace: p.namespace, pod: p.name, block })),
    );
    return this.flush();
  }

  remove(block: number): Promise<Result<void, string>> {
    if (!this.byBlock.delete(block)) return Promise.resolve({ ok: true, value: undefined });
    return this.flush();
  }

  /**
   * Writes are coalesced: while one is in flight, every change made meanwhile is carried by a single
   * next write of the then-current state (with 16 workers, one PATCH per change would queue up).
   */
  private flush(): Promise<Result<void, string>> {
    const done = new Promise<Result<void, string>>((resolve) => this.waiters.push(resolve));
    if (!this.inFlight) this.inFlight = this.drain();
    return done;
  }

  private async drain(): Promise<void> {
    while (this.waiters.length > 0) {
      const batch = this.waiters;
      this.waiters = [];
      const result = await this.write();
      for (const resolve of batch) resolve(result);
    }
    this.inFlight = undefined;
  }

  private async write(): Promise<Result<void, string>> {
    const all = [...this.byBlock.values()].flat();
    // null removes the annotation (JSON merge patch)
    const value = all.length > 0 ? JSON.stringify(all) : null;
    const r = await this.cluster.patchBackupMetadata(this.namespace, this.name, {
      annotations: { [PENDING_ANNOTATION]: value },
    });
    if (r.ok) return { ok: true, value: undefined };
    this.logger.warn({ backup: this.name, err: r.error }, "could not update the pending post hook record");
    return { ok: false, error: r.error.message };
  }
}
