// The HTTPS server around the express app: TLS 1.2 minimum, serving pair hot-reloaded from the cert
// dir for new connections (tls.Server#setSecureContext: existing connections keep their session),
// readiness that dials itself over TLS (controller-runtime StartedChecker), and a bounded drain on stop.
import { createServer, type Server } from "node:https";
import { connect } from "node:tls";
import type { AddressInfo } from "node:net";
import type { Logger } from "../log.js";
import { loadPair, type LoadedPair } from "../tls/cert-dir.js";
import { CertReloader } from "../tls/reloader.js";
import type { WebhookMetrics } from "../admission/metrics.js";
import type { ValidateDeps } from "../admission/validate.js";
import { appMessageClasses, createApp } from "./app.js";

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
}

const MIN_TLS = "TLSv1.2" as const;

export class WebhookServer {
  #opts: WebhookServerOptions;
  #server: Server | undefined;
  #reloader: CertReloader | undefined;
  #stopping = false;

  constructor(opts: WebhookServerOptions) {
    this.#opts = opts;
  }

  /** Loads the pair (which must exist: generate dev certs first) and listens. */
  async start(): Promise<{ port: number }> {
    const { certDir, log, metrics } = this.#opts;
    const loaded = loadPair(certDir);
    if (!loaded.ok) throw new Error(loaded.error);
    metrics.setCertExpiry("serving", loaded.value.notAfter);
    const deps = { ...this.#opts, ready: () => this.ready() };
    const app = createApp(deps);
    const server = createServer({ cert: loaded.value.certPem, key: loaded.value.keyPem, minVersion: MIN_TLS, ...appMessageClasses(app) }, app);
    // Bound slow clients so a stalled body cannot hold a connection (and a drain) forever.
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    server.keepAliveTimeout = 60_000;
    this.#reloader = new CertReloader(certDir, loaded.value, {
      pollMs: this.#opts.certPollMs ?? 10_000,
      onReload: (pair) => this.#adopt(pair),
      onError: (message) => log.warn({ certDir }, `certificate reload skipped, keeping the current pair: ${message}`),
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
    return { port: this.port };
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
    this.#opts.log.info({ serial: pair.serial, notAfter: pair.notAfter.toISOString() }, "serving certificate reloaded");
  }

  /** Ready when listening, not stopping, and a TLS handshake with ourselves succeeds. */
  async ready(): Promise<{ ok: boolean; reason?: string }> {
    if (!this.#server?.listening || this.#stopping) return { ok: false, reason: this.#stopping ? "shutting down" : "not listening" };
    const host = ["0.0.0.0", "::", ""].includes(this.#opts.host) ? "127.0.0.1" : this.#opts.host;
    return new Promise((resolve) => {
      const socket = connect({ host, port: this.port, servername: "localhost", rejectUnauthorized: false, minVersion: MIN_TLS });
      const timer = setTimeout(() => done({ ok: false, reason: "TLS handshake with itself timed out" }), 2000);
      function done(r: { ok: boolean; reason?: string }): void {
        clearTimeout(timer);
        socket.destroy();
        resolve(r);
      }
      socket.once("secureConnect", () => done({ ok: true }));
      socket.once("error", (err) => done({ ok: false, reason: `TLS handshake with itself failed: ${err.message}` }));
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
