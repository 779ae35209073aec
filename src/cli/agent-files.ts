// The files hookguard's standalone agent stored for a Backup (hook results, log, archive), read either
// from a local copy of its storage dir (--storage-dir, $HOOKGUARD_STORAGE_DIR) or, by default, from
// the agent itself through the API server's service proxy: the Service is the one the chart labels
// `app.kubernetes.io/component=agent-results`, or --agent-service NS/NAME.
import { createReadStream, createWriteStream } from "node:fs";
import { link, rm } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { archivePath } from "../agent/store/archive.js";
import { backupLogPath } from "../agent/store/backup-log.js";
import { readResults, resultsPath, type BackupResultsFile } from "../agent/store/results.js";
import {
  listServices,
  proxyGet,
  readService,
  type ProxyFailure,
  type ServiceRef,
} from "../kube/service-proxy.js";
import { describeClusterFailure } from "../kube/errors.js";
import { UsageError, type loadAccess } from "./backup-common.js";
import { printError } from "./exit.js";

type KubeConfig = ReturnType<typeof loadAccess>["kc"];

/** The chart's label on the agent's stored-files Service, and that Service's port name. */
export const RESULTS_SERVICE_SELECTOR = "app.kubernetes.io/component=agent-results";
export const RESULTS_PORT_NAME = "https-results";

export type StoredKind = "results" | "log" | "archive";

export interface AgentFilesFlags {
  storageDir?: string;
  agentService?: string;
}

export interface AgentFiles {
  /** where the files come from, for messages */
  readonly where: string;
  results(backup: string): Promise<BackupResultsFile | undefined>;
  /** the stream of a stored file; throws a clear error when it is not there */
  open(backup: string, kind: StoredKind): Promise<Readable>;
}

const LOCAL_PATHS: Record<StoredKind, (dir: string, backup: string) => string> = {
  results: resultsPath,
  log: backupLogPath,
  archive: archivePath,
};

function local(dir: string): AgentFiles {
  return {
    where: dir,
    async results(backup) {
      const r = await readResults(resultsPath(dir, backup));
      // a damaged local file: say so, and describe still shows what the Backup says
      if (!r.ok) printError(r.error);
      return r.ok ? r.value : undefined;
    },
    async open(backup, kind) {
      const path = LOCAL_PATHS[kind](dir, backup);
      const stream = createReadStream(path);
      await new Promise<void>((resolve, reject) => {
        stream.once("open", () => resolve());
        stream.once("error", (err: NodeJS.ErrnoException) =>
          reject(
            err.code === "ENOENT"
              ? new Error(
                  `no ${kind} for backup ${backup} at ${path} (has the agent processed it? is --storage-dir the agent's?)`,
                )
              : err,
          ),
        );
      });
      return stream;
    },
  };
}

function proxyMessage(e: ProxyFailure, svc: ServiceRef, backup: string, kind: StoredKind): string {
  const where = `${svc.namespace}/${svc.name}`;
  if (e.kind === "agent" && e.status === 404)
    return `backup ${backup} has no stored ${kind} on the hookguard agent (Service ${where}): the standalone agent has not processed it, or its storage was lost`;
  if (e.kind === "agent") return `the hookguard agent (Service ${where}) refused: ${e.message}`;
  if (e.kind === "api" && e.error.code === 403)
    return `${e.error.message}\nreading stored results needs get on services/proxy for Service ${where} (resourceNames: ${svc.name} and https:${svc.name}:${svc.port}); see the README's "Reading standalone results"`;
  if (e.kind === "api" && e.error.code === 503)
    return `the hookguard agent behind Service ${where} is not answering (${e.error.message}): is the agent running in standalone mode?`;
  if (e.kind === "api" && e.error.code === 404)
    return `${e.error.message}: no hookguard agent Service ${where} (--agent-service NS/NAME names another)`;
  return describeClusterFailure(`reading ${kind} of backup ${backup} through Service ${where}`, e.error);
}

async function findService(kc: KubeConfig, override: string | undefined): Promise<ServiceRef> {
  const pickPort = (ports: Array<{ name?: string; port: number }>): number | undefined =>
    (ports.find((p) => p.name === RESULTS_PORT_NAME) ?? ports[0])?.port;
  if (override !== undefined) {
    const m = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(override);
    if (!m) throw new UsageError(`--agent-service: expected NAMESPACE/NAME, got ${JSON.stringify(override)}`);
    const ports = await readService(kc, m[1]!, m[2]!);
    if (!ports.ok) throw new Error(describeClusterFailure(`reading service ${override}`, ports.error));
    if (!ports.value) throw new Error(`services "${m[2]}" not found in namespace ${m[1]}`);
    const port = pickPort(ports.value);
    if (port === undefined) throw new Error(`service ${override} has no port`);
    return { namespace: m[1]!, name: m[2]!, port };
  }
  const found = await listServices(kc, RESULTS_SERVICE_SELECTOR);
  if (!found.ok)
    throw new Error(
      `${describeClusterFailure(`finding the hookguard agent's Service (label ${RESULTS_SERVICE_SELECTOR})`, found.error)}\npass --agent-service NAMESPACE/NAME, or --storage-dir for a local copy`,
    );
  if (found.value.length === 0)
    throw new Error(
      `no hookguard agent Service (label ${RESULTS_SERVICE_SELECTOR}) in the cluster: is the agent installed in standalone mode? Pass --agent-service NAMESPACE/NAME, or --storage-dir for a local copy`,
    );
  if (found.value.length > 1)
    throw new UsageError(
      `several hookguard agent Services: ${found.value.map((s) => `${s.namespace}/${s.name}`).join(", ")}; pick one with --agent-service NAMESPACE/NAME`,
    );
  const s = found.value[0]!;
  const port = pickPort(s.ports);
  if (port === undefined) throw new Error(`service ${s.namespace}/${s.name} has no port`);
  return { namespace: s.namespace, name: s.name, port };
}

function remote(kc: KubeConfig, svc: ServiceRef): AgentFiles {
  const open = async (backup: string, kind: StoredKind): Promise<Readable> => {
    const r = await proxyGet(kc, svc, `/backups/${encodeURIComponent(backup)}/${kind}`);
    if (!r.ok) {
      const err = new Error(proxyMessage(r.error, svc, backup, kind));
      (err as Error & { notStored?: boolean }).notStored = r.error.kind === "agent" && r.error.status === 404;
      throw err;
    }
    return r.value;
  };
  return {
    where: `the hookguard agent (Service ${svc.namespace}/${svc.name})`,
    async results(backup) {
      let stream: Readable;
      try {
        stream = await open(backup, "results");
      } catch (err) {
        if ((err as { notStored?: boolean }).notStored) return undefined;
        throw err;
      }
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      try {
        return JSON.parse(Buffer.concat(chunks).toString("utf8")) as BackupResultsFile;
      } catch {
        throw new Error(`the hook results of backup ${backup} from the agent are not JSON`);
      }
    },
    open,
  };
}

/** --storage-dir, else $HOOKGUARD_STORAGE_DIR: a local copy; otherwise the agent through the cluster. */
export async function agentFiles(
  kc: () => KubeConfig,
  flags: AgentFilesFlags,
  env: NodeJS.ProcessEnv,
): Promise<AgentFiles> {
  const dir = flags.storageDir ?? (env.HOOKGUARD_STORAGE_DIR || undefined);
  if (dir !== undefined) {
    if (flags.agentService !== undefined)
      throw new UsageError("give either --storage-dir (a local copy) or --agent-service, not both");
    return local(dir);
  }
  const config = kc();
  return remote(config, await findService(config, flags.agentService));
}

/**
 * Streams to `file` through a temporary name: an interrupted download leaves no half file behind,
 * and an existing `file` is never overwritten (link fails with EEXIST).
 */
export async function saveStream(stream: Readable, file: string): Promise<void> {
  const tmp = `${file}.part-${process.pid}`;
  try {
    await pipeline(stream, createWriteStream(tmp, { flags: "wx" }));
    await link(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
}
