// What every `hookguard backup ...` subcommand shares: usage errors (exit 2), the cluster client,
// and the wrapper that turns a thrown error into a message and an exit code.
import { createLogger } from "../log.js";
import { loadClusterAccess } from "../kube/config.js";
import { createAgentCluster } from "../kube/agent-cluster.js";
import type { AgentCluster } from "../agent/ports.js";

/** A mistake in the command line or its input files: exit code 2. */
export class UsageError extends Error {}

/** A one-shot command retries a transient API error a little, then says so (3 attempts). */
export function openCluster(kubeconfig: string | undefined): AgentCluster {
  const access = loadClusterAccess(kubeconfig);
  if (!access) throw new UsageError("no cluster access: pass --kubeconfig, set KUBECONFIG, or run in a pod");
  return createAgentCluster(access.kc, createLogger({ level: "warn" }), { attempts: 3 });
}

/** Runs a subcommand: its number is the exit code; a throw prints `<prefix><message>` and exits 2 (usage) or 1. */
export async function guarded(prefix: string, fn: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await fn();
  } catch (err) {
    process.stderr.write(`${prefix}${(err as Error).message}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}
