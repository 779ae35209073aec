// Recording fakes of the agent's ports (Velero-style: MockPodCommandExecutor.HookExecutionLog), plus
// small builders. The fakes keep one shared `events` list so tests can assert the order of hook
// executions relative to the item step (snapshots).
import type { VeleroServerSignals } from "../../src/velero/server-detect.js";
import type { PodLike, PvcLike, PvLike } from "../../src/domain/types.js";
import type {
  AgentCluster,
  ExecRequest,
  ExecResult,
  KubeResult,
  PodExecutor,
  VolumeSnapshotRef,
} from "../../src/agent/ports.js";
import type { BackupObject, BackupStatus, ScheduleObject } from "../../src/velero/types.js";

export type Behaviour = (req: ExecRequest) => ExecResult | Promise<ExecResult>;

const captured = { stdout: "", stderr: "", stdoutTruncated: false, stderrTruncated: false, durationMs: 1 };
export const exited = (exitCode: number, stdout = "", stderr = ""): ExecResult => ({
  kind: "exited",
  exitCode,
  ...captured,
  stdout,
  stderr,
});
export const timedOut = (): ExecResult => ({ kind: "timed_out", ...captured });
export const transportError = (message: string): ExecResult => ({
  kind: "transport_error",
  message,
  ...captured,
});

export class RecordingExecutor implements PodExecutor {
  readonly calls: ExecRequest[] = [];
  /** behaviour by argv[0]; default exits 0 */
  readonly behaviours = new Map<string, Behaviour>();
  constructor(private readonly events: string[]) {}
  async exec(req: ExecRequest): Promise<ExecResult> {
    this.calls.push(req);
    this.events.push(`exec ${req.namespace}/${req.pod} ${req.container} ${req.argv.join(" ")}`);
    const b = this.behaviours.get(req.argv[0] ?? "");
    return b ? b(req) : exited(0);
  }
}

const ok = <T>(value: T): KubeResult<T> => ({ ok: true, value });
const fail = (code: number, message: string): KubeResult<never> => ({
  ok: false,
  error: { code, reason: code === 409 ? "Conflict" : "Error", message },
});

export class FakeCluster implements AgentCluster {
  namespaces = ["default"];
  pods: PodLike[] = [];
  pvcs: PvcLike[] = [];
  pvs: PvLike[] = [];
  backups = new Map<string, BackupObject>();
  snapshots = new Map<string, { ready: boolean; error?: string; pvc: string }>();
  kubeEvents: Array<{ kind: string; name: string; type: string; reason: string; message: string }> = [];
  /** each VolumeSnapshot becomes ready after this many state reads (0 = immediately) */
  snapshotReadyAfterReads = 0;
  snapshotReads = new Map<string, number>();
  /** make pod reads fail or change */
  getPodOverride: ((ns: string, name: string) => KubeResult<PodLike | undefined>) | undefined;
  metadataPatches: Array<Record<string, string | null>> = [];
  statusPatches: Array<Partial<BackupStatus>> = [];
  failMetadataPatch = false;
  private rv = 1;

  constructor(readonly events: string[]) {}

  async getPod(ns: string, name: string) {
    if (this.getPodOverride) return this.getPodOverride(ns, name);
    return ok(this.pods.find((p) => p.metadata?.namespace === ns && p.metadata?.name === name));
  }
  async listPods(ns?: string) {
    return ok(this.pods.filter((p) => ns === undefined || p.metadata?.namespace === ns));
  }
  async listPvcs(ns?: string) {
    return ok(this.pvcs.filter((p) => ns === undefined || p.metadata?.namespace === ns));
  }
  async listPvs() {
    return ok(this.pvs);
  }
  async listNamespaces() {
    return ok([...this.namespaces]);
  }
  private key(ns: string, name: string): string {
    return `${ns}/${name}`;
  }
  async getBackup(ns: string, name: string) {
    const b = this.backups.get(this.key(ns, name));
    return ok(b ? structuredClone(b) : undefined);
  }
  async listBackups(ns: string) {
    return ok(
      [...this.backups.values()].filter((b) => b.metadata.namespace === ns).map((b) => structuredClone(b)),
    );
  }
  async createBackup(b: BackupObject) {
    const stored = structuredClone(b);
    stored.metadata.resourceVersion = String(this.rv++);
    this.backups.set(this.key(b.metadata.namespace, b.metadata.name), stored);
    return ok(structuredClone(stored));
  }
  async replaceBackup(b: BackupObject) {
    const cur = this.backups.get(this.key(b.metadata.namespace, b.metadata.name));
    if (!cur) return fail(404, "not found");
    if (cur.metadata.resourceVersion !== b.metadata.resourceVersion)
      return fail(409, "the object has been modified");
    const stored = structuredClone(b);
    stored.metadata.resourceVersion = String(this.rv++);
    this.backups.set(this.key(b.metadata.namespace, b.metadata.name), stored);
    return ok(structuredClone(stored));
  }
  async patchBackupStatus(ns: string, name: string, status: Partial<BackupStatus>, resourceVersion?: string) {
    const cur = this.backups.get(this.key(ns, name));
    if (!cur) return fail(404, "not found");
    if (resourceVersion !== undefined && cur.metadata.resourceVersion !== resourceVersion)
      return fail(409, "the object has been modified");
    this.statusPatches.push(status);
    cur.status = { ...(cur.status ?? {}), ...status };
    cur.metadata.resourceVersion = String(this.rv++);
    return ok(structuredClone(cur));
  }
  async patchBackupMetadata(
    ns: string,
    name: string,
    metadata: { annotations?: Record<string, string | null> },
  ) {
    const cur = this.backups.get(this.key(ns, name));
    if (!cur) return fail(404, "not found");
    if (this.failMetadataPatch) return fail(500, "etcd is on fire");
    const ann = { ...(cur.metadata.annotations ?? {}) };
    for (const [k, v] of Object.entries(metadata.annotations ?? {})) {
      if (v === null) delete ann[k];
      else ann[k] = v;
    }
    this.metadataPatches.push(metadata.annotations ?? {});
    this.events.push(`pending ${ann["hookguard.io/pending-post-hooks"] ?? "-"}`);
    cur.metadata.annotations = ann;
    cur.metadata.resourceVersion = String(this.rv++);
    return ok(structuredClone(cur));
  }
  async listSchedules(): Promise<KubeResult<ScheduleObject[]>> {
    return ok([]);
  }
  async patchScheduleStatus(): Promise<KubeResult<ScheduleObject>> {
    return fail(404, "no schedules in this fake");
  }
  async createVolumeSnapshot(ns: string, name: string, pvc: string): Promise<KubeResult<VolumeSnapshotRef>> {
    this.events.push(`snapshot ${ns}/${pvc}`);
    this.snapshots.set(this.key(ns, name), { ready: false, pvc });
    return ok({ namespace: ns, name });
  }
  async getVolumeSnapshotState(ns: string, name: string) {
    const s = this.snapshots.get(this.key(ns, name));
    if (!s) return fail(404, "not found");
    const reads = (this.snapshotReads.get(name) ?? 0) + 1;
    this.snapshotReads.set(name, reads);
    if (s.error) return ok({ readyToUse: false, error: s.error });
    return ok({ readyToUse: reads > this.snapshotReadyAfterReads });
  }
  async listVolumeSnapshots(
    _labelSelector: string,
  ): Promise<KubeResult<Array<VolumeSnapshotRef & { deleting: boolean }>>> {
    return ok([]);
  }
  async deleteVolumeSnapshot(ns: string, name: string): Promise<KubeResult<void>> {
    this.snapshots.delete(this.key(ns, name));
    return ok(undefined);
  }
  async deleteBackup(ns: string, name: string): Promise<KubeResult<void>> {
    this.backups.delete(this.key(ns, name));
    return ok(undefined);
  }
  async createEvent(
    involved: { kind: string; name: string },
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ) {
    this.kubeEvents.push({ kind: involved.kind, name: involved.name, type, reason, message });
  }
  /** what readVeleroServerSignals answers (default: no Velero server) */
  veleroSignals: VeleroServerSignals = { storageLocations: [], deployments: [], pods: [] };
  veleroSignalReads = 0;
  async readVeleroServerSignals(_namespace: string) {
    this.veleroSignalReads++;
    return ok(structuredClone(this.veleroSignals));
  }
}

// ------------------------------------------------------------------ builders

export class PodBuilder {
  private readonly pod: PodLike;
  constructor(name: string, namespace = "default") {
    this.pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace, uid: `uid-${name}`, labels: {}, annotations: {} },
      spec: { containers: [{ name: "app" }], volumes: [] },
      status: { phase: "Running", containerStatuses: [{ name: "app", state: { running: {} } }] },
    };
  }
  containers(...names: string[]): this {
    this.pod.spec!.containers = names.map((name) => ({ name }));
    this.pod.status!.containerStatuses = names.map((name) => ({ name, state: { running: {} } }));
    return this;
  }
  annotate(key: string, value: string): this {
    this.pod.metadata!.annotations![key] = value;
    return this;
  }
  hook(
    phase: "pre" | "post",
    command: string[] | string,
    extra: { container?: string; onError?: string; timeout?: string } = {},
  ): this {
    const p = `${phase}.hook.backup.velero.io/`;
    this.annotate(`${p}command`, typeof command === "string" ? command : JSON.stringify(command));
    if (extra.container !== undefined) this.annotate(`${p}container`, extra.container);
    if (extra.onError !== undefined) this.annotate(`${p}on-error`, extra.onError);
    if (extra.timeout !== undefined) this.annotate(`${p}timeout`, extra.timeout);
    return this;
  }
  label(key: string, value: string): this {
    this.pod.metadata!.labels![key] = value;
    return this;
  }
  phase(phase: string): this {
    this.pod.status!.phase = phase;
    return this;
  }
  notRunning(container: string): this {
    this.pod.status!.containerStatuses = this.pod.status!.containerStatuses!.map((c) =>
      c.name === container ? { name: c.name, state: {} } : c,
    );
    return this;
  }
  pvc(claim: string): this {
    this.pod.spec!.volumes!.push({ name: `v-${claim}`, persistentVolumeClaim: { claimName: claim } });
    return this;
  }
  deleting(): this {
    this.pod.metadata!.deletionTimestamp = "2026-01-01T00:00:00Z";
    return this;
  }
  build(): PodLike {
    return structuredClone(this.pod);
  }
}

export const pod = (name: string, namespace = "default"): PodBuilder => new PodBuilder(name, namespace);

export function pvcAndPv(name: string, namespace = "default"): { pvc: PvcLike; pv: PvLike } {
  const pvName = `pv-${namespace}-${name}`;
  return {
    pvc: {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name, namespace, labels: {} },
      spec: { volumeName: pvName, accessModes: ["ReadWriteMany"] },
      status: { phase: "Bound" },
    },
    pv: {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: pvName },
      spec: { claimRef: { namespace, name } },
    },
  };
}

export function backupObject(
  name: string,
  spec: BackupObject["spec"] = {},
  namespace = "velero",
): BackupObject {
  return {
    apiVersion: "velero.io/v1",
    kind: "Backup",
    metadata: { name, namespace, uid: `uid-${name}`, annotations: {} },
    spec,
    status: {},
  };
}
