// `hookguard agent`: runs Backups' hooks per ItemBlock (see src/agent). Exits 2 on bad flags, 1 when
// it cannot start; SIGTERM/SIGINT stop it gracefully (no new hooks; an interrupted Backup is
// recovered by the next leader, which runs its pending post hooks).
import { Command, Option } from "commander";
import { LOG_LEVELS, createLogger } from "../log.js";
import { printError } from "./exit.js";
import { withExamples } from "./help.js";
import { describeAccess, loadClusterAccess, runningInCluster } from "../kube/config.js";
import { startAgent } from "./agent-main.js";
import { buildAgentConfig, type AgentFlags } from "../agent/runtime/config.js";

export function registerAgentCommand(program: Command): void {
  program
    .command("agent")
    .description(
      "Observe the Backups a Velero server runs (companion, default) or run velero.io/v1 Backups and Schedules itself (standalone)",
    )
    .option(
      "--mode <mode>",
      "companion: report the hooks of Backups Velero runs, never writing them; standalone: claim and run Backups (only where no Velero server runs)",
      "companion",
    )
    .option(
      "-n, --namespace <ns>",
      "namespace of Backup and Schedule objects (companion: the Velero server's namespace; also holds the Lease and checkpoint)",
      "velero",
    )
    .option(
      "--kubeconfig <path>",
      "kubeconfig file (default: $KUBECONFIG, a list of files, then ~/.kube/config, then in-cluster)",
    )
    .option("--context <name>", "kubeconfig context to use (default: its current-context)")
    .option(
      "--download-ca-file <path>",
      "companion: CA bundle (PEM) trusted for the object store's download URLs, like the velero CLI's --cacert (default: system CAs)",
    )
    .option("--metrics-port <port>", "Prometheus metrics port (0 = any free port)", "8081")
    .option(
      "--metrics-bind-address <addr>",
      "address the metrics server (and the stored files) listen on",
      "0.0.0.0",
    )
    .option(
      "--results-port <port>",
      "standalone: HTTPS port serving the stored files read-only, for `hookguard backup describe|logs|download` through the API server's service proxy (0 = any free port; the chart uses 8443)",
    )
    .option(
      "--storage-dir <dir>",
      "archives, logs and hook results (default: $HOOKGUARD_STORAGE_DIR or ./hookguard-data)",
    )
    .option("--workers <n>", "ItemBlocks processed at once", "4")
    .option(
      "--parallel-hooks",
      "run the pods' hooks of one phase concurrently inside a block (default: sequential, like Velero)",
    )
    .option(
      "--max-freeze-window <duration>",
      "standalone: longest time from a block's first pre hook to its post hooks; companion: longest time a Backup may stay InProgress before the thaw guard runs eligible post hooks (0 = no limit) (Go duration)",
      "10m",
    )
    .option(
      "--no-thaw-guard",
      "companion: never run post hooks when Velero is interrupted mid-backup (default: run the eligible ones)",
    )
    .option(
      "--volume-snapshot-class <name>",
      "create a VolumeSnapshot of each PVC of a block with this class (between pre and post hooks)",
    )
    .option(
      "--snapshot-timeout <duration>",
      "how long to wait for a VolumeSnapshot to become readyToUse (and, when deleting a Backup, to be gone; at most 1m there)",
      "5m",
    )
    .option(
      "--gc-interval <duration>",
      "standalone: how often the leader deletes expired Backups, with their snapshots and files (default 1h)",
    )
    .addOption(
      new Option(
        "--leader-elect",
        "elect a leader through a coordination.k8s.io Lease (default: on in-cluster)",
      ),
    )
    .addOption(new Option("--no-leader-elect", "process backups without leader election (single agent)"))
    .option("--lease-name <name>", "Lease name", "hookguard-agent")
    .option(
      "--leader-elect-lease-duration <duration>",
      "how long a lease is valid without renewal (like client-go)",
      "15s",
    )
    .option(
      "--leader-elect-renew-deadline <duration>",
      "a leader that cannot renew within this stops leading",
      "10s",
    )
    .option("--leader-elect-retry-period <duration>", "how often candidates try to acquire or renew", "2s")
    .option(
      "--backup-selector <selector>",
      "only process Backups with these labels (k=v, k!=v, k, !k, k in (a,b), k notin (a,b))",
    )
    .option("--identity <id>", "this agent's identity (default: hostname-pid)")
    .option("--log-level <level>", `log level (choices: ${LOG_LEVELS.join(", ")})`, "info")
    .action(async (flags: AgentFlags & { context?: string }) => {
      const cfg = buildAgentConfig(flags, process.env, runningInCluster());
      if (!cfg.ok) {
        for (const p of cfg.error) printError(p);
        process.exitCode = 2;
        return;
      }
      const logger = createLogger({ level: cfg.value.logLevel, name: "hookguard-agent" });
      let access;
      try {
        access = loadClusterAccess({ kubeconfig: cfg.value.kubeconfig, context: flags.context });
      } catch (err) {
        printError((err as Error).message);
        process.exitCode = 1;
        return;
      }
      if (!access) {
        printError(
          "no cluster access: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run in a pod",
        );
        process.exitCode = 1;
        return;
      }
      logger.info(
        { context: access.context, server: access.server, kubeconfig: access.source },
        `using ${describeAccess(access)}`,
      );
      let agent;
      try {
        agent = await startAgent(cfg.value, access.kc, logger);
      } catch (err) {
        printError(`cannot start: ${(err as Error).message}`);
        process.exitCode = 1;
        return;
      }
      const running = agent;
      await new Promise<void>((resolve) => {
        const shutdown = (signal: string): void => {
          logger.info({ signal }, "stopping");
          void running.stop().finally(resolve);
        };
        process.once("SIGTERM", () => shutdown("SIGTERM"));
        process.once("SIGINT", () => shutdown("SIGINT"));
      });
      logger.flush();
    });
  withExamples(
    program.commands.find((c) => c.name() === "agent")!,
    [
      "hookguard agent --kubeconfig ~/.kube/config --no-leader-elect",
      "hookguard agent --namespace velero --storage-dir /data --workers 4",
    ],
  );
}
