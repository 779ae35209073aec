// Hooks on one pod never overlap, even across two Backups running at once (Velero does nothing to
// prevent that; a second fsfreeze --freeze on a frozen filesystem fails or, worse, a second backup's
// unfreeze thaws the first one's snapshot window). One process-wide instance, keyed by namespace/pod.

export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs fn when no other holder of `key` is running; holders run in arrival order. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      // drop the entry when nobody queued behind us, so the map does not grow with every pod ever seen
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /**
   * Holds several keys at once for the duration of fn. Keys are taken in sorted order, so two
   * holders that need overlapping sets can never deadlock.
   */
  async runAll<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const step = (i: number): Promise<T> =>
      i === sorted.length ? fn() : this.run(sorted[i]!, () => step(i + 1));
    return step(0);
  }

  /** Number of keys currently held or waited for (for tests and diagnostics). */
  get size(): number {
    return this.tails.size;
  }
}

export const podKey = (namespace: string, name: string): string => `${namespace}/${name}`;
/**
 * A pod's freeze session: held from a block's pre hooks to its post hooks, so a second Backup
 * cannot run its pre hooks (a second fsfreeze --freeze) between another Backup's freeze and thaw.
 */
export const podSessionKey = (namespace: string, name: string): string => `session:${namespace}/${name}`;
