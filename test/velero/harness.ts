// Test helpers for the Velero-server double: run it as its own process (so a test can SIGKILL it
// like a dying Velero pod) and read a Backup's artifacts the way the velero CLI does, through a
// DownloadRequest, the pre-signed URL and the BSL's caCert, with the real client library.
import { randomUUID } from "node:crypto";
import { request } from "node:https";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { waitFor, ROOT } from "../agent/double.js";
import { spawnReady, type ReadyProcess } from "../helpers/process.js";
import { Kubectl } from "../apiserver-double/helpers.js";
import { findByKind } from "../apiserver/resources.js";
import { startApiServer, type ApiServerHandle, type StartOptions } from "../apiserver/server.js";

export interface VeleroProcess extends ReadyProcess {
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** The double as its own process; `ready` once it logged "Server started successfully". */
export function spawnVelero(kubeconfig: string, args: string[]): VeleroProcess {
  const p = spawnReady(
    process.execPath,
    ["--import", "tsx", join(ROOT, "test/velero/main.ts"), "--kubeconfig", kubeconfig, ...args],
    { cwd: ROOT, marker: "Server started successfully", stream: "stdout", name: "velero double" },
  );
  return {
    ...p,
    async kill(signal = "SIGTERM") {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      p.child.kill(signal);
      await p.exited;
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
export async function requestDownload(
  kc: KubeConfig,
  kind: string,
  target: string,
): Promise<{ name: string; url: string; status: any }> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const name = `${target}-${randomUUID()}`;
  await api.createNamespacedCustomObject({
    ...VELERO,
    plural: "downloadrequests",
    body: {
      apiVersion: "velero.io/v1",
      kind: "DownloadRequest",
      metadata: { name, namespace: "velero" },
      spec: { target: { kind, name: target } },
    },
  });
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
  const bsl: any = await api.getNamespacedCustomObject({
    ...VELERO,
    plural: "backupstoragelocations",
    name: "default",
  });
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

const PODS = findByKind("v1", "Pod")!;

/**
 * An API-server double holding `db/mysql-0` (pre hook `echo frozen`, post hook `echo thawed`), and
 * the Velero double processes started against it, which share one bucket like restarts of one pod.
 */
export class Sandbox {
  readonly running: VeleroProcess[] = [];

  private constructor(
    readonly api: ApiServerHandle,
    readonly kubectl: Kubectl,
  ) {}

  static async start(opts: StartOptions = {}): Promise<Sandbox> {
    const api = await startApiServer({ namespaces: ["db"], ...opts });
    api.createObject({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "mysql-0",
        namespace: "db",
        annotations: {
          "pre.hook.backup.velero.io/command": '["/bin/sh","-c","echo frozen"]',
          "post.hook.backup.velero.io/command": '["/bin/sh","-c","echo thawed"]',
        },
      },
      spec: { containers: [{ name: "mysql", image: "busybox" }] },
    });
    await waitFor(
      "mysql-0 Running",
      () => api.getObject("v1", "Pod", "db", "mysql-0")?.status?.phase === "Running" || undefined,
    );
    return new Sandbox(api, new Kubectl(api.kubeconfigPath));
  }

  velero(args: string[]): VeleroProcess {
    const p = spawnVelero(this.api.kubeconfigPath, ["--store-dir", `${this.api.dir}/bucket`, ...args]);
    this.running.push(p);
    // Registered before any kill() awaits the exit, so the pod shows the dead container by the time
    // kill() returns (and before a restarted server reads its pod).
    void p.exited.then((code) => this.containerExited(code, p.child.signalCode));
    return p;
  }

  /**
   * The kubelet's part when the server process ends (the double's process is the container): the
   * `velero` container of the server pod is reported terminated (137 after SIGKILL, 143 after
   * SIGTERM, as a runtime reports a signal), not ready, within the kubelet's PLEG period; a real
   * kubelet then restarts it, which the next server start plays.
   */
  private containerExited(code: number | null, signal: NodeJS.Signals | null): void {
    const exitCode = signal === "SIGKILL" ? 137 : signal === "SIGTERM" ? 143 : (code ?? 1);
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    for (const pod of this.veleroPods()) {
      if (pod.metadata.deletionTimestamp) continue;
      const statuses = (pod.status?.containerStatuses ?? []).map((c: any) =>
        c.name !== "velero" || !c.state?.running
          ? c
          : {
              ...c,
              state: {
                terminated: {
                  exitCode,
                  reason: exitCode === 0 ? "Completed" : "Error",
                  startedAt: c.state.running.startedAt ?? now,
                  finishedAt: now,
                  containerID: c.containerID,
                },
              },
              ready: false,
              started: false,
            },
      );
      const conditions = (pod.status?.conditions ?? []).map((c: any) =>
        c.type === "Ready" || c.type === "ContainersReady"
          ? { ...c, status: "False", reason: "ContainersNotReady", lastTransitionTime: now }
          : c,
      );
      this.api.store.write(
        PODS,
        { ...pod, status: { ...pod.status, containerStatuses: statuses, conditions } },
        "MODIFIED",
      );
    }
  }

  backup(name: string): any {
    return this.api.getObject("velero.io/v1", "Backup", "velero", name);
  }

  /** The server pods, by the install's pod label. */
  veleroPods(): any[] {
    return this.api.store.list(PODS, "velero").filter((p) => p.metadata.labels?.deploy === "velero");
  }

  async killAll(): Promise<void> {
    for (const p of this.running.splice(0)) await p.kill("SIGKILL");
  }

  async stop(): Promise<void> {
    await this.killAll();
    this.kubectl.cleanup();
    await this.api.stop();
  }
}
