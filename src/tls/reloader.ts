// Hot reload of the serving pair, in the manner of controller-runtime's certwatcher: watch the cert
// dir (not the files: Kubernetes Secret volumes and cert-manager swap a `..data` symlink atomically,
// which replaces the directory entries and leaves a watch on the old file inode silent), re-read on
// any event after a short debounce, and poll as a backstop for file systems without inotify.
// A pair that fails to load (half-written, key and cert mismatched) is ignored until the next event
// or poll: the server keeps serving the last good pair, so in-flight and new requests never fail.
import { watch, type FSWatcher } from "node:fs";
import { loadPair, type LoadedPair } from "./cert-dir.js";

export interface ReloaderOptions {
  onReload: (pair: LoadedPair) => void;
  onError?: (message: string) => void;
  /** Backstop poll period; 0 disables polling. */
  pollMs?: number;
  debounceMs?: number;
}

export class CertReloader {
  #dir: string;
  #current: LoadedPair;
  #opts: ReloaderOptions;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #lastError = "";

  constructor(dir: string, initial: LoadedPair, opts: ReloaderOptions) {
    this.#dir = dir;
    this.#current = initial;
    this.#opts = opts;
  }

  get current(): LoadedPair {
    return this.#current;
  }

  start(): void {
    try {
      this.#watcher = watch(this.#dir, { persistent: false }, () => this.#schedule());
      this.#watcher.on("error", (err) => this.#report(`watching ${this.#dir} failed: ${err.message}; polling only`));
    } catch (err) {
      this.#report(`cannot watch ${this.#dir}: ${(err as Error).message}; polling only`);
    }
    const pollMs = this.#opts.pollMs ?? 10_000;
    if (pollMs > 0) {
      this.#poll = setInterval(() => this.check(), pollMs);
      this.#poll.unref();
    }
  }

  stop(): void {
    this.#watcher?.close();
    if (this.#debounce) clearTimeout(this.#debounce);
    if (this.#poll) clearInterval(this.#poll);
    this.#watcher = this.#debounce = this.#poll = undefined;
  }

  /** Re-reads the pair now; returns whether a new pair was adopted. */
  check(): boolean {
    const loaded = loadPair(this.#dir);
    if (!loaded.ok) {
      this.#report(loaded.error);
      return false;
    }
    this.#lastError = "";
    const next = loaded.value;
    if (next.certPem === this.#current.certPem && next.keyPem === this.#current.keyPem) return false;
    this.#current = next;
    this.#opts.onReload(next);
    return true;
  }

  #schedule(): void {
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      this.check();
    }, this.#opts.debounceMs ?? 50);
    this.#debounce.unref();
  }

  #report(message: string): void {
    // Report each distinct problem once, not on every poll.
    if (message === this.#lastError) return;
    this.#lastError = message;
    this.#opts.onError?.(message);
  }
}
