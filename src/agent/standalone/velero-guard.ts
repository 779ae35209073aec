// Standalone mode's guard against running beside a Velero server: before each claim, is one working
// in --namespace? (Velero claims the same Backups; see src/velero/server-detect.ts.) The answer is
// cached for at most 30 s. When one is found the agent claims nothing, says why and what to do in
// an error log and an Event, and sets hookguard_velero_server_detected to 1. A failed read also
// claims nothing: not knowing is no licence to race Velero.
import type { Logger } from "../../log.js";
import type { AgentCluster } from "../ports.js";
import type { AgentMetrics } from "../runtime/metrics.js";
import { detectVeleroServer } from "../../velero/server-detect.js";

export const VELERO_CHECK_CACHE_MS = 30_000;

export type ClaimPermission = { ok: true } | { ok: false; reason: string };

export class VeleroServerGuard {
  private cached: { at: number; answer: ClaimPermission } | undefined;
  private inflight: Promise<ClaimPermission> | undefined;
  /** the last reason reported, so a persisting condition logs and emits once per change */
  private reported: string | undefined;

  constructor(
    private readonly deps: { cluster: AgentCluster; metrics: AgentMetrics; logger: Logger },
    private readonly namespace: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** May a Backup be claimed now? `backup` names the Backup the Event is about. */
  async mayClaim(backup: { namespace: string; name: string; uid?: string }): Promise<ClaimPermission> {
    const t = this.now().getTime();
    if (!this.cached || t - this.cached.at > VELERO_CHECK_CACHE_MS) {
      this.inflight ??= this.check().finally(() => (this.inflight = undefined));
      this.cached = { at: t, answer: await this.inflight };
    }
    const answer = this.cached.answer;
    if (!answer.ok && this.reported !== answer.reason) {
      this.reported = answer.reason;
      this.deps.logger.error(
        { namespace: this.namespace, reason: answer.reason },
        `standalone mode claims no Backup in namespace ${this.namespace}: ${answer.reason}. Velero claims every new Backup there too, and a Backup hookguard took would never reach Velero's storage. Run the agent with --mode companion (chart: agent.mode=companion), or use standalone in a namespace without Velero.`,
      );
      await this.deps.cluster.createEvent(
        { apiVersion: "velero.io/v1", kind: "Backup", ...backup },
        "Warning",
        "VeleroServerDetected",
        `hookguard (standalone) did not claim this Backup: ${answer.reason}; use --mode companion beside Velero`,
      );
    }
    if (answer.ok) this.reported = undefined;
    return answer;
  }

  private async check(): Promise<ClaimPermission> {
    const signals = await this.deps.cluster.readVeleroServerSignals(this.namespace);
    if (!signals.ok) {
      this.deps.metrics.veleroServerDetected.set(0);
      return {
        ok: false,
        reason: `cannot tell whether a Velero server runs here (${signals.error.message})`,
      };
    }
    const verdict = detectVeleroServer(signals.value, this.now());
    this.deps.metrics.veleroServerDetected.set(verdict.detected ? 1 : 0);
    return verdict.detected
      ? { ok: false, reason: `a Velero server works in this namespace (${verdict.reason})` }
      : { ok: true };
  }
}
