// In-memory fake of the companion's own port (src/agent/companion/ports.ts): ConfigMaps with
// resourceVersion-guarded replace, DownloadRequests that a scripted "Velero" answers, signed URLs
// served from a map, Backups delivered to watch handlers, and a record of Events.
import type { PodLike, PvcLike, PvLike, Result } from "../../src/domain/types.js";
import type { KubeResult } from "../../src/agent/ports.js";
import type { BackupObject } from "../../src/velero/types.js";
import type {
  BackupEventType,
  BackupWatch,
  CompanionCluster,
  ConfigMapObject,
  DownloadError,
  DownloadRequestObject,
  InvolvedObject,
} from "../../src/agent/companion/ports.js";

const ok = <T>(value: T): KubeResult<T> => ({ ok: true, value });
const fail = (code: number, reason: string, message: string): KubeResult<never> => ({
  ok: false,
  error: { code, reason, message },
});
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

export interface RecordedEvent {
  kind: string;
  namespace: string;
  name: string;
  type: string;
  reason: string;
  message: string;
}

export class FakeCompanionCluster implements CompanionCluster {
  namespaces = ["velero", "default"];
  pods: PodLike[] = [];
  backups = new Map<string, BackupObject>();
  configMaps = new Map<string, ConfigMapObject>();
  downloadRequests = new Map<string, DownloadRequestObject>();
  /** every DownloadRequest ever created, in order */
  createdDownloadRequests: DownloadRequestObject[] = [];
  /** object-store contents by Backup name: the gunzipped log text; undefined = 404 */
  logs = new Map<string, string>();
  /** Velero answers a DownloadRequest after this many GETs (Infinity = never: Velero down) */
  answerAfterGets = 1;
  events: RecordedEvent[] = [];
  /** fail the next N ConfigMap replaces with this code */
  failReplaces: Array<number> = [];
  /** run before a replace is applied: lets a test write "as another agent" in between */
  beforeReplace: (() => void) | undefined;
  private rv = 1;
  private handlers: Array<(type: BackupEventType, b: BackupObject) => void> = [];
  private gets = new Map<string, number>();

  // ------------------------------------------------------------- Backups
  watchBackups(_namespace: string, handler: (type: BackupEventType, b: BackupObject) => void): BackupWatch {
    let running = false;
    let synced = false;
    const wrapped = (t: BackupEventType, b: BackupObject): void => {
      if (running) handler(t, clone(b));
    };
    return {
      start: async () => {
        running = true;
        this.handlers.push(wrapped);
        for (const b of this.backups.values()) wrapped("add", b);
        synced = true;
      },
      stop: async () => {
        running = false;
        synced = false;
        this.handlers = this.handlers.filter((h) => h !== wrapped);
      },
      synced: () => synced,
    };
  }

  /** Creates or updates a Backup and tells the watchers, as the API server would. */
  putBackup(b: BackupObject): void {
    const known = this.backups.has(b.metadata.name);
    const stored = clone(b);
    stored.metadata.resourceVersion = String(this.rv++);
    this.backups.set(b.metadata.name, stored);
    for (const h of this.handlers) h(known ? "update" : "add", stored);
  }

  deleteBackup(name: string): void {
    const b = this.backups.get(name);
    if (!b) return;
    this.backups.delete(name);
    for (const h of this.handlers) h("delete", b);
  }

  async getBackup(_namespace: string, name: string) {
    const b = this.backups.get(name);
    return ok(b ? clone(b) : undefined);
  }

  // ------------------------------------------------------------- pods (no Velero server pods here)
  watchPods(): BackupWatch {
    let synced = false;
    return {
      start: async () => {
        synced = true;
      },
      stop: async () => {
        synced = false;
      },
      synced: () => synced,
    };
  }
  async getPod(namespace: string, name: string) {
    const p = this.pods.find((x) => x.metadata?.namespace === namespace && x.metadata?.name === name);
    return ok(p ? clone(p) : undefined);
  }

  // ------------------------------------------------------------- scope
  async listNamespaces() {
    return ok([...this.namespaces]);
  }
  async listPods(namespace?: string) {
    return ok(
      this.pods.filter((p) => namespace === undefined || p.metadata?.namespace === namespace).map(clone),
    );
  }
  async listPvcs(): Promise<KubeResult<PvcLike[]>> {
    return ok([]);
  }
  async listPvs(): Promise<KubeResult<PvLike[]>> {
    return ok([]);
  }

  // ------------------------------------------------------------- DownloadRequests
  async createDownloadRequest(dr: DownloadRequestObject) {
    if (this.downloadRequests.has(dr.metadata.name)) return fail(409, "AlreadyExists", "exists");
    const stored = clone(dr);
    stored.metadata.resourceVersion = String(this.rv++);
    this.downloadRequests.set(dr.metadata.name, stored);
    this.createdDownloadRequests.push(clone(stored));
    return ok(clone(stored));
  }
  async getDownloadRequest(_namespace: string, name: string) {
    const dr = this.downloadRequests.get(name);
    if (!dr) return ok(undefined);
    const n = (this.gets.get(name) ?? 0) + 1;
    this.gets.set(name, n);
    // Velero's download-request controller: Processed + a signed URL, if the Backup exists
    if (n >= this.answerAfterGets && this.backups.has(dr.spec.target.name) && !dr.status?.downloadURL) {
      dr.status = {
        phase: "Processed",
        downloadURL: `https://store.example/${dr.spec.target.name}/${dr.spec.target.kind}?sig=${name}`,
      };
    }
    return ok(clone(dr));
  }
  async deleteDownloadRequest(_namespace: string, name: string): Promise<KubeResult<void>> {
    this.downloadRequests.delete(name);
    return ok(undefined);
  }
  async fetchDownload(url: string): Promise<Result<string, DownloadError>> {
    const m = /^https:\/\/store\.example\/([^/]+)\/BackupLog\?sig=/.exec(url);
    const text = m ? this.logs.get(m[1]!) : undefined;
    if (text === undefined) return { ok: false, error: { kind: "not_found", message: "file not found" } };
    return { ok: true, value: text };
  }

  // ------------------------------------------------------------- ConfigMaps
  async getConfigMap(namespace: string, name: string) {
    const cm = this.configMaps.get(`${namespace}/${name}`);
    return ok(cm ? clone(cm) : undefined);
  }
  async createConfigMap(cm: ConfigMapObject) {
    const key = `${cm.metadata.namespace}/${cm.metadata.name}`;
    if (this.configMaps.has(key))
      return fail(409, "AlreadyExists", `configmaps "${cm.metadata.name}" already exists`);
    const stored = clone(cm);
    stored.metadata.resourceVersion = String(this.rv++);
    this.configMaps.set(key, stored);
    return ok(clone(stored));
  }
  async replaceConfigMap(cm: ConfigMapObject) {
    this.beforeReplace?.();
    const code = this.failReplaces.shift();
    if (code !== undefined)
      return fail(code, code === 409 ? "Conflict" : "InternalError", `injected ${code}`);
    const key = `${cm.metadata.namespace}/${cm.metadata.name}`;
    const cur = this.configMaps.get(key);
    if (!cur) return fail(404, "NotFound", "not found");
    if (cm.metadata.resourceVersion !== cur.metadata.resourceVersion)
      return fail(409, "Conflict", "the object has been modified");
    const stored = clone(cm);
    stored.metadata.resourceVersion = String(this.rv++);
    this.configMaps.set(key, stored);
    return ok(clone(stored));
  }

  // ------------------------------------------------------------- Events
  async createEvent(involved: InvolvedObject, type: "Normal" | "Warning", reason: string, message: string) {
    this.events.push({
      kind: involved.kind,
      namespace: involved.namespace,
      name: involved.name,
      type,
      reason,
      message,
    });
  }
}
