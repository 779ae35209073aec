// The HTTPS server around the express app: TLS 1.2 minimum, serving pair hot-reloaded from the cert
// dir for new connections (tls.Server#setSecureContext: existing connections keep their session),
// slow clients and connection counts bounded (connection-limits.ts), readiness that waits for the
// warm-up and dials itself over TLS (controller-runtime StartedChecker), and a bounded drain on stop.
import { createServer, type Server } from "node:https";
import { connect } from "node:tls";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import type { Logger } from "../log.js";
import { loadPair, type LoadedPair } from "../tls/cert-dir.js";
import { CertReloader } from "../tls/reloader.js";
import type { WebhookMetrics } from "../admission/metrics.js";
import type { ValidateDeps } from "../admission/validate.js";
import { appMessageClasses, createApp } from "./app.js";
import { DEFAULT_LIMITS, type ConnectionLimits } from "./connection-limits.js";
import { warmUp, warmupToken, type WarmupResult } from "./warmup.js";

export interface WebhookServerOptions {
  host: string;
  port: number;
  certDir: string;
  metrics: WebhookMetrics;
  log: Logger;
  validate: ValidateDeps;
  /** Backstop poll for certificate changes (the directory watch is the primary signal). */
  certPollMs?: number;
  maxRequestBytes?: number;
  /** Bounds on slow clients and connection counts; unset fields keep DEFAULT_LIMITS. */
  limits?: Partial<ConnectionLimits>;
  /** Rounds of representative reviews sent through the server before it reports ready (default 40). */
  warmupRounds?: number;
}

const MIN_TLS = "TLSv1.2" as const;

export class WebhookServer {
  #opts: WebhookServerOptions;
  #server: Server | undefined;
  #reloader: CertReloader | undefined;
  #stopping = false;
  #token = warmupToken();
  /** The running or last warm-up; ready once one succeeded. */
  #warmup: Promise<WarmupResult> | undefined;
  #warm: WarmupResult | undefined;
  #droppedSince = 0;
  #dropLogged = 0;

  constructor(opts: WebhookServerOptions) {
    this.#opts = opts;
  }

  /** Loads the pair (which must exist: generate dev certs first) and listens. */
  async start(): Promise<{ port: number }> {
    const { certDir, log, metrics } = this.#opts;
    const loaded = loadPair(certDir);
    if (!loaded.ok) throw new Error(loaded.error);
    metrics.setCertExpiry("serving", loaded.value.notAfter);
    const deps = { ...this.#opts, warmupToken: this.#token, ready: () => this.ready() };
    const { app, listener } = createApp(deps);
    const limits = { ...DEFAULT_LIMITS, ...this.#opts.limits };
    const server = createServer(
      {
        cert: loaded.value.certPem,
        key: loaded.value.keyPem,
        minVersion: MIN_TLS,
        handshakeTimeout: limits.handshakeTimeoutMs,
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        connectionsCheckingInterval: limits.checkIntervalMs,
        ...appMessageClasses(app),
      },
      listener,
    );
    server.maxConnections = limits.maxConnections;
    server.on("drop", () => this.#dropped(limits.maxConnections));
    this.#reloader = new CertReloader(certDir, loaded.value, {
      pollMs: this.#opts.certPollMs ?? 10_000,
      onReload: (pair) => this.#adopt(pair),
      onError: (message) =>
        log.warn({ certDir }, `certificate reload skipped, keeping the current pair: ${message}`),
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#opts.port, this.#opts.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.#server = server;
    this.#reloader.start();
    this.#startWarmup();
    return { port: this.port };
  }

  /** Resolves when the current warm-up ends (readiness waits for a successful one). */
  warmedUp(): Promise<WarmupResult> {
    return this.#warmup ?? Promise.resolve({ ok: false, error: "not started" });
  }

  /** Open connections on the admission port (handshaking ones included). */
  connections(): Promise<number> {
    const server = this.#server;
    if (!server) return Promise.resolve(0);
    return new Promise((resolve, reject) =>
      server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
    );
  }

  /**
   * Sends representative reviews through this server's own HTTPS port (warmup.ts) so that the first
   * real burst meets optimized code on the path it takes rather than the interpreter.
   */
  #startWarmup(): void {
    const started = performance.now();
    const rounds = this.#opts.warmupRounds ?? 40;
    this.#warmup = warmUp({ host: this.#selfHost(), port: this.port, token: this.#token, rounds }).then(
      (r) => {
        this.#warm = r;
        if (this.#stopping) return r;
        if (r.ok)
          this.#opts.log.info(
            { reviews: r.value.reviews, ms: Math.round(performance.now() - started) },
            "warmed up: representative reviews validated through the server; ready",
          );
        else this.#opts.log.error({ err: r.error }, "warm-up failed; not ready until a retry succeeds");
        return r;
      },
    );
  }

  #dropped(max: number): void {
    // Logged at most once per 10 s: a flood of connections must not become a flood of log lines.
    this.#droppedSince++;
    const now = Date.now();
    if (now - this.#dropLogged < 10_000) return;
    this.#opts.log.warn(
      { maxConnections: max, dropped: this.#droppedSince },
      "connection limit reached: new connections are closed (--max-connections)",
    );
    this.#dropLogged = now;
    this.#droppedSince = 0;
  }

  #selfHost(): string {
    return ["0.0.0.0", "::", ""].includes(this.#opts.host) ? "127.0.0.1" : this.#opts.host;
  }

  get port(): number {
    return (this.#server?.address() as AddressInfo | null)?.port ?? 0;
  }

  /** The serving pair in use. */
  get pair(): LoadedPair | undefined {
    return this.#reloader?.current;
  }

  /** Re-reads the cert dir now (tests, SIGHUP); returns whether a new pair was adopted. */
  reloadCertificates(): boolean {
    return this.#reloader?.check() ?? false;
  }

  #adopt(pair: LoadedPair): void {
    this.#server?.setSecureContext({ cert: pair.certPem, key: pair.keyPem, minVersion: MIN_TLS });
    this.#opts.metrics.setCertExpiry("serving", pair.notAfter);
    this.#opts.log.info(
      { serial: pair.serial, notAfter: pair.notAfter.toISOString() },
      "serving certificate reloaded",
    );
  }

  /** Ready when listening, not stopping, warmed up, and a TLS handshake with ourselves succeeds. */
  async ready(): Promise<{ ok: boolean; reason?: string }> {
    if (!this.#server?.listening || this.#stopping)
      return { ok: false, reason: this.#stopping ? "shutting down" : "not listening" };
    if (!this.#warm) return { ok: false, reason: "warming up: validating representative reviews" };
    if (!this.#warm.ok) {
      // Retried on the next probe: a warm-up can fail for a passing reason (connection limit reached).
      const reason = `warm-up failed (${this.#warm.error}); retrying`;
      this.#warm = undefined;
      this.#startWarmup();
      return { ok: false, reason };
    }
    const host = this.#selfHost();
    return new Promise((resolve) => {
      const socket = connect({
        host,
        port: this.port,
        servername: "localhost",
        rejectUnauthorized: false,
        minVersion: MIN_TLS,
      });
      const timer = setTimeout(
        () => done({ ok: false, reason: "TLS handshake with itself timed out" }),
        2000,
      );
      function done(r: { ok: boolean; reason?: string }): void {
        clearTimeout(timer);
        socket.destroy();
        resolve(r);
      }
      socket.once("secureConnect", () => done({ ok: true }));
      socket.once("error", (err) =>
        done({ ok: false, reason: `TLS handshake with itself failed: ${err.message}` }),
      );
    });
  }

  /**
   * Stops accepting, lets in-flight requests finish (idle keep-alive connections are closed as soon
   * as they are idle), and after `drainMs` closes whatever is left.
   */
  async stop(drainMs = 10_000): Promise<{ forced: boolean }> {
    const server = this.#server;
    this.#stopping = true;
    this.#reloader?.stop();
    if (!server) return { forced: false };
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const sweep = setInterval(() => server.closeIdleConnections(), 25);
    let forced = false;
    const deadline = new Promise<void>((resolve) =>
      setTimeout(() => {
        forced = true;
        server.closeAllConnections();
        resolve();
      }, drainMs).unref(),
    );
    await Promise.race([closed, deadline]);
    clearInterval(sweep);
    await closed;
    this.#server = undefined;
    return { forced };
  }
}
