// `hookguard backup describe | logs | plan`: read what ran a Backup recorded and resolve what a
// Backup would do, without executing. A Backup hookguard's standalone agent claimed has its log and
// hook results in the agent's --storage-dir; one Velero ran has them in Velero's object storage,
// read through a DownloadRequest (velero-files.ts) from any machine with cluster access.
// `backup` itself and `create`/`get` live in backup.ts, which calls registerBackupInspectCommands.
import { readFile } from "node:fs/promises";
import { Command, Option } from "commander";
import { parse as parseYaml } from "yaml";
import { backupRunner, parseLabelSelector } from "../domain/index.js";
import { formatDescribe } from "./describe.js";
import { formatVeleroDescribe } from "./describe-velero.js";
import { VeleroFiles, type DownloadFlags } from "./velero-files.js";
import { createLogger } from "../log.js";
import { createAgentCluster } from "../kube/agent-cluster.js";
import type { BackupObject } from "../velero/types.js";
import { formatPlan, planBackup } from "../agent/scope/plan.js";
import type { BackupSpec } from "../velero/types.js";
import type { BackupResultsFile } from "../agent/store/results.js";
import { isBackupName } from "../agent/store/file-server.js";
import { agentFiles, saveStream } from "./agent-files.js";
import { pipeline } from "node:stream/promises";
import { describeClusterFailure } from "../kube/errors.js";
import { withExamples } from "./help.js";
import {
  ONE_SHOT_RETRY,
  UsageError,
  clusterOptions,
  guarded,
  loadAccess,
  openCluster,
  type ClusterFlags,
} from "./backup-common.js";

interface CommonOptions extends ClusterFlags, DownloadFlags {
  namespace: string;
  storageDir?: string;
  agentService?: string;
  output: "text" | "json";
}

function common(cmd: Command): Command {
  return clusterOptions(cmd)
    .option("-n, --namespace <ns>", "namespace of the Backup objects", "velero")
    .option(
      "--storage-dir <dir>",
      "Backups the standalone agent ran: read a local copy of its storage dir (default: $HOOKGUARD_STORAGE_DIR; unset: ask the agent through the cluster)",
    )
    .option(
      "--agent-service <ns/name>",
      "Backups the standalone agent ran: its stored-files Service (default: found by the chart's label app.kubernetes.io/component=agent-results)",
    )
    .option(
      "--timeout <duration>",
      "Backups Velero ran: how long to wait for Velero to answer the DownloadRequest",
      "1m",
    )
    .option(
      "--download-ca-file <file>",
      "Backups Velero ran: PEM CA bundle to trust for the download URL (velero's --cacert; default: the storage location's caCert)",
    );
}

/** The Backup NAME and the kubeconfig it was read with. */
async function readBackup(
  name: string,
  opts: CommonOptions,
): Promise<{ backup: BackupObject; kc: ReturnType<typeof loadAccess>["kc"] }> {
  const access = loadAccess(opts);
  const cluster = createAgentCluster(access.kc, createLogger({ level: "warn" }), ONE_SHOT_RETRY);
  const got = await cluster.getBackup(opts.namespace, name);
  if (!got.ok) throw new Error(describeClusterFailure(`reading backup ${opts.namespace}/${name}`, got.error));
  if (!got.value) throw new Error(`backup ${opts.namespace}/${name} not found`);
  return { backup: got.value, kc: access.kc };
}

async function describeVeleroRun(
  backup: BackupObject,
  kc: ReturnType<typeof loadAccess>["kc"],
  opts: CommonOptions,
): Promise<number> {
  const files = await VeleroFiles.open(kc, backup, opts);
  const results = await files.results();
  const report = await files.hookReport();
  if (opts.output === "json") {
    process.stdout.write(
      `${JSON.stringify(
        {
          metadata: backup.metadata,
          spec: backup.spec,
          status: backup.status ?? {},
          runBy: "velero",
          hooks: report.kind === "records" ? report.records : null,
          ...(report.kind === "no-log" ? { noLog: report.reason } : {}),
          results: results ?? null,
        },
        null,
        2,
      )}\n`,
    );
  } else {
    process.stdout.write(formatVeleroDescribe(backup, results, report));
  }
  return 0;
}

const guard = guarded;

async function describe(name: string, opts: CommonOptions): Promise<number> {
  const { backup, kc } = await readBackup(name, opts);
  if (backupRunner(backup) === "velero") return describeVeleroRun(backup, kc, opts);
  const files = await agentFiles(() => kc, opts, process.env);
  const file: BackupResultsFile | undefined = await files.results(name);
  if (opts.output === "json") {
    process.stdout.write(
      `${JSON.stringify({ metadata: backup.metadata, spec: backup.spec, status: backup.status ?? {}, runBy: "hookguard", hooks: file?.hooks ?? null, errors: file?.errors ?? null }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(formatDescribe(backup, file, files.where));
  }
  return 0;
}

async function logs(name: string, opts: CommonOptions): Promise<number> {
  const { backup, kc } = await readBackup(name, opts);
  if (backupRunner(backup) === "velero") {
    const files = await VeleroFiles.open(kc, backup, opts);
    process.stdout.write(await files.log());
    return 0;
  }
  const files = await agentFiles(() => kc, opts, process.env);
  await pipeline(await files.open(name, "log"), process.stdout, { end: false });
  return 0;
}

interface DownloadOptions extends CommonOptions {
  outputFile?: string;
}

async function download(name: string, opts: DownloadOptions): Promise<number> {
  if (!isBackupName(name)) throw new UsageError(`invalid backup name ${JSON.stringify(name)}`);
  const { backup, kc } = await readBackup(name, opts);
  if (backupRunner(backup) === "velero")
    throw new Error(
      `backup ${name} was run by Velero: its archive is in Velero's object storage (velero backup download ${name})`,
    );
  const files = await agentFiles(() => kc, opts, process.env);
  const target = opts.outputFile ?? `${name}-data.tar.gz`;
  try {
    await saveStream(await files.open(name, "archive"), target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST")
      throw new Error(`${target} already exists: remove it or pick another with -o FILE`);
    throw err;
  }
  process.stdout.write(`Backup ${name} has been successfully downloaded to ${target}\n`);
  return 0;
}

interface PlanOptions extends ClusterFlags {
  namespace?: string;
  output: "text" | "json";
  includeNamespaces?: string;
  excludeNamespaces?: string;
  selector?: string;
  fromBackupFile?: string;
}

async function specFromFile(path: string): Promise<BackupSpec> {
  const text = path === "-" ? await readStdin() : await readFile(path, "utf8");
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new UsageError(`${path}: not valid YAML/JSON: ${(err as Error).message}`);
  }
  const obj = doc as { kind?: unknown; spec?: unknown };
  if (!obj || typeof obj !== "object" || (obj.kind !== "Backup" && obj.kind !== "Schedule"))
    throw new UsageError(`${path}: expected a velero.io/v1 Backup or Schedule`);
  const spec =
    obj.kind === "Schedule" ? (obj.spec as { template?: unknown } | undefined)?.template : obj.spec;
  if (spec !== undefined && (typeof spec !== "object" || spec === null))
    throw new UsageError(`${path}: spec must be a map`);
  return (spec ?? {}) as BackupSpec;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const list = (v: string | undefined): string[] | undefined =>
  v === undefined
    ? undefined
    : v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);

async function plan(name: string | undefined, opts: PlanOptions): Promise<number> {
  if (name !== undefined && opts.fromBackupFile)
    throw new UsageError("give either a Backup NAME or --from-backup-file, not both");
  if (name === undefined && opts.namespace !== undefined)
    throw new UsageError("-n/--namespace is the namespace of the Backup NAME: give NAME too");
  const cluster = openCluster(opts);
  let spec: BackupSpec = {};
  if (name !== undefined) {
    const ns = opts.namespace ?? "velero";
    const got = await cluster.getBackup(ns, name);
    if (!got.ok) throw new Error(describeClusterFailure(`reading backup ${ns}/${name}`, got.error));
    if (!got.value) throw new Error(`backups.velero.io "${name}" not found`);
    spec = structuredClone(got.value.spec ?? {});
  } else if (opts.fromBackupFile) spec = await specFromFile(opts.fromBackupFile);
  const inc = list(opts.includeNamespaces);
  const exc = list(opts.excludeNamespaces);
  if (inc) spec.includedNamespaces = inc;
  if (exc) spec.excludedNamespaces = exc;
  if (opts.selector !== undefined) {
    const sel = parseLabelSelector(opts.selector);
    if (!sel.ok) throw new UsageError(`--selector: ${sel.error}`);
    spec.labelSelector = sel.value;
    delete spec.orLabelSelectors;
  }
  const p = await planBackup(cluster, spec);
  if (!p.ok) throw new Error(p.error);
  process.stdout.write(
    opts.output === "json" ? `${JSON.stringify(p.value, null, 2)}\n` : formatPlan(p.value),
  );
  return 0;
}

const outputOption = (): Option =>
  new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text");

/** Adds describe, logs and plan under `hookguard backup`. */
export function registerBackupInspectCommands(backupCmd: Command): void {
  common(
    backupCmd
      .command("describe")
      .description(
        "Show a Backup's phase, counts, per-hook results and errors (Velero-run: from Velero's log, through a DownloadRequest)",
      )
      .argument("<name>")
      .addOption(outputOption()),
  ).action((name: string, opts: CommonOptions) => guard(() => describe(name, opts)));
  common(
    backupCmd
      .command("logs")
      .description(
        "Print a Backup's log: Velero's (through a DownloadRequest) or the standalone agent's (JSON lines)",
      )
      .argument("<name>"),
  ).action((name: string, opts: CommonOptions) => guard(() => logs(name, opts)));
  clusterOptions(
    backupCmd
      .command("download")
      .description(
        "Save the archive the standalone agent stored for a Backup (through the cluster, or from --storage-dir)",
      )
      .argument("<name>")
      .option("-n, --namespace <ns>", "namespace of the Backup objects", "velero")
      .option(
        "--storage-dir <dir>",
        "read a local copy of the agent's storage dir (default: $HOOKGUARD_STORAGE_DIR)",
      )
      .option(
        "--agent-service <ns/name>",
        "the agent's stored-files Service (default: found by the chart's label app.kubernetes.io/component=agent-results)",
      )
      .option("-o, --output-file <file>", "where to write it (default: NAME-data.tar.gz, like velero)"),
  ).action((name: string, opts: DownloadOptions) => guard(() => download(name, opts)));
  clusterOptions(
    backupCmd
      .command("plan")
      .description(
        "Resolve ItemBlocks and the hooks each pod would run, with skip reasons, without executing anything",
      )
      .argument("[name]", "an existing Backup to plan (its spec and hooks)")
      .option("-n, --namespace <ns>", "with NAME: namespace of the Backup (default velero)")
      .option(
        "--include-namespaces <list>",
        "namespaces (globs) to include, comma separated (overrides the Backup's)",
      )
      .option(
        "--exclude-namespaces <list>",
        "namespaces (globs) to exclude, comma separated (overrides the Backup's)",
      )
      .option(
        "-l, --selector <selector>",
        "label selector (k=v, k!=v, k, !k, k in (a,b), k notin (a,b); overrides the Backup's)",
      )
      .option(
        "--from-backup-file <file>",
        "take the spec (including spec.hooks) from a Backup or Schedule manifest (- for stdin)",
      )
      .addOption(outputOption()),
  ).action((name: string | undefined, opts: PlanOptions) => guard(() => plan(name, opts)));
  const sub = (name: string): Command => backupCmd.commands.find((c) => c.name() === name)!;
  withExamples(sub("describe"), [
    "hookguard backup describe nightly",
    "hookguard backup describe nightly -o json",
  ]);
  withExamples(sub("logs"), [
    "hookguard backup logs nightly",
    "hookguard backup logs nightly | grep hookCommand",
    "hookguard backup logs nightly --timeout 2m --download-ca-file minio-ca.pem",
  ]);
  withExamples(sub("download"), [
    "hookguard backup download nightly",
    "hookguard backup download nightly -o /tmp/nightly.tar.gz",
    "hookguard backup download nightly --agent-service hookguard/hookguard-agent-results",
  ]);
  withExamples(sub("plan"), [
    "hookguard backup plan --include-namespaces shop",
    "hookguard backup plan nightly",
    "hookguard backup plan --from-backup-file backup.yaml -o json",
  ]);
}
