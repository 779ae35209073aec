// Hot reload of the serving pair, in the manner of controller-runtime's certwatcher: watch the cert
// dir (not the files: Kubernetes Secret volumes and cert-manager swap a `..data` symlink atomically,
// which replaces the directory entries and leaves a watch on the old file inode silent), re-read on
// any event after a short debounce, and poll as a backstop for file systems without inotify.
// A pair that fails to load (half-written, key and cert mismatched) is ignored until the next event
// or poll: the server keeps serving the last good pair, so in-flight and new requests never fail.
// Each check reads the two files and compares them with the pair in use (and with the last broken
// pair) before parsing: the poll finds them unchanged nearly always, and parsing the certificate
// and key and matching them blocks the event loop for 1.5-2 ms (RSA 2048, measured here), against
// under 0.3 ms for reading the two files; requests arriving meanwhile wait it out.
import { watch, type FSWatcher } from "node:fs";
import { parsePair, readPair, type LoadedPair, type PairBytes } from "./cert-dir.js";
import type { Result } from "../domain/types.js";

export interface ReloaderOptions {
  onReload: (pair: LoadedPair) => void;
  onError?: (message: string) => void;
  /** Backstop poll period; 0 disables polling. */
  pollMs?: number;
  debounceMs?: number;
  /** Parses changed bytes (default parsePair); tests count the calls through it. */
  parse?: (dir: string, bytes: PairBytes) => Result<LoadedPair>;
}

const same = (a: PairBytes | undefined, b: PairBytes): boolean =>
  a !== undefined && a.certPem === b.certPem && a.keyPem === b.keyPem;

export class CertReloader {
  #dir: string;
  #current: LoadedPair;
  #opts: ReloaderOptions;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #lastError = "";
  /** The last pair that failed to parse: the same bytes fail the same way, so they are not parsed again. */
  #rejected: PairBytes | undefined;

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
      this.#watcher.on("error", (err) =>
        this.#report(`watching ${this.#dir} failed: ${err.message}; polling only`),
      );
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
    const read = readPair(this.#dir);
    if (!read.ok) {
      this.#report(read.error);
      return false;
    }
    if (same(this.#current, read.value)) {
      this.#lastError = "";
      return false;
    }
    if (same(this.#rejected, read.value)) return false;
    const loaded = (this.#opts.parse ?? parsePair)(this.#dir, read.value);
    if (!loaded.ok) {
      this.#rejected = read.value;
      this.#report(loaded.error);
      return false;
    }
    this.#lastError = "";
    this.#rejected = undefined;
    const next = loaded.value;
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
