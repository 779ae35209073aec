// `hookguard webhook`: the admission webhook server. Flags map one to one onto WebhookConfig.
import { Command, InvalidArgumentError, Option } from "commander";
import { withExamples } from "./help.js";
import { LOG_LEVELS, createLogger } from "../log.js";
import { DEFAULT_MAX_CONNECTIONS } from "../server/connection-limits.js";
import { runWebhook, type WebhookConfig } from "../server/run.js";

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function port(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535)
      throw new InvalidArgumentError(
        `${name} must be a port number (0-65535), got ${JSON.stringify(value)}.`,
      );
    return n;
  };
}

function positiveInt(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(
        `${name} must be a whole number of at least 1, got ${JSON.stringify(value)}.`,
      );
    return n;
  };
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`expected a number of seconds, got ${JSON.stringify(value)}.`);
  return n;
}

export function registerWebhookCommand(program: Command): void {
  program
    .command("webhook")
    .description("Serve the validating (/validate) and mutating (/mutate) admission webhook over HTTPS")
    .option("--port <port>", "HTTPS port for admission requests", port("--port"), 9443)
    .option(
      "--host <address>",
      "address the HTTPS port listens on (0.0.0.0: every interface, as in a pod)",
      "127.0.0.1",
    )
    .option(
      "--cert-dir <dir>",
      "directory with tls.crt/tls.key; dev certificates are generated there when it has none",
      "certs",
    )
    .option(
      "--metrics-port <port>",
      "plain-HTTP port for /metrics and /healthz",
      port("--metrics-port"),
      8080,
    )
    .option(
      "--metrics-bind-address <addr>",
      "address the metrics port listens on, as the agent's flag of that name (default: --host)",
    )
    .option(
      "--dns-name <name>",
      "extra DNS name for generated serving certificates (repeatable)",
      collect,
      [] as string[],
    )
    .option(
      "--kubeconfig <path>",
      "kubeconfig for the exec-permission check and managed certificates (default: $KUBECONFIG, ~/.kube/config, then in-cluster)",
    )
    .option("--context <name>", "kubeconfig context to use (default: its current-context)")
    .option("--no-require-exec-permission", "do not require create pods/exec from users who set hooks")
    .option(
      "--mutate-all",
      "the MutatingWebhookConfiguration sends every namespace (no hookguard.io/mutate=enabled selector)",
      false,
    )
    .option(
      "--manage-certs",
      "create, store (Secret) and rotate the CA and serving certificate, and patch caBundle",
      false,
    )
    .option("--secret <name>", "Secret holding managed certificates (with --manage-certs)")
    .option("--secret-namespace <ns>", "namespace of that Secret (default: the pod's namespace)")
    .option(
      "--webhook-config <name>",
      "Validating/MutatingWebhookConfiguration whose caBundle to patch (repeatable)",
      collect,
      [] as string[],
    )
    .option(
      "--trusted-controller <username>",
      "another controller that copies pod templates, exempt from the exec-permission check (repeatable)",
      collect,
      [] as string[],
    )
    .addOption(
      new Option(
        "--enforcement <mode>",
        "deny: refuse hook errors; warn: admit them as warnings and count them (audit before enforcing)",
      )
        .choices(["deny", "warn"])
        .default("deny"),
    )
    .option("--shutdown-timeout <seconds>", "how long SIGTERM waits for in-flight requests", seconds, 25)
    .option(
      "--max-connections <n>",
      "concurrent connections on the HTTPS port; more are closed at once",
      positiveInt("--max-connections"),
      DEFAULT_MAX_CONNECTIONS,
    )
    .addOption(new Option("--log-level <level>", "log level").choices(LOG_LEVELS).default("info"))
    .action(async (opts: Record<string, unknown>) => {
      const log = createLogger({ level: opts.logLevel as string });
      if (opts.manageCerts && !opts.secret) throw new Error("--manage-certs needs --secret NAME");
      const cfg: WebhookConfig = {
        host: opts.host as string,
        port: opts.port as number,
        metricsPort: opts.metricsPort as number,
        ...(opts.metricsBindAddress ? { metricsHost: opts.metricsBindAddress as string } : {}),
        certDir: opts.certDir as string,
        dnsNames: opts.dnsName as string[],
        ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig as string } : {}),
        ...(opts.context ? { context: opts.context as string } : {}),
        requireExecPermission: opts.requireExecPermission as boolean,
        mutateAll: opts.mutateAll as boolean,
        manageCerts: opts.manageCerts as boolean,
        ...(opts.secret ? { secretName: opts.secret as string } : {}),
        ...(opts.secretNamespace ? { secretNamespace: opts.secretNamespace as string } : {}),
        webhookConfigs: opts.webhookConfig as string[],
        shutdownTimeoutMs: (opts.shutdownTimeout as number) * 1000,
        trustedControllers: opts.trustedController as string[],
        enforcement: opts.enforcement as "deny" | "warn",
        maxConnections: opts.maxConnections as number,
      };
      const running = await runWebhook(cfg, log, (text) => process.stdout.write(`${text}\n`));
      await new Promise<void>((resolve) => {
        const onSignal = (signal: NodeJS.Signals): void => {
          process.off("SIGTERM", onSignal);
          process.off("SIGINT", onSignal);
          log.info({ signal }, "shutting down: no new connections, draining in-flight requests");
          running.stop().then(resolve, (err: Error) => {
            log.error({ err: err.message }, "error during shutdown");
            resolve();
          });
        };
        process.on("SIGTERM", onSignal);
        process.on("SIGINT", onSignal);
      });
      process.exitCode = 0;
      // Anything a library left open must not keep a stopped webhook alive (the timer itself does not).
      setTimeout(() => process.exit(0), 2000).unref();
    });
  withExamples(
    program.commands.find((c) => c.name() === "webhook")!,
    [
      "hookguard webhook --cert-dir certs --port 9443 --metrics-port 8080",
      "hookguard webhook --kubeconfig ~/.kube/config --context dev --enforcement warn",
    ],
  );
}
