// One Backup as Velero's backup controller runs it, from the claim to the upload: prepare the
// request (defaults, labels, annotations, validation -> InProgress or FailedValidation), collect
// namespaces, PVCs, PVs and pods, run them per ItemBlock (1.15+: every pod's pre hooks, the items,
// then the post hooks) or per pod (1.14), patch progress and hookStatus, pick the phase from the
// log's error count, upload the gzipped log, the results and the metadata, then finalize
// (Finalizing -> Completed, FinalizingPartiallyFailed -> PartiallyFailed). Items are only counted:
// the double moves no data.
import { gzipSync } from "node:zlib";
import {
  compileResourceHooks,
  handleHooks,
  HookTracker,
  labelSelector,
  shouldInclude,
  specTimeoutNs,
  type CompiledResourceHook,
  type HookContext,
  type LabelSelector,
} from "./hooks.js";
import type { Kube } from "./kube.js";
import { BackupLog, resultsJson, rfc3339, type Fields, type GoError, type LogFormat } from "./logrus.js";
import type { ObjectStore } from "./object-store.js";
import type { VeleroVersion } from "./versions.js";

export interface RunDeps {
  kube: Kube;
  version: VeleroVersion;
  format: LogFormat;
  namespace: string;
  store: ObjectStore;
  bucket: string;
  /** --hold-items: how long a block's items "take" between its pre and post hooks. */
  holdItemsMs: number;
  /** Velero's dual-mode logger also writes every backup line to the server's stdout. */
  echo: (line: string) => void;
  /** Server-log lines (not in the backup log). */
  serverLog: (level: "info" | "warning" | "error", msg: string, fields?: Fields) => void;
}

export const EXCLUDE_LABEL = "velero.io/exclude-from-backup";
const DEFAULT_TTL = "720h0m0s";

export function backupPath(ns: string, name?: string): string {
  return `/apis/velero.io/v1/namespaces/${encodeURIComponent(ns)}/backups${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;
}

export function bslPath(ns: string, name?: string): string {
  return `/apis/velero.io/v1/namespaces/${encodeURIComponent(ns)}/backupstoragelocations${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;
}

/** Whether Velero's Go decoder can read this Backup (a spec hook timeout that is no Go duration cannot). */
export function decodable(backup: any): boolean {
  for (const r of backup.spec?.hooks?.resources ?? []) {
    for (const h of [...(r?.pre ?? []), ...(r?.post ?? [])]) {
      if (h?.exec?.timeout !== undefined && specTimeoutNs(h.exec.timeout) === undefined) return false;
    }
  }
  return true;
}

/** prepareBackupRequest + the InProgress/FailedValidation patch. Returns the patched Backup and whether it runs. */
async function claim(deps: RunDeps, backup: any): Promise<{ backup: any; run: boolean }> {
  const spec = backup.spec ?? {};
  const location: string = spec.storageLocation || "default";
  const errors: string[] = [];
  const bsl = await deps.kube.find(bslPath(deps.namespace, location));
  if (!bsl) {
    errors.push(
      spec.storageLocation
        ? `an existing backup storage location was not specified at backup creation time and the default ${location} was not found. Please address this issue (see \`velero backup-location -h\` for options) and create a new backup. Error: backupstoragelocations.velero.io "${location}" not found`
        : `an existing backup storage location was not specified at backup creation time and the server default ${location} does not exist. Please address this issue (see \`velero backup-location -h\` for options) and create a new backup. Error: backupstoragelocations.velero.io "${location}" not found`,
    );
  } else {
    if (bsl.spec?.accessMode === "ReadOnly")
      errors.push(
        `backup can't be created because backup storage location ${location} is currently in read-only mode`,
      );
    if (bsl.status?.phase !== "Available")
      errors.push(
        `backup can't be created because BackupStorageLocation ${location} is in Unavailable status.`,
      );
  }
  if (spec.orLabelSelectors && spec.labelSelector)
    errors.push(
      "encountered labelSelector as well as orLabelSelectors in backup spec, only one can be specified",
    );
  const now = new Date();
  const status: any = {
    version: 1,
    formatVersion: "1.1.0",
    expiration: rfc3339(new Date(now.getTime() + ttlMs(spec.ttl))),
  };
  if (errors.length > 0) {
    status.phase = "FailedValidation";
    status.validationErrors = errors;
  } else {
    status.phase = "InProgress";
    status.startTimestamp = rfc3339(now);
  }
  const patch = {
    metadata: {
      labels: { "velero.io/storage-location": location },
      annotations: {
        "velero.io/source-cluster-k8s-gitversion": "v1.32.4",
        "velero.io/source-cluster-k8s-major-version": "1",
        "velero.io/source-cluster-k8s-minor-version": "32",
        "velero.io/resource-timeout": "10m0s",
      },
    },
    // a zero duration (what `velero backup create` sends without the flag) means "the server's default"
    spec: {
      ttl: orDefault(spec.ttl, DEFAULT_TTL),
      csiSnapshotTimeout: orDefault(spec.csiSnapshotTimeout, "10m0s"),
      itemOperationTimeout: orDefault(spec.itemOperationTimeout, "4h0m0s"),
      storageLocation: location,
      defaultVolumesToFsBackup: spec.defaultVolumesToFsBackup ?? false,
      snapshotMoveData: spec.snapshotMoveData ?? false,
      ...(deps.version.queue && !(spec.includedNamespaces?.length > 0) ? { includedNamespaces: ["*"] } : {}),
    },
    status,
  };
  const updated = await deps.kube.mergePatch(backupPath(deps.namespace, backup.metadata.name), patch);
  return { backup: updated, run: errors.length === 0 };
}

function orDefault(value: string | undefined, fallback: string): string {
  return value && specTimeoutNs(value) !== 0 ? value : fallback;
}

function ttlMs(ttl: string | undefined): number {
  const ns = ttl ? specTimeoutNs(ttl) : undefined;
  return ns && ns > 0 ? ns / 1e6 : 720 * 3600 * 1000;
}

interface Item {
  resource: "namespaces" | "persistentvolumeclaims" | "persistentvolumes" | "pods";
  obj: any;
}

function itemKey(i: Item): string {
  return `${i.resource}/${i.obj.metadata.namespace ?? ""}/${i.obj.metadata.name}`;
}

const RESOURCE_ALIASES: Record<string, string> = {
  pod: "pods",
  po: "pods",
  pvc: "persistentvolumeclaims",
  persistentvolumeclaim: "persistentvolumeclaims",
  pv: "persistentvolumes",
  persistentvolume: "persistentvolumes",
  ns: "namespaces",
  namespace: "namespaces",
};

function claimNames(pod: any): string[] {
  return (pod.spec?.volumes ?? [])
    .map((v: any) => v?.persistentVolumeClaim?.claimName)
    .filter((n: unknown): n is string => typeof n === "string");
}

/** What the item collector would list for this Backup, in Velero's order (core group discovery order). */
async function collect(deps: RunDeps, backup: any): Promise<Item[]> {
  const spec = backup.spec ?? {};
  const resourceIncluded = (res: string): boolean =>
    shouldInclude(
      (spec.includedResources ?? []).map((r: string) => RESOURCE_ALIASES[r.toLowerCase()] ?? r),
      (spec.excludedResources ?? []).map((r: string) => RESOURCE_ALIASES[r.toLowerCase()] ?? r),
      res,
      true,
    );
  const selectors: LabelSelector[] =
    spec.orLabelSelectors ?? (spec.labelSelector ? [spec.labelSelector] : []);
  const compiled = selectors.map((s) => labelSelector(s));
  const selected = (labels: Record<string, string>): boolean =>
    compiled.length === 0 || compiled.some((c) => c.ok && c.matches(labels));
  const nsList: any[] = (await deps.kube.get("/api/v1/namespaces")).items ?? [];
  const namespaces = nsList.filter(
    (n) =>
      shouldInclude(spec.includedNamespaces, spec.excludedNamespaces, n.metadata.name) &&
      n.metadata.labels?.[EXCLUDE_LABEL] !== "true",
  );
  const items: Item[] = [];
  const keep = (o: any): boolean =>
    o.metadata.labels?.[EXCLUDE_LABEL] !== "true" &&
    !o.metadata.deletionTimestamp &&
    selected(o.metadata.labels ?? {});
  if (resourceIncluded("namespaces"))
    for (const n of namespaces) items.push({ resource: "namespaces", obj: n });
  for (const n of namespaces) {
    const ns = encodeURIComponent(n.metadata.name);
    if (resourceIncluded("persistentvolumeclaims"))
      for (const o of (await deps.kube.get(`/api/v1/namespaces/${ns}/persistentvolumeclaims`)).items ?? [])
        if (keep(o)) items.push({ resource: "persistentvolumeclaims", obj: o });
  }
  for (const n of namespaces) {
    const ns = encodeURIComponent(n.metadata.name);
    if (resourceIncluded("pods"))
      for (const o of (await deps.kube.get(`/api/v1/namespaces/${ns}/pods`)).items ?? [])
        if (keep(o)) items.push({ resource: "pods", obj: o });
  }
  return items;
}

/** Per-backup state shared by the block runner. */
class Run {
  readonly backedUp = new Set<string>();
  readonly log: BackupLog;
  readonly tracker: HookTracker;
  private lastProgress = 0;
  totalItems = 0;

  constructor(
    readonly deps: RunDeps,
    readonly backup: any,
    readonly resourceHooks: CompiledResourceHook[],
  ) {
    this.log = new BackupLog(
      deps.format,
      { backup: `${backup.metadata.namespace}/${backup.metadata.name}` },
      deps.echo,
    );
    this.tracker = new HookTracker(deps.version.trackerKeyHasIndex);
  }

  get hookCtx(): HookContext {
    return {
      version: this.deps.version,
      log: this.log,
      tracker: this.tracker,
      resourceHooks: this.resourceHooks,
      exec: (ns, pod, c, argv) => this.deps.kube.exec(ns, pod, c, argv),
    };
  }

  src(k: keyof VeleroVersion["src"]): string {
    return this.deps.version.src[k];
  }

  itemFields(i: Item): Fields {
    return { name: i.obj.metadata.name, namespace: i.obj.metadata.namespace ?? "", resource: i.resource };
  }

  /** backupItem's start: each item counted once, as BackedUpItems does; false if it already was. */
  backupItem(i: Item): boolean {
    const key = itemKey(i);
    if (this.backedUp.has(key)) {
      this.log.log(
        "info",
        "Skipping item because it's already been backed up.",
        this.src("alreadyBackedUp"),
        this.itemFields(i),
      );
      return false;
    }
    this.backedUp.add(key);
    this.log.log("info", "Backing up item", this.src("backingUpItem"), this.itemFields(i));
    return true;
  }

  /** status.progress at most once a second, like Velero's progress goroutine. */
  async progress(): Promise<void> {
    if (Date.now() - this.lastProgress < 1000) return;
    this.lastProgress = Date.now();
    await this.patch({
      status: {
        progress: {
          totalItems: Math.max(this.totalItems, this.backedUp.size),
          itemsBackedUp: this.backedUp.size,
        },
      },
    });
  }

  async patch(p: unknown): Promise<any> {
    return this.deps.kube.mergePatch(
      backupPath(this.backup.metadata.namespace, this.backup.metadata.name),
      p,
    );
  }

  hold(): Promise<void> {
    return this.deps.holdItemsMs > 0
      ? new Promise((r) => setTimeout(r, this.deps.holdItemsMs))
      : Promise.resolve();
  }
}

/** The ItemBlocks of 1.15+: a pod with its PVCs and their PVs, and every Running pod sharing a PVC. */
async function buildBlock(run: Run, start: Item, items: Item[], inBlock: Set<string>): Promise<Item[]> {
  const block: Item[] = [];
  const add = async (i: Item): Promise<void> => {
    const key = itemKey(i);
    if (inBlock.has(key)) return;
    inBlock.add(key);
    block.push(i);
    if (i.resource === "pods") {
      for (const claim of claimNames(i.obj)) {
        const found = items.find(
          (x) =>
            x.resource === "persistentvolumeclaims" &&
            x.obj.metadata.namespace === i.obj.metadata.namespace &&
            x.obj.metadata.name === claim,
        );
        const pvc =
          found ?? (await fetchItem(run, "persistentvolumeclaims", i.obj.metadata.namespace, claim));
        if (pvc) await add(pvc);
      }
    } else if (i.resource === "persistentvolumeclaims") {
      const pvName = i.obj.spec?.volumeName;
      if (i.obj.status?.phase === "Bound" && pvName) {
        const pv = await fetchItem(run, "persistentvolumes", undefined, pvName);
        if (pv) await add(pv);
      }
      // velero.io/pvc: every Running pod in the namespace that mounts it, selector or not.
      const pods: any[] =
        (await run.deps.kube.get(`/api/v1/namespaces/${encodeURIComponent(i.obj.metadata.namespace)}/pods`))
          .items ?? [];
      for (const p of pods) {
        if (p.status?.phase !== "Running" || !claimNames(p).includes(i.obj.metadata.name)) continue;
        if (p.metadata.labels?.[EXCLUDE_LABEL] === "true" || p.metadata.deletionTimestamp) continue;
        const listed = items.find(
          (x) =>
            x.resource === "pods" &&
            x.obj.metadata.namespace === p.metadata.namespace &&
            x.obj.metadata.name === p.metadata.name,
        );
        await add(listed ?? { resource: "pods", obj: p });
      }
    }
  };
  await add(start);
  return block;
}

async function fetchItem(
  run: Run,
  resource: Item["resource"],
  ns: string | undefined,
  name: string,
): Promise<Item | undefined> {
  const path =
    ns === undefined
      ? `/api/v1/${resource}/${encodeURIComponent(name)}`
      : `/api/v1/namespaces/${encodeURIComponent(ns)}/${resource}/${encodeURIComponent(name)}`;
  const obj = await run.deps.kube.find(path);
  return obj ? { resource, obj } : undefined;
}

/** backupItemBlock (1.15+). */
async function runBlock(run: Run, block: Item[]): Promise<void> {
  const pods = block.filter((i) => i.resource === "pods" && !run.backedUp.has(itemKey(i)));
  const ok: Item[] = [];
  for (const pod of pods) {
    const err = await handleHooks(run.hookCtx, pod.obj, "pre");
    if (!err) {
      ok.push(pod);
      continue;
    }
    run.log.log(
      "error",
      "Error running pre hooks for pod",
      run.src("preHooksFailed"),
      { name: pod.obj.metadata.name },
      err,
    );
    // A pod whose pre hook failed with Fail is flagged backed up without being written.
    run.backedUp.add(itemKey(pod));
  }
  for (const item of block) run.backupItem(item);
  await run.progress();
  // Only a block with pods has a window between pre and post hooks worth holding open.
  if (pods.length > 0) await run.hold();
  const postMsg = run.deps.version.postHooksDoubleSpace
    ? "Error running post  hooks for pod"
    : "Error running post hooks for pod";
  for (const pod of ok) {
    const err = await handleHooks(run.hookCtx, pod.obj, "post");
    if (err) run.log.log("error", postMsg, run.src("postHooksFailed"), { name: pod.obj.metadata.name }, err);
  }
}

/** backupItem with hooks inside it (<= 1.14): pre hooks, the pod and its PVCs/PVs, post hooks. */
async function runPodItem(run: Run, pod: Item, items: Item[]): Promise<void> {
  if (!run.backupItem(pod)) return;
  const err = await handleHooks(run.hookCtx, pod.obj, "pre");
  if (err) {
    run.log.log(
      "error",
      "Error backing up item",
      run.src("errorBackingUpItem"),
      { name: pod.obj.metadata.name },
      err,
    );
    return;
  }
  // The pod action's additional items: its PVCs and their PVs.
  for (const claim of claimNames(pod.obj)) {
    const pvc = items.find(
      (x) =>
        x.resource === "persistentvolumeclaims" &&
        x.obj.metadata.namespace === pod.obj.metadata.namespace &&
        x.obj.metadata.name === claim,
    );
    if (pvc) run.backupItem(pvc);
  }
  await run.progress();
  await run.hold();
  const postErr = await handleHooks(run.hookCtx, pod.obj, "post");
  if (postErr)
    run.log.log(
      "error",
      "Error backing up item",
      run.src("errorBackingUpItem"),
      { name: pod.obj.metadata.name },
      postErr,
    );
}

/** BackupWithResolvers: returns a fatal error (the Backup then fails) or undefined. */
async function backupItems(run: Run, items: Item[]): Promise<void> {
  const v = run.deps.version;
  run.totalItems = items.length;
  run.log.log(
    "info",
    `Collected ${items.length} items matching the backup spec from the Kubernetes API (actual number of items backed up may be more or less depending on velero.io/exclude-from-backup annotation, plugins returning additional related items to back up, etc.)`,
    run.src("collected"),
    { progress: "" },
  );
  await run.patch({ status: { progress: { totalItems: items.length } } });
  const inBlock = new Set<string>();
  for (let idx = 0; idx < items.length; idx++) {
    const item = items[idx]!;
    run.log.log("info", "Processing item", run.src("processingItem"), {
      progress: "",
      ...run.itemFields(item),
    });
    if (v.itemBlocks) {
      if (inBlock.has(itemKey(item))) continue;
      const block = await buildBlock(run, item, items, inBlock);
      run.log.log(
        "info",
        `Backing Up Item Block including ${item.resource} ${item.obj.metadata.namespace ?? ""}/${item.obj.metadata.name} (${block.length} items in block)`,
        run.src("itemBlock"),
      );
      await runBlock(run, block);
    } else if (item.resource === "pods") {
      await runPodItem(run, item, items);
    } else {
      run.backupItem(item);
    }
    const total = run.backedUp.size + (items.length - (idx + 1));
    const where: Fields = v.queue
      ? { kind: kindOf(item), namespace: item.obj.metadata.namespace ?? "", name: item.obj.metadata.name }
      : run.itemFields(item);
    run.log.log(
      "info",
      `Backed up ${run.backedUp.size} items out of an estimated total of ${total} (estimate will change throughout the backup)`,
      run.src("backedUpEstimate"),
      { progress: "", ...where },
    );
  }
  if (v.queue) run.log.log("info", "done processing ItemBlocks", run.src("doneItemBlocks"));
  const hooks = run.tracker.stat();
  const hookStatus: Record<string, number> = {};
  if (hooks.attempted > 0) hookStatus.hooksAttempted = hooks.attempted;
  if (hooks.failed > 0) hookStatus.hooksFailed = hooks.failed;
  await run.patch({
    status: { progress: { totalItems: run.backedUp.size, itemsBackedUp: run.backedUp.size }, hookStatus },
  });
  run.log.log("info", "Summary for skipped PVs: []", run.src("skippedPVs"));
  run.log.log("info", `Backed up a total of ${run.backedUp.size} items`, run.src("backedUpTotal"), {
    progress: "",
  });
}

function kindOf(i: Item): string {
  return {
    namespaces: "Namespace",
    persistentvolumeclaims: "PersistentVolumeClaim",
    persistentvolumes: "PersistentVolume",
    pods: "Pod",
  }[i.resource];
}

export const BACKUP_LOG_KEY = (name: string): string => `backups/${name}/${name}-logs.gz`;
export const BACKUP_RESULTS_KEY = (name: string): string => `backups/${name}/${name}-results.gz`;

/** The whole reconcile of one claimed Backup (phase ReadyToStart on 1.18, ""/New before). */
export async function processBackup(deps: RunDeps, original: any): Promise<void> {
  const name = original.metadata.name;
  const claimed = await claim(deps, original);
  if (!claimed.run) return;
  const backup = claimed.backup;
  deps.serverLog("info", "Setting up backup log", {
    backup: `${deps.namespace}/${name}`,
    controller: "backup",
  });
  const compiled = compileResourceHooks(backup.spec?.hooks?.resources);
  const run = new Run(deps, backup, compiled.ok ? compiled.hooks : []);
  const L = run.log;
  L.log("info", "Setting up backup temp file", run.src("tempFile"));
  L.log("info", "Setting up plugin manager", run.src("pluginManager"));
  L.log("info", "Getting backup item actions", run.src("itemActions"));
  if (deps.version.itemBlocks) L.log("info", "Getting ItemBlock actions", run.src("itemBlockActions"));
  L.log("info", "Setting up backup store to check for backup existence", run.src("storeCheck"));
  let fatal: GoError | undefined;
  if (deps.store.has(deps.bucket, `backups/${name}/velero-backup.json`)) {
    fatal = { message: "backup already exists in object storage" };
  } else {
    L.log("info", "Writing backup version file", run.src("versionFile"));
    L.log(
      "info",
      `Including namespaces: ${(backup.spec?.includedNamespaces ?? []).join(", ") || "*"}`,
      run.src("includingNs"),
    );
    L.log(
      "info",
      `Excluding namespaces: ${(backup.spec?.excludedNamespaces ?? []).join(", ") || "<none>"}`,
      run.src("excludingNs"),
    );
    if (!compiled.ok) fatal = { message: compiled.error };
    else {
      try {
        await backupItems(run, await collect(deps, backup));
      } catch (e) {
        fatal = { message: (e as Error).message };
      }
    }
  }
  const status: any = { warnings: L.counts.warning || undefined, errors: L.counts.error || undefined };
  status.phase = fatal ? "Failed" : L.counts.error > 0 ? "FinalizingPartiallyFailed" : "Finalizing";
  if (fatal) {
    status.failureReason = fatal.message;
    status.completionTimestamp = rfc3339(new Date());
  }
  if (!(fatal?.message === "backup already exists in object storage")) {
    const current = await deps.kube.get(backupPath(deps.namespace, name));
    const gz = (s: string): Buffer => gzipSync(Buffer.from(s));
    deps.store.put(deps.bucket, BACKUP_LOG_KEY(name), gz(L.text()));
    deps.store.put(
      deps.bucket,
      `backups/${name}/velero-backup.json`,
      Buffer.from(JSON.stringify({ ...current, status: { ...current.status, ...status } }, null, 2)),
    );
    deps.store.put(deps.bucket, BACKUP_RESULTS_KEY(name), gz(resultsJson(L.results)));
  }
  deps.serverLog("info", `Initial backup processing complete, moving to ${status.phase}`, {
    backup: `${deps.namespace}/${name}`,
  });
  await run.patch({ status });
}

/** The finalizer controller: Finalizing* -> Completed / PartiallyFailed with completionTimestamp. */
export async function finalizeBackup(deps: RunDeps, backup: any): Promise<void> {
  const phase = backup.status?.phase === "FinalizingPartiallyFailed" ? "PartiallyFailed" : "Completed";
  await deps.kube.mergePatch(backupPath(deps.namespace, backup.metadata.name), {
    status: { phase, completionTimestamp: rfc3339(new Date()) },
  });
}
