// The Velero-server double: what a Velero server does in its namespace, seen through the API.
// On start: the Deployment `velero` and its pod (a container restart of the existing pod, as
// restartPolicy Always gives, or a new pod with --reschedule), then markInProgressBackupsFailed,
// then the controllers: backup queue (1.18) and backup, finalizer, DownloadRequest, BSL validation
// and ServerStatusRequest. Controllers poll the API instead of watching; every write is a JSON
// merge patch of the main resource, as Velero's are.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backupPath, bslPath, decodable, finalizeBackup, processBackup, type RunDeps } from "./backup-run.js";
import { parseGoDuration } from "./go-format.js";
import { KubeError, type Kube } from "./kube.js";
import { formatJson, formatText, rfc3339, type Fields, type LogFormat } from "./logrus.js";
import { startObjectStore, type ObjectStore } from "./object-store.js";
import type { VeleroVersion } from "./versions.js";

export interface VeleroOptions {
  kube: Kube;
  namespace: string;
  version: VeleroVersion;
  logFormat: LogFormat;
  holdItemsMs: number;
  /** Object-store directory; default: the one the BSL already names, else a new temp dir. */
  storeDir?: string;
  /** Velero's --store-validation-frequency (default 1m). */
  storeValidationMs: number;
  /** DownloadURLTTL (10 min in Velero; shorter only to test expiry). */
  downloadUrlTtlMs: number;
  /** Replace the server pod with a new one instead of restarting its container. */
  reschedule: boolean;
  out: (line: string) => void;
}

export interface VeleroHandle {
  store: ObjectStore;
  stop(): Promise<void>;
}

const BUCKET = "velero";
const TICK_MS = 200;
const PROVIDER = "hookguard.dev/object-store-double";

export const TERMINAL = new Set(["Completed", "PartiallyFailed", "Failed", "FailedValidation"]);

const DOWNLOAD_KEYS: Record<string, (n: string) => string> = {
  BackupLog: (n) => `backups/${n}/${n}-logs.gz`,
  BackupResults: (n) => `backups/${n}/${n}-results.gz`,
  BackupContents: (n) => `backups/${n}/${n}.tar.gz`,
  BackupResourceList: (n) => `backups/${n}/${n}-resource-list.json.gz`,
  BackupVolumeSnapshots: (n) => `backups/${n}/${n}-volumesnapshots.json.gz`,
  BackupItemOperations: (n) => `backups/${n}/${n}-itemoperations.json.gz`,
  CSIBackupVolumeSnapshots: (n) => `backups/${n}/${n}-csi-volumesnapshots.json.gz`,
  CSIBackupVolumeSnapshotContents: (n) => `backups/${n}/${n}-csi-volumesnapshotcontents.json.gz`,
  BackupVolumeInfos: (n) => `backups/${n}/${n}-volumeinfo.json.gz`,
  RestoreLog: (n) => `restores/${n}/restore-${n}-logs.gz`,
  RestoreResults: (n) => `restores/${n}/restore-${n}-results.gz`,
  RestoreResourceList: (n) => `restores/${n}/restore-${n}-resource-list.json.gz`,
  RestoreItemOperations: (n) => `restores/${n}/restore-${n}-itemoperations.json.gz`,
  RestoreVolumeInfo: (n) => `restores/${n}/${n}-volumeinfo.json.gz`,
};

function veleroPath(ns: string, plural: string, name?: string): string {
  return `/apis/velero.io/v1/namespaces/${encodeURIComponent(ns)}/${plural}${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;
}

function created(o: any): number {
  return Date.parse(o.metadata?.creationTimestamp ?? "") || 0;
}

export async function startVelero(o: VeleroOptions): Promise<VeleroHandle> {
  const { kube, namespace: ns, version } = o;
  const serverLog = (level: "info" | "warning" | "error", msg: string, fields: Fields = {}): void => {
    const entry = {
      time: new Date(),
      level,
      msg,
      fields: { ...fields, logSource: "pkg/cmd/server/server.go:0" },
    };
    o.out(o.logFormat === "json" ? formatJson(entry) : formatText(entry));
  };
  serverLog("info", `Starting Velero server ${version.serverVersion} (double)`);
  if (!(await kube.find(`/api/v1/namespaces/${encodeURIComponent(ns)}`))) {
    await kube.create("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  }
  await ensureServerPod(o);

  // The bucket: the BSL names its directory, so a restarted server finds what it uploaded before.
  const existingBsl = await kube.find(bslPath(ns, "default"));
  const dir =
    o.storeDir ??
    existingBsl?.spec?.config?.directory ??
    mkdtempSync(join(tmpdir(), "hookguard-velero-store-"));
  const store = await startObjectStore(dir);
  const bslSpec = {
    provider: PROVIDER,
    default: true,
    objectStorage: { bucket: BUCKET, caCert: Buffer.from(store.caPem).toString("base64") },
    config: { directory: dir, publicUrl: store.url },
  };
  if (existingBsl) await kube.mergePatch(bslPath(ns, "default"), { spec: bslSpec });
  else
    await kube.create(bslPath(ns), {
      apiVersion: "velero.io/v1",
      kind: "BackupStorageLocation",
      metadata: { name: "default", namespace: ns },
      spec: bslSpec,
    });

  // markInProgressBackupsFailed: before any controller runs.
  for (const b of (await kube.get(backupPath(ns))).items ?? []) {
    if (b.status?.phase !== "InProgress") continue;
    const reason = `found a backup with status "InProgress" during the server starting, mark it as "Failed"`;
    await kube.mergePatch(backupPath(ns, b.metadata.name), {
      status: { phase: "Failed", failureReason: reason, completionTimestamp: rfc3339(new Date()) },
    });
    serverLog("warning", reason, { backup: b.metadata.name });
  }

  const deps: RunDeps = {
    kube,
    version,
    format: o.logFormat,
    namespace: ns,
    store,
    bucket: BUCKET,
    holdItemsMs: o.holdItemsMs,
    echo: o.out,
    serverLog,
  };
  // ReadyToStart Backups already there at start are orphans: the backup controller only reacts to
  // an update into ReadyToStart, so only a later write to one of them makes it run.
  const readyAtStart = new Map<string, string>();
  for (const b of (await kube.get(backupPath(ns))).items ?? [])
    if (b.status?.phase === "ReadyToStart") readyAtStart.set(b.metadata.name, b.metadata.resourceVersion);
  const undecodable = new Set<string>();
  let running: Promise<void> | undefined;
  let lastValidation = 0;
  let stopped = false;

  const validateBsl = async (): Promise<void> => {
    const bsl = await kube.find(bslPath(ns, "default"));
    if (!bsl) return;
    const freq = bsl.spec?.validationFrequency ? parseGoDuration(bsl.spec.validationFrequency) : undefined;
    const every = freq?.ok && freq.ns >= 0 ? freq.ns / 1e6 : o.storeValidationMs;
    if (lastValidation !== 0 && (every === 0 || Date.now() - lastValidation < every)) return;
    lastValidation = Date.now();
    await kube.mergePatch(bslPath(ns, "default"), {
      status: { phase: "Available", lastValidationTime: rfc3339(new Date()), message: null },
    });
  };

  const backups = async (): Promise<void> => {
    const list: any[] = ((await kube.get(backupPath(ns))).items ?? []).sort(
      (a: any, b: any) => created(a) - created(b),
    );
    for (const b of list) {
      const phase = b.status?.phase ?? "";
      if (phase === "Finalizing" || phase === "FinalizingPartiallyFailed") await finalizeBackup(deps, b);
    }
    if (running) return;
    const fresh = list.filter((b) => (b.status?.phase ?? "") === "" || b.status?.phase === "New");
    for (const b of fresh) {
      if (decodable(b)) continue;
      if (!undecodable.has(b.metadata.name))
        serverLog("error", "unable to decode Backup: a spec hook timeout is not a Go duration", {
          backup: `${ns}/${b.metadata.name}`,
        });
      undecodable.add(b.metadata.name);
    }
    const claimable = fresh.filter((b) => decodable(b));
    let next: any;
    if (version.queue) {
      let max = Math.max(
        0,
        ...list.filter((b) => b.status?.phase === "Queued").map((b) => Number(b.status?.queuePosition ?? 0)),
      );
      for (const b of claimable) {
        max += 1;
        await kube.mergePatch(backupPath(ns, b.metadata.name), {
          status: { phase: "Queued", queuePosition: max },
        });
        serverLog("info", `Queueing backup ${b.metadata.name}, queue position ${max}`, {
          controller: "backup-queue",
        });
      }
      const queued = list
        .filter((b) => b.status?.phase === "Queued")
        .sort((a, b) => Number(a.status.queuePosition) - Number(b.status.queuePosition));
      const ready = list.find(
        (b) =>
          b.status?.phase === "ReadyToStart" &&
          readyAtStart.get(b.metadata.name) !== b.metadata.resourceVersion,
      );
      const busy = list.some((b) => b.status?.phase === "InProgress");
      if (ready) next = ready;
      else if (queued[0] && !busy) {
        const first = queued[0];
        next = await kube.mergePatch(backupPath(ns, first.metadata.name), {
          status: { phase: "ReadyToStart", queuePosition: null },
        });
        for (const [i, b] of queued.slice(1).entries())
          await kube.mergePatch(backupPath(ns, b.metadata.name), { status: { queuePosition: i + 1 } });
      }
      if (next) readyAtStart.delete(next.metadata.name);
    } else next = claimable[0];
    if (!next) return;
    running = processBackup(deps, next)
      .catch((e) =>
        serverLog("error", `backup failed: ${(e as Error).message}`, {
          backup: `${ns}/${next.metadata.name}`,
        }),
      )
      .finally(() => (running = undefined));
  };

  const downloadRequests = async (): Promise<void> => {
    for (const dr of (await kube.get(veleroPath(ns, "downloadrequests"))).items ?? []) {
      const path = veleroPath(ns, "downloadrequests", dr.metadata.name);
      const exp = Date.parse(dr.status?.expiration ?? "");
      if (Number.isFinite(exp) && exp < Date.now()) {
        await kube.remove(path).catch(ignoreNotFound);
        continue;
      }
      const phase = dr.status?.phase ?? "";
      if (phase !== "" && phase !== "New") continue;
      if (Number.isFinite(exp)) continue; // already looked at: Backup or BSL missing, nothing more happens
      const status: any = { expiration: rfc3339(new Date(Date.now() + o.downloadUrlTtlMs)) };
      const target = dr.spec?.target ?? {};
      let backupName: string = target.name ?? "";
      if (String(target.kind ?? "").startsWith("Restore")) {
        const restore = await kube.find(veleroPath(ns, "restores", backupName));
        backupName = restore?.spec?.backupName ?? "";
      }
      const backup = backupName ? await kube.find(backupPath(ns, backupName)) : undefined;
      const bsl = backup
        ? await kube.find(bslPath(ns, backup.spec?.storageLocation || "default"))
        : undefined;
      const keyOf = DOWNLOAD_KEYS[target.kind];
      if (backup && bsl && bsl.spec?.provider === PROVIDER && keyOf) {
        const signed = store.sign(BUCKET, keyOf(target.name), o.downloadUrlTtlMs);
        status.phase = "Processed";
        status.downloadURL = signed.url;
        status.expiration = rfc3339(signed.expires);
      } else
        serverLog(
          "error",
          backup ? "BSL for DownloadRequest cannot be found" : "fail to get backup for DownloadRequest",
          { controller: "download-request", downloadrequest: `${ns}/${dr.metadata.name}` },
        );
      await kube.mergePatch(path, { status }).catch(ignoreNotFound);
    }
  };

  const serverStatusRequests = async (): Promise<void> => {
    for (const ssr of (await kube.get(veleroPath(ns, "serverstatusrequests"))).items ?? []) {
      const path = veleroPath(ns, "serverstatusrequests", ssr.metadata.name);
      if (ssr.status?.phase === "Processed") {
        if (Date.now() - Date.parse(ssr.status.processedTimestamp ?? "") > 60_000)
          await kube.remove(path).catch(ignoreNotFound);
        continue;
      }
      const plugins = [
        { name: "velero.io/pod", kind: "BackupItemAction" },
        { name: "velero.io/pv", kind: "BackupItemAction" },
        { name: "velero.io/pod", kind: "ItemBlockAction" },
        { name: "velero.io/pvc", kind: "ItemBlockAction" },
      ].filter((p) => version.itemBlocks || p.kind !== "ItemBlockAction");
      await kube
        .mergePatch(path, {
          status: {
            phase: "Processed",
            processedTimestamp: rfc3339(new Date()),
            serverVersion: version.serverVersion,
            plugins,
          },
        })
        .catch(ignoreNotFound);
    }
  };

  let loop: Promise<void> = Promise.resolve();
  const tick = async (): Promise<void> => {
    for (const step of [validateBsl, backups, downloadRequests, serverStatusRequests]) {
      if (stopped) return;
      try {
        await step();
      } catch (e) {
        serverLog("error", `controller error: ${(e as Error).message}`);
      }
    }
  };
  const timer = setInterval(() => {
    loop = loop.then(tick);
  }, TICK_MS);
  await tick();
  serverLog("info", "Server started successfully");

  return {
    store,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await loop;
      await store.stop();
      kube.close();
    },
  };
}

function ignoreNotFound(e: unknown): void {
  if (!(e instanceof KubeError && e.code === 404)) throw e;
}

/** The install's Deployment `velero` and the server pod, as the Deployment/ReplicaSet controllers would keep them. */
async function ensureServerPod(o: VeleroOptions): Promise<void> {
  const { kube, namespace: ns, version } = o;
  const labels = { component: "velero", deploy: "velero" };
  const image = `velero/velero:${version.serverVersion}`;
  const template = {
    metadata: {
      labels,
      annotations: {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "8085",
        "prometheus.io/path": "/metrics",
      },
    },
    spec: {
      restartPolicy: "Always",
      serviceAccountName: "velero",
      containers: [
        {
          name: "velero",
          image,
          command: ["/velero"],
          args: ["server", `--log-format=${o.logFormat}`],
          ports: [{ name: "metrics", containerPort: 8085 }],
        },
      ],
    },
  };
  const deployPath = `/apis/apps/v1/namespaces/${ns}/deployments`;
  let deploy = await kube.find(`${deployPath}/velero`);
  if (!deploy)
    deploy = await kube.create(deployPath, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "velero", namespace: ns, labels: { component: "velero" } },
      spec: { selector: { matchLabels: { deploy: "velero" } }, template },
    });
  const hash = randomBytes(5)
    .toString("hex")
    .slice(0, 10)
    .replace(/[^a-z0-9]/g, "b");
  const podsPath = `/api/v1/namespaces/${ns}/pods`;
  const existing = ((await kube.get(`${podsPath}?labelSelector=deploy%3Dvelero`)).items ?? []).filter(
    (p: any) => !p.metadata.deletionTimestamp,
  );
  if (existing.length > 0 && !o.reschedule) {
    // The process died and the kubelet restarted its container in the same pod.
    for (const pod of existing) {
      const now = rfc3339(new Date());
      const statuses = (pod.status?.containerStatuses ?? []).map((c: any) =>
        c.name !== "velero"
          ? c
          : {
              ...c,
              restartCount: (c.restartCount ?? 0) + 1,
              // what the kubelet reported when the process died, else a SIGKILL now
              lastState: {
                terminated: c.state?.terminated ?? {
                  exitCode: 137,
                  reason: "Error",
                  startedAt: c.state?.running?.startedAt ?? now,
                  finishedAt: now,
                  containerID: c.containerID,
                },
              },
              state: { running: { startedAt: now } },
              containerID: `containerd://${randomBytes(32).toString("hex")}`,
              ready: true,
              started: true,
            },
      );
      await kube.mergePatch(`${podsPath}/${pod.metadata.name}/status`, {
        status: { containerStatuses: statuses },
      });
    }
  } else {
    for (const pod of existing) await kube.remove(`${podsPath}/${pod.metadata.name}`).catch(ignoreNotFound);
    const rsName = `velero-${hash}`;
    const rsPath = `/apis/apps/v1/namespaces/${ns}/replicasets`;
    const rsLabels = { ...labels, "pod-template-hash": hash };
    const owner = (kind: string, obj: any): any[] => [
      {
        apiVersion: "apps/v1",
        kind,
        name: obj.metadata.name,
        uid: obj.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
    const rs = await kube.create(rsPath, {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: rsName,
        namespace: ns,
        labels: rsLabels,
        ownerReferences: owner("Deployment", deploy),
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: { deploy: "velero", "pod-template-hash": hash } },
        template: { ...template, metadata: { ...template.metadata, labels: rsLabels } },
      },
    });
    await kube.create(podsPath, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: `${rsName}-${randomBytes(3).toString("hex").slice(0, 5)}`,
        namespace: ns,
        labels: rsLabels,
        annotations: template.metadata.annotations,
        ownerReferences: owner("ReplicaSet", rs),
      },
      spec: template.spec,
    });
  }
  const cond = (type: string, reason: string, message: string): any => ({
    type,
    status: "True",
    reason,
    message,
    lastUpdateTime: rfc3339(new Date()),
    lastTransitionTime: rfc3339(new Date()),
  });
  await kube.mergePatch(`${deployPath}/velero/status`, {
    status: {
      observedGeneration: deploy.metadata.generation ?? 1,
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
      conditions: [
        cond("Available", "MinimumReplicasAvailable", "Deployment has minimum availability."),
        cond("Progressing", "NewReplicaSetAvailable", 'ReplicaSet "velero" has successfully progressed.'),
      ],
    },
  });
}
