// `hookguard backup create | get | delete` (mirroring `velero backup create/get/delete`); describe, logs and plan
// are registered by backup-inspect.ts on the same `backup` command.
import { createInterface } from "node:readline/promises";
import { Command, Option } from "commander";
import { stringify as toYaml } from "yaml";
import {
  backupRunner,
  formatGoDuration,
  nanosToMillis,
  parseGoDuration,
  parseLabelSelector,
  parseOrLabelSelectors,
  type LabelSelector,
} from "../domain/index.js";
import type { BackupObject, BackupSpec } from "../velero/types.js";
import { registerBackupInspectCommands } from "./backup-inspect.js";
import { DELETE_ANNOTATION, deletionRefusal, deletionRequested } from "../agent/standalone/deletion.js";
import { sleep } from "../util/async.js";
import { tabulate } from "./table.js";
import { describeClusterFailure, isAlreadyExists } from "../kube/errors.js";
import { withExamples } from "./help.js";
import { UsageError, clusterOptions, guarded, openCluster, type ClusterFlags } from "./backup-common.js";

const TERMINAL = new Set(["Completed", "PartiallyFailed", "Failed", "FailedValidation"]);
/** DNS-1123 subdomain, what the API server accepts as an object name. */
const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

interface Common extends ClusterFlags {
  namespace: string;
}
interface CreateOptions extends Common {
  includeNamespaces?: string;
  excludeNamespaces?: string;
  includeResources?: string;
  excludeResources?: string;
  selector?: string;
  orSelector?: string;
  snapshotVolumes?: string | boolean;
  storageLocation?: string;
  labels?: string;
  ttl?: string;
  wait?: boolean;
  waitTimeout: string;
  pollInterval: string;
}
interface DeleteOptions extends Common {
  confirm?: boolean;
}
interface GetOptions extends Common {
  output?: "table" | "json" | "yaml";
}

function common(cmd: Command): Command {
  return clusterOptions(cmd).option("-n, --namespace <ns>", "namespace of the Backup objects", "velero");
}

const guard = guarded;

const list = (v: string | undefined): string[] | undefined =>
  v === undefined
    ? undefined
    : v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");

function durationMs(flag: string, value: string): number {
  const d = parseGoDuration(value);
  if (!d.ok) throw new UsageError(`--${flag}: ${d.error}`);
  return nanosToMillis(d.value);
}

/** A selector without empty matchLabels/matchExpressions, as velero writes it. */
function compactSelector(sel: LabelSelector): NonNullable<BackupSpec["labelSelector"]> {
  const s: NonNullable<BackupSpec["labelSelector"]> = {};
  if (Object.keys(sel.matchLabels ?? {}).length > 0) s.matchLabels = sel.matchLabels;
  if ((sel.matchExpressions ?? []).length > 0) s.matchExpressions = sel.matchExpressions;
  return s;
}

/** The Backup `velero backup create` would submit for these flags. */
export function backupFromFlags(name: string, opts: CreateOptions): BackupObject {
  if (!NAME_RE.test(name) || name.length > 253)
    throw new UsageError(
      `invalid backup name ${JSON.stringify(name)}: must be a lowercase RFC 1123 subdomain`,
    );
  const spec: BackupSpec = {};
  const inc = list(opts.includeNamespaces);
  spec.includedNamespaces = inc && inc.length > 0 ? inc : ["*"];
  const exc = list(opts.excludeNamespaces);
  if (exc?.length) spec.excludedNamespaces = exc;
  const incR = list(opts.includeResources);
  if (incR?.length) spec.includedResources = incR;
  const excR = list(opts.excludeResources);
  if (excR?.length) spec.excludedResources = excR;
  if (opts.selector !== undefined && opts.orSelector !== undefined)
    throw new UsageError("either a 'selector' or an 'or-selector' can be specified, but not both");
  if (opts.selector !== undefined) {
    const sel = parseLabelSelector(opts.selector);
    if (!sel.ok) throw new UsageError(`--selector: ${sel.error}`);
    spec.labelSelector = compactSelector(sel.value);
  }
  if (opts.orSelector !== undefined) {
    const ors = parseOrLabelSelectors(opts.orSelector);
    if (!ors.ok) throw new UsageError(`--or-selector: ${ors.error}`);
    spec.orLabelSelectors = ors.value.map(compactSelector);
  }
  if (opts.snapshotVolumes !== undefined) {
    const v = opts.snapshotVolumes;
    if (v === true || v === "true") spec.snapshotVolumes = true;
    else if (v === "false") spec.snapshotVolumes = false;
    else throw new UsageError(`--snapshot-volumes: expected true or false, got ${JSON.stringify(v)}`);
  }
  // velero sends 0s without --ttl: the server then applies its --default-backup-ttl (720h)
  const ttl = parseGoDuration(opts.ttl ?? "0s");
  if (!ttl.ok) throw new UsageError(`--ttl: ${ttl.error}`);
  if (ttl.value < 0) throw new UsageError("--ttl must not be negative");
  // validated with or without --wait: a typo must not wait until the day --wait is added
  if (durationMs("wait-timeout", opts.waitTimeout) <= 0)
    throw new UsageError("--wait-timeout must be positive");
  if (durationMs("poll-interval", opts.pollInterval) <= 0)
    throw new UsageError("--poll-interval must be positive");
  if (opts.storageLocation) spec.storageLocation = opts.storageLocation;
  // what velero's client serializes for the flags it leaves unset: Go's JSON encoder writes the zero
  // durations and the empty hooks/metadata structs (omitempty does not omit a struct)
  spec.ttl = formatGoDuration(ttl.value);
  spec.metadata = {};
  spec.hooks = {};
  spec.csiSnapshotTimeout = "0s";
  spec.itemOperationTimeout = "0s";
  const labels = labelsFromFlag(opts.labels);
  return {
    apiVersion: "velero.io/v1",
    kind: "Backup",
    metadata: { name, namespace: opts.namespace, ...(labels ? { labels } : {}) },
    spec,
  };
}

/** velero's --labels: `k=v,k2=v2`. */
function labelsFromFlag(value: string | undefined): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const pair of value.split(",").map((p) => p.trim())) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--labels: expected key=value, got ${JSON.stringify(pair)}`);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function progressLine(b: BackupObject): string {
  const s = b.status ?? {};
  const parts = [`phase ${s.phase || "New"}`];
  if (s.progress?.totalItems !== undefined || s.progress?.itemsBackedUp !== undefined) {
    parts.push(`items ${s.progress?.itemsBackedUp ?? 0}/${s.progress?.totalItems ?? 0}`);
  }
  if (s.hookStatus)
    parts.push(
      `hooks attempted ${s.hookStatus.hooksAttempted ?? 0}, failed ${s.hookStatus.hooksFailed ?? 0}`,
    );
  if (s.errors) parts.push(`errors ${s.errors}`);
  if (s.warnings) parts.push(`warnings ${s.warnings}`);
  return parts.join(", ");
}

async function create(name: string, opts: CreateOptions): Promise<number> {
  const backup = backupFromFlags(name, opts);
  const waitMs = durationMs("wait-timeout", opts.waitTimeout);
  const pollMs = durationMs("poll-interval", opts.pollInterval);
  const cluster = openCluster(opts);
  const created = await cluster.createBackup(backup);
  if (!created.ok) {
    if (isAlreadyExists(created.error)) throw new Error(`backups.velero.io "${name}" already exists`);
    throw new Error(describeClusterFailure(`creating backup ${opts.namespace}/${name}`, created.error));
  }
  process.stdout.write(`Backup request "${name}" submitted successfully.\n`);
  if (!opts.wait) {
    process.stdout.write(
      `Run \`hookguard backup describe ${name}\` or \`hookguard backup logs ${name}\` for more details.\n`,
    );
    return 0;
  }
  process.stdout.write(
    "Waiting for backup to complete. You may safely press ctrl-c to stop waiting - your backup will continue in the background.\n",
  );
  const deadline = Date.now() + waitMs;
  let last = "";
  for (;;) {
    const got = await cluster.getBackup(opts.namespace, name);
    if (!got.ok)
      throw new Error(describeClusterFailure(`reading backup ${opts.namespace}/${name}`, got.error));
    if (!got.value) throw new Error(`backup ${opts.namespace}/${name} was deleted while waiting`);
    const line = progressLine(got.value);
    if (line !== last) process.stdout.write(`${line}\n`);
    last = line;
    const phase = got.value.status?.phase ?? "";
    if (TERMINAL.has(phase)) {
      process.stdout.write(
        `Backup completed with status: ${phase}. You may check for more information using the commands \`hookguard backup describe ${name}\` and \`hookguard backup logs ${name}\`.\n`,
      );
      return phase === "Completed" ? 0 : 1;
    }
    if (Date.now() >= deadline) {
      process.stderr.write(
        `Timed out after ${opts.waitTimeout} waiting for backup ${name} (phase ${phase || "New"}); it continues in the background.\n`,
      );
      return 1;
    }
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())));
  }
}

// ---------------------------------------------------------------- get

/** k8s.io/apimachinery ShortHumanDuration. */
export function shortHumanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.floor(hours / 24)}d`;
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** Go's time.Time String() for a UTC time: "2006-01-02 15:04:05 +0000 UTC". */
function goTime(iso: string | undefined): string {
  if (!iso) return "<nil>";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace("T", " ")} +0000 UTC`;
}

/** metav1.FormatLabelSelector. */
function formatSelector(sel: BackupSpec["labelSelector"]): string {
  if (!sel) return "<none>";
  const terms: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {}).sort(([a], [b]) => a.localeCompare(b)))
    terms.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(",");
    if (e.operator === "In") terms.push(`${e.key} in (${values})`);
    else if (e.operator === "NotIn") terms.push(`${e.key} notin (${values})`);
    else if (e.operator === "Exists") terms.push(e.key);
    else if (e.operator === "DoesNotExist") terms.push(`!${e.key}`);
  }
  return terms.length ? terms.join(",") : "<none>";
}

/**
 * One row: Velero's backup table (pkg/cmd/util/output/backup_printer.go), then what it does not show:
 * when the Backup completed, Velero's hook counts (status.hookStatus; `-` before they are written)
 * and who ran it (the standalone agent's claim annotation, else Velero).
 */
export function backupRow(b: BackupObject, now: Date): string[] {
  const meta = b.metadata as BackupObject["metadata"] & { deletionTimestamp?: string };
  let status = b.status?.phase || "New";
  // Velero shows Deleting once deletion has begun; here that is the agent's deletion request too
  if (meta.deletionTimestamp || deletionRequested(b)) status = "Deleting";
  const hs = b.status?.hookStatus;
  let expires = "n/a";
  const expiration = (b.status?.expiration as string | undefined) ?? undefined;
  let when: number | undefined = expiration ? Date.parse(expiration) : undefined;
  if (when === undefined && b.spec.ttl && meta.creationTimestamp) {
    const ttl = parseGoDuration(b.spec.ttl);
    if (ttl.ok && ttl.value > 0) when = Date.parse(meta.creationTimestamp) + nanosToMillis(ttl.value);
  }
  if (when !== undefined && !Number.isNaN(when)) {
    const delta = when - now.getTime();
    expires =
      delta === 0 ? "now" : delta < 0 ? `${shortHumanDuration(-delta)} ago` : shortHumanDuration(delta);
  }
  return [
    meta.name,
    status,
    String(b.status?.errors ?? 0),
    String(b.status?.warnings ?? 0),
    goTime(b.status?.startTimestamp),
    expires,
    String(b.spec.storageLocation ?? ""),
    formatSelector(b.spec.labelSelector),
    b.status?.completionTimestamp ? goTime(b.status.completionTimestamp) : "<nil>",
    hs ? String(hs.hooksAttempted ?? 0) : "-",
    hs ? String(hs.hooksFailed ?? 0) : "-",
    backupRunner(b),
  ];
}

/** kubectl's tabwriter layout: 3 spaces of padding, minimum cell width 6, last column unpadded. */
export function formatTable(header: string[], rows: string[][]): string {
  return `${tabulate([header, ...rows], { padding: 3, minWidth: 6 }).join("\n")}\n`;
}

const HEADER = [
  "NAME",
  "STATUS",
  "ERRORS",
  "WARNINGS",
  "CREATED",
  "EXPIRES",
  "STORAGE LOCATION",
  "SELECTOR",
  "COMPLETED",
  "HOOKS ATTEMPTED",
  "HOOKS FAILED",
  "RUN BY",
];

async function get(name: string | undefined, opts: GetOptions): Promise<number> {
  const cluster = openCluster(opts);
  let backups: BackupObject[];
  if (name) {
    const got = await cluster.getBackup(opts.namespace, name);
    if (!got.ok)
      throw new Error(describeClusterFailure(`reading backup ${opts.namespace}/${name}`, got.error));
    if (!got.value) throw new Error(`backups.velero.io "${name}" not found`);
    backups = [got.value];
  } else {
    const listed = await cluster.listBackups(opts.namespace);
    if (!listed.ok)
      throw new Error(describeClusterFailure(`listing backups in ${opts.namespace}`, listed.error));
    backups = listed.value.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }
  const output = opts.output ?? "table";
  if (output !== "table") {
    const doc = name ? backups[0] : { apiVersion: "v1", kind: "List", items: backups };
    process.stdout.write(output === "json" ? `${JSON.stringify(doc, null, 4)}\n` : toYaml(doc));
    return 0;
  }
  if (backups.length === 0) {
    process.stderr.write(`No backups found in namespace ${opts.namespace}.\n`);
    return 0;
  }
  const now = new Date();
  process.stdout.write(
    formatTable(
      HEADER,
      backups.map((b) => backupRow(b, now)),
    ),
  );
  return 0;
}

// ---------------------------------------------------------------- delete

/** Velero's prompt (`Are you sure you want to continue (Y/N)? `), asked again until it reads y or n. */
async function confirmed(): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    for (;;) {
      const answer = (await rl.question("Are you sure you want to continue (Y/N)? ")).trim().toLowerCase();
      if (answer === "y" || answer === "yes") return true;
      if (answer === "n" || answer === "no") return false;
    }
  } catch {
    // stdin ended without an answer
    return false;
  } finally {
    rl.close();
  }
}

/**
 * Marks the Backup for deletion; the standalone agent's leader deletes its VolumeSnapshots, files and
 * then the Backup, so this command needs no access to the agent's storage. A Backup hookguard did not
 * run is refused here (and ignored by the agent): Velero's own deletion removes its data properly.
 */
async function deleteBackup(name: string, opts: DeleteOptions): Promise<number> {
  const cluster = openCluster(opts);
  const got = await cluster.getBackup(opts.namespace, name);
  if (!got.ok) throw new Error(describeClusterFailure(`reading backup ${opts.namespace}/${name}`, got.error));
  if (!got.value) throw new Error(`backups.velero.io "${name}" not found`);
  const refusal = deletionRefusal(got.value);
  if (refusal) throw new Error(refusal.message);
  if (deletionRequested(got.value)) {
    process.stdout.write(`Deletion of backup "${name}" was already requested; the agent is deleting it.\n`);
    return 0;
  }
  if (!opts.confirm) {
    if (!process.stdin.isTTY)
      throw new UsageError(`refusing to delete backup "${name}" without --confirm: stdin is not a terminal`);
    if (!(await confirmed())) {
      process.stdout.write("Cancelled.\n");
      return 0;
    }
  }
  const marked = await cluster.patchBackupMetadata(opts.namespace, name, {
    annotations: { [DELETE_ANNOTATION]: new Date().toISOString().replace(/\.\d{3}Z$/, "Z") },
  });
  if (!marked.ok)
    throw new Error(
      describeClusterFailure(`requesting deletion of backup ${opts.namespace}/${name}`, marked.error),
    );
  process.stdout.write(
    `Request to delete backup "${name}" submitted successfully.\nThe hookguard agent deletes its VolumeSnapshots, archive, log and results, then the Backup; \`hookguard backup get ${name}\` shows it until then.\n`,
  );
  return 0;
}

export function registerBackupCommand(program: Command): void {
  const backup = withExamples(
    program
      .command("backup")
      .description("Create and inspect velero.io/v1 Backups processed by the hookguard agent"),
    [
      "hookguard backup create nightly --include-namespaces shop --wait",
      "hookguard backup get",
      "hookguard backup describe nightly",
    ],
  );

  common(backup.command("create"))
    .description("Create a Backup (like `velero backup create`)")
    .argument("<name>", "backup name")
    .option("--include-namespaces <list>", "namespaces to include, comma-separated (default *)")
    .option("--exclude-namespaces <list>", "namespaces to exclude, comma-separated")
    .option("--include-resources <list>", "resources to include, comma-separated (default all)")
    .option("--exclude-resources <list>", "resources to exclude, comma-separated")
    .option(
      "-l, --selector <selector>",
      "only back up items matching this label selector (k=v, k!=v, k, !k, k in (a,b), k notin (a,b), comma-separated)",
    )
    .option(
      "--or-selector <selectors>",
      "back up items matching at least one of these selectors, separated by ' or ' (not with --selector)",
    )
    .option(
      "--snapshot-volumes [bool]",
      "take VolumeSnapshots of PVCs (true|false; default: the agent's setting)",
    )
    .option(
      "--ttl <duration>",
      "how long before the backup can be garbage collected (default: the Velero server's, 720h)",
    )
    .option(
      "--storage-location <name>",
      "BackupStorageLocation to store the backup in (default: Velero's default)",
    )
    .option("--labels <k=v,...>", "labels to put on the Backup")
    .option("-w, --wait", "wait for the backup to finish, showing progress; exit 0 only for Completed")
    .option("--wait-timeout <duration>", "give up waiting after this long (the backup continues)", "1h")
    .addOption(
      new Option("--poll-interval <duration>", "how often --wait reads the Backup").default("1s").hideHelp(),
    )
    .action((name: string, opts: CreateOptions) => guard(() => create(name, opts)));
  withExamples(
    backup.commands.find((c) => c.name() === "create")!,
    [
      "hookguard backup create nightly --include-namespaces shop,db --wait",
      "hookguard backup create web -l 'app in (web,api),!canary' --ttl 24h",
      "hookguard backup create mixed --or-selector 'app=web or tier=db'",
    ],
  );

  common(backup.command("get"))
    .description("List Backups, or show one (like `velero backup get`)")
    .argument("[name]", "backup name")
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["table", "json", "yaml"])
        .default("table"),
    )
    .action((name: string | undefined, opts: GetOptions) => guard(() => get(name, opts)));
  withExamples(
    backup.commands.find((c) => c.name() === "get")!,
    [
      "hookguard backup get",
      "hookguard backup get nightly -o yaml",
      "hookguard backup get --context prod -v",
    ],
  );

  common(backup.command("delete"))
    .description(
      "Delete a Backup hookguard's standalone agent ran, with its VolumeSnapshots, archive, log and results (the agent does the deleting)",
    )
    .argument("<name>", "backup name")
    .option("--confirm", "do not ask for confirmation (required when stdin is not a terminal)")
    .action((name: string, opts: DeleteOptions) => guard(() => deleteBackup(name, opts)));
  withExamples(
    backup.commands.find((c) => c.name() === "delete")!,
    ["hookguard backup delete nightly-20260101020000", "hookguard backup delete old --confirm -n velero"],
  );

  registerBackupInspectCommands(backup);
}
