// Is a Velero server working in this namespace? Standalone mode must never claim a Backup there:
// Velero claims every new Backup of its namespace and nothing lets it skip one, so the two would
// race and a Backup hookguard wins never reaches Velero's storage. Pure: the caller reads the
// signals (docs/velero-companion.md, section 3) and passes the time.
import { nanosToMillis, parseGoDuration } from "../domain/index.js";

export interface VeleroServerSignals {
  storageLocations: Array<{ name: string; lastValidationTime?: string; validationFrequency?: string }>;
  /** Deployments labelled component=velero (both `velero install` and Velero's Helm chart set it) */
  deployments: Array<{ name: string; replicas?: number; availableReplicas?: number }>;
  /** pods labelled component=velero, deploy=velero or name=velero */
  pods: Array<{ name: string; phase?: string }>;
}

export type VeleroServerVerdict = { detected: false } | { detected: true; reason: string };

/** Velero's default --store-validation-frequency. */
const DEFAULT_VALIDATION_MS = 60_000;
/** A heartbeat younger than this many validation periods means a live server. */
const PERIODS = 3;

function validationPeriodMs(frequency: string | undefined): number | undefined {
  if (frequency === undefined || frequency === "") return DEFAULT_VALIDATION_MS;
  const d = parseGoDuration(frequency);
  if (!d.ok || d.value < 0) return DEFAULT_VALIDATION_MS; // Velero falls back to the server's flag
  if (d.value === 0) return undefined; // validation disabled: the time says nothing about liveness
  return nanosToMillis(d.value);
}

export function detectVeleroServer(signals: VeleroServerSignals, now: Date): VeleroServerVerdict {
  for (const bsl of signals.storageLocations) {
    const at = Date.parse(bsl.lastValidationTime ?? "");
    const period = validationPeriodMs(bsl.validationFrequency);
    if (Number.isNaN(at) || period === undefined) continue;
    const age = now.getTime() - at;
    if (age < PERIODS * period) {
      return {
        detected: true,
        reason: `BackupStorageLocation ${bsl.name} was validated by a Velero server ${Math.max(0, Math.round(age / 1000))}s ago`,
      };
    }
  }
  for (const d of signals.deployments) {
    const replicas = Math.max(d.replicas ?? 0, d.availableReplicas ?? 0);
    if (replicas > 0)
      return {
        detected: true,
        reason: `Deployment ${d.name} (component=velero) runs ${replicas} replica(s)`,
      };
  }
  for (const p of signals.pods) {
    if (p.phase === "Running" || p.phase === "Pending")
      return { detected: true, reason: `Velero server pod ${p.name} is ${p.phase}` };
  }
  return { detected: false };
}
