// Webhook metrics in their own prom-client Registry (never the global default), so tests read real
// values and the metrics port shows nothing another module registered by accident. Label values
// are bounded sets: no pod or object names, and resources/operations outside the handled set are
// folded into "other" so a misrouted or malicious request cannot grow the series count.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { VERSION } from "../version.js";
import { HOOKED_KINDS } from "../domain/index.js";

export type WebhookName = "validate" | "mutate";
export type Decision = "allowed" | "denied" | "errored";
export type AuthzDecision = "allowed" | "denied" | "error" | "skipped";

const KNOWN_RESOURCES = new Set(HOOKED_KINDS.map((k) => k.resource));
const KNOWN_OPERATIONS = new Set(["CREATE", "UPDATE", "DELETE", "CONNECT"]);
const KNOWN_KINDS = new Set(HOOKED_KINDS.map((k) => k.kind));

/**
 * prom-client's default collectors include `nodejs_active_{handles,requests,resources}_total`:
 * gauges with a `_total` suffix, which `promtool check metrics` rejects (counters only may end in
 * `_total`). The same numbers are exported without the suffix per type, so these three are dropped.
 */
const NON_CONFORMING_DEFAULTS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

export class WebhookMetrics {
  readonly registry: Registry;
  readonly requests: Counter<"webhook" | "resource" | "operation" | "decision">;
  readonly duration: Histogram<"webhook">;
  readonly warnings: Counter<"webhook">;
  readonly panics: Counter;
  readonly authz: Counter<"decision">;
  readonly controllerCopies: Counter<"kind">;
  readonly wouldDeny: Counter<"kind">;
  readonly certExpiry: Gauge<"certificate">;
  // Hot-path caches: prom-client hashes label objects on every call; a child per label set does it once.
  #requestChildren = new Map<string, { inc(n?: number): void }>();
  #durationChildren = new Map<string, { observe(v: number): void }>();

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registry = (this.registry = new Registry());
    this.requests = new Counter({
      name: "hookguard_admission_requests_total",
      help: "Admission requests answered, by webhook, resource, operation and decision.",
      labelNames: ["webhook", "resource", "operation", "decision"],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: "hookguard_admission_duration_seconds",
      help: "Time from the request's arrival to its answer being written, by webhook.",
      labelNames: ["webhook"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    });
    this.warnings = new Counter({
      name: "hookguard_admission_warnings_total",
      help: "Warnings returned to clients, by webhook.",
      labelNames: ["webhook"],
      registers: [registry],
    });
    this.panics = new Counter({
      name: "hookguard_admission_panics_total",
      help: "Unexpected exceptions caught while handling an admission request (answered 500).",
      registers: [registry],
    });
    this.authz = new Counter({
      name: "hookguard_admission_authz_total",
      help: "pods/exec permission checks for users setting hooks, by decision.",
      labelNames: ["decision"],
      registers: [registry],
    });
    this.controllerCopies = new Counter({
      name: "hookguard_admission_controller_copies_total",
      help: "Controller copies (owned objects, scheduled Backups, template-copying controllers' requests) admitted with warnings instead of denied, by kind.",
      labelNames: ["kind"],
      registers: [registry],
    });
    this.wouldDeny = new Counter({
      name: "hookguard_admission_would_deny_total",
      help: "Requests admitted with warnings because --enforcement is warn, which deny mode would have refused, by kind.",
      labelNames: ["kind"],
      registers: [registry],
    });
    this.certExpiry = new Gauge({
      name: "hookguard_certificate_expiry_timestamp_seconds",
      help: "Expiry (Unix seconds) of the certificate in use, by certificate (serving or ca).",
      labelNames: ["certificate"],
      registers: [registry],
    });
    new Gauge({
      name: "hookguard_build_info",
      help: "Always 1; the version label says which hookguard build is running.",
      labelNames: ["version"],
      registers: [registry],
    }).set({ version: VERSION }, 1);
    if (opts.defaultMetrics !== false) {
      collectDefaultMetrics({ register: registry });
      for (const name of NON_CONFORMING_DEFAULTS) registry.removeSingleMetric(name);
    }
    for (const decision of ["allowed", "denied", "error", "skipped"] as const)
      this.authz.inc({ decision }, 0);
    this.panics.inc(0);
  }

  countRequest(webhook: WebhookName, resource: string, operation: string, decision: Decision): void {
    const r = KNOWN_RESOURCES.has(resource) ? resource : "other";
    const o = KNOWN_OPERATIONS.has(operation) ? operation : "other";
    const key = `${webhook}|${r}|${o}|${decision}`;
    let child = this.#requestChildren.get(key);
    if (!child) {
      child = this.requests.labels(webhook, r, o, decision);
      this.#requestChildren.set(key, child);
    }
    child.inc();
  }

  countControllerCopy(kind: string): void {
    this.controllerCopies.inc({ kind: KNOWN_KINDS.has(kind) ? kind : "other" });
  }

  countWouldDeny(kind: string): void {
    this.wouldDeny.inc({ kind: KNOWN_KINDS.has(kind) ? kind : "other" });
  }

  observeDuration(webhook: WebhookName, seconds: number): void {
    let child = this.#durationChildren.get(webhook);
    if (!child) {
      child = this.duration.labels(webhook);
      this.#durationChildren.set(webhook, child);
    }
    child.observe(seconds);
  }

  setCertExpiry(certificate: "serving" | "ca", notAfter: Date): void {
    this.certExpiry.set({ certificate }, Math.floor(notAfter.getTime() / 1000));
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
