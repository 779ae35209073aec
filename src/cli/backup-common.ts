// What every `hookguard backup ...` subcommand shares: usage errors (exit 2), the cluster client,
// and the wrapper that turns a thrown error into a message and an exit code.
import { createLogger } from "../log.js";
import type { Command } from "commander";
import { KubeconfigError, describeAccess, loadClusterAccess } from "../kube/config.js";
import { createAgentCluster } from "../kube/agent-cluster.js";
import type { AgentCluster } from "../agent/ports.js";
import { EXIT_FAILED, EXIT_USAGE, printError } from "./exit.js";

/** A mistake in the command line or its input files: exit code 2. */
export class UsageError extends Error {}

/** The flags of every command that talks to a cluster. */
export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  verbose?: boolean;
}

/** Adds --kubeconfig, --context and -v/--verbose, with kubectl's meaning. */
export function clusterOptions(cmd: Command): Command {
  return cmd
    .option(
      "--kubeconfig <path>",
      "kubeconfig file (default: $KUBECONFIG, a list of files, then ~/.kube/config, then in-cluster)",
    )
    .option("--context <name>", "kubeconfig context to use (default: its current-context)")
    .option("-v, --verbose", "say which context and API server the command uses (on stderr)");
}

/** The kubeconfig a command uses (kubectl's rules); says which with -v. */
export function loadAccess(flags: ClusterFlags): NonNullable<ReturnType<typeof loadClusterAccess>> {
  let access;
  try {
    access = loadClusterAccess({ kubeconfig: flags.kubeconfig, context: flags.context });
  } catch (err) {
    if (err instanceof KubeconfigError) throw new UsageError(err.message);
    throw err;
  }
  if (!access)
    throw new UsageError(
      "no cluster access: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run in a pod",
    );
  if (flags.verbose) process.stderr.write(`Using ${describeAccess(access)}\n`);
  return access;
}

/** A one-shot command retries a transient API error a little, then says so (3 attempts). */
export const ONE_SHOT_RETRY = { attempts: 3 };

export function openCluster(flags: ClusterFlags): AgentCluster {
  return createAgentCluster(loadAccess(flags).kc, createLogger({ level: "warn" }), ONE_SHOT_RETRY);
}

/** Runs a subcommand: its number is the exit code; a throw prints `error: <message>` and exits 2 (usage) or 1. */
export async function guarded(fn: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await fn();
  } catch (err) {
    printError((err as Error).message);
    process.exitCode = err instanceof UsageError ? EXIT_USAGE : EXIT_FAILED;
  }
}
