// Test helpers for the Velero-server double: run it as its own process (so a test can SIGKILL it
// like a dying Velero pod) and read a Backup's artifacts the way the velero CLI does, through a
// DownloadRequest, the pre-signed URL and the BSL's caCert, with the real client library.
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { request } from "node:https";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { waitFor, ROOT } from "../agent/double.js";

export interface VeleroProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once the server logged "Server started successfully". */
  ready: Promise<void>;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnVelero(kubeconfig: string, args: string[]): VeleroProcess {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "test/velero/main.ts"), "--kubeconfig", kubeconfig, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let markReady!: () => void;
  let failReady!: (e: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    if (out.includes("Server started successfully")) markReady();
  });
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      failReady(new Error(`velero double exited (${code}) before it was ready:\n${err}`));
      resolve(code);
    }),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    ready,
    exited,
    async kill(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

export function kubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

const VELERO = { group: "velero.io", version: "v1", namespace: "velero" };

/** Creates a DownloadRequest named like the CLI's and waits for status.downloadURL. */
export async function requestDownload(kc: KubeConfig, kind: string, target: string): Promise<{ name: string; url: string; status: any }> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const name = `${target}-${randomUUID()}`;
  await api.createNamespacedCustomObject({ ...VELERO, plural: "downloadrequests", body: { apiVersion: "velero.io/v1", kind: "DownloadRequest", metadata: { name, namespace: "velero" }, spec: { target: { kind, name: target } } } });
  const dr: any = await waitFor(
    `downloadURL of ${name}`,
    async () => {
      const o: any = await api.getNamespacedCustomObject({ ...VELERO, plural: "downloadrequests", name });
      return o.status?.downloadURL ? o : undefined;
    },
    60_000,
    100,
  );
  return { name, url: dr.status.downloadURL, status: dr.status };
}

/** The CA the velero CLI trusts for downloads: the BSL's spec.objectStorage.caCert. */
export async function bslCa(kc: KubeConfig): Promise<string> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const bsl: any = await api.getNamespacedCustomObject({ ...VELERO, plural: "backupstoragelocations", name: "default" });
  return Buffer.from(bsl.spec.objectStorage.caCert, "base64").toString("utf8");
}

export function httpsGet(url: string, ca: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, method: "GET" }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** `velero backup logs`: DownloadRequest BackupLog, GET, gunzip. */
export async function backupLog(kc: KubeConfig, backup: string): Promise<string> {
  const { url } = await requestDownload(kc, "BackupLog", backup);
  const res = await httpsGet(url, await bslCa(kc));
  if (res.status !== 200) throw new Error(`GET backup log: ${res.status} ${res.body.toString()}`);
  return gunzipSync(res.body).toString("utf8");
}

export async function backupResults(kc: KubeConfig, backup: string): Promise<any> {
  const { url } = await requestDownload(kc, "BackupResults", backup);
  const res = await httpsGet(url, await bslCa(kc));
  if (res.status !== 200) throw new Error(`GET backup results: ${res.status} ${res.body.toString()}`);
  return JSON.parse(gunzipSync(res.body).toString("utf8"));
}
