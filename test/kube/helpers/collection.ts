// One in-memory collection served over the test HTTPS server with Kubernetes list/watch wire
// semantics: list returns items + metadata.resourceVersion; `?watch=true&resourceVersion=N` streams
// JSON lines {type, object} from N on; knobs make the next watch answer 410 or 500.
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson, status, type Handler } from "./https-server.js";

export interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}

export class Collection {
  rv = 1;
  objects = new Map<string, Obj>();
  history: Array<{ rv: number; type: string; object: Obj }> = [];
  watchers = new Set<ServerResponse>();
  lists = 0;
  watches = 0;
  /** Answer the next N watch requests with this status code. */
  failWatches: { code: number; count: number } = { code: 0, count: 0 };
  failLists = 0;
  /** Oldest resourceVersion a watch may start from (older → 410 Gone). */
  compactedBelow = 0;

  constructor(readonly path: string) {}

  put(name: string, namespace: string, extra: Record<string, unknown> = {}): Obj {
    const key = `${namespace}/${name}`;
    const type = this.objects.has(key) ? "MODIFIED" : "ADDED";
    const obj: Obj = {
      apiVersion: "velero.io/v1",
      kind: "Backup",
      ...extra,
      metadata: { name, namespace, resourceVersion: String(++this.rv) },
    };
    this.objects.set(key, obj);
    this.emit(type, obj);
    return obj;
  }

  remove(name: string, namespace: string): void {
    const key = `${namespace}/${name}`;
    const obj = this.objects.get(key);
    if (!obj) return;
    this.objects.delete(key);
    this.emit("DELETED", { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } });
  }

  /** Change state without telling open watches (a "missed" event), e.g. to test resync/410. */
  putSilently(name: string, namespace: string, extra: Record<string, unknown> = {}): void {
    this.objects.set(`${namespace}/${name}`, {
      apiVersion: "velero.io/v1",
      kind: "Backup",
      ...extra,
      metadata: { name, namespace, resourceVersion: String(++this.rv) },
    });
  }
  removeSilently(name: string, namespace: string): void {
    this.objects.delete(`${namespace}/${name}`);
    this.rv++;
  }

  closeWatches(): void {
    for (const w of this.watchers) w.end();
    this.watchers.clear();
  }

  private emit(type: string, object: Obj): void {
    this.history.push({ rv: this.rv, type, object });
    for (const w of this.watchers) w.write(`${JSON.stringify({ type, object })}\n`);
  }

  handler(): Handler {
    return (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? "/", "https://x");
      if (url.pathname !== this.path || req.method !== "GET")
        return sendJson(res, 404, status(404, "NotFound", "not found"));
      if (url.searchParams.get("watch") !== "true") {
        this.lists++;
        if (this.failLists > 0) {
          this.failLists--;
          return sendJson(res, 500, status(500, "InternalError", "list failed"));
        }
        return sendJson(res, 200, {
          apiVersion: "v1",
          kind: "List",
          metadata: { resourceVersion: String(this.rv) },
          items: [...this.objects.values()],
        });
      }
      this.watches++;
      if (this.failWatches.count > 0) {
        this.failWatches.count--;
        const code = this.failWatches.code;
        return sendJson(res, code, status(code, code === 410 ? "Expired" : "InternalError", "watch refused"));
      }
      const from = Number(url.searchParams.get("resourceVersion") ?? "0");
      if (from < this.compactedBelow)
        return sendJson(res, 410, status(410, "Expired", "too old resource version"));
      res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
      res.flushHeaders();
      for (const h of this.history)
        if (h.rv > from) res.write(`${JSON.stringify({ type: h.type, object: h.object })}\n`);
      this.watchers.add(res);
      res.on("close", () => this.watchers.delete(res));
    };
  }
}
