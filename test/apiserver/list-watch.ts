// List and watch. Lists carry the store's current resourceVersion; watches stream newline-delimited
// JSON events (ADDED/MODIFIED/DELETED/ERROR) from a resourceVersion, replaying retained history, and
// send the real 410 Expired ERROR event when it has been compacted away. Objects that stop or start
// matching a selector arrive as DELETED / ADDED, like the real watch cache.
import type { IncomingMessage, ServerResponse } from "node:http";
import { groupVersion, type ResourceDef } from "./resources.js";
import {
  checkFieldSelector,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from "./selectors.js";
import { badRequest, expired } from "./status.js";
import type { ObjectStore, StoredEvent } from "./store.js";
import { sendJson } from "./http-util.js";
import { toTable, wantsTable } from "./table.js";

export interface WatchKnobs {
  /** Each watch stream is closed after this long (exercises clients' re-watch paths). */
  closeWatchesAfterMs?: number;
}

export function withKind(r: ResourceDef, o: any): any {
  return { apiVersion: groupVersion(r), kind: r.kind, ...o };
}

function filterFor(r: ResourceDef, ns: string | undefined, query: URLSearchParams): (o: any) => boolean {
  const labels = parseLabelSelector(query.get("labelSelector"));
  const fields = parseFieldSelector(query.get("fieldSelector"));
  checkFieldSelector(r.kind, fields);
  return (o) =>
    (ns === undefined || !r.namespaced || o.metadata?.namespace === ns) &&
    matchesLabels(labels, o.metadata?.labels) &&
    matchesFields(r.kind, fields, o);
}

export function serveList(
  req: IncomingMessage,
  res: ServerResponse,
  store: ObjectStore,
  r: ResourceDef,
  ns: string | undefined,
  query: URLSearchParams,
): void {
  const match = filterFor(r, ns, query);
  const items = store.list(r, r.namespaced ? ns : undefined).filter(match);
  const rv = String(store.resourceVersion);
  if (wantsTable(req.headers.accept)) {
    sendJson(res, 200, toTable(r, items, rv));
    return;
  }
  // Built-in lists carry no kind/apiVersion on items; custom resource lists do.
  const out = r.builtin ? items : items.map((o) => withKind(r, o));
  sendJson(res, 200, {
    apiVersion: groupVersion(r),
    kind: `${r.kind}List`,
    metadata: { resourceVersion: rv },
    items: out,
  });
}

export class WatchHub {
  private readonly open = new Set<ServerResponse>();

  constructor(
    private readonly store: ObjectStore,
    private readonly knobs: WatchKnobs,
  ) {}

  closeAll(): void {
    for (const res of this.open) res.end();
    this.open.clear();
  }

  get openCount(): number {
    return this.open.size;
  }

  serve(
    req: IncomingMessage,
    res: ServerResponse,
    r: ResourceDef,
    ns: string | undefined,
    query: URLSearchParams,
  ): void {
    const match = filterFor(r, ns, query);
    const rvParam = query.get("resourceVersion") ?? "";
    let fromRv: number | undefined;
    if (rvParam !== "" && rvParam !== "0") {
      fromRv = Number(rvParam);
      if (!Number.isInteger(fromRv) || fromRv < 0) throw badRequest(`invalid resource version: ${rvParam}`);
    }
    res.writeHead(200, {
      "Content-Type": "application/json",
      "Cache-Control": "no-cache, private",
      "Transfer-Encoding": "chunked",
    });
    res.flushHeaders();
    const write = (type: string, object: unknown): void => {
      if (!res.writableEnded && !res.destroyed) res.write(JSON.stringify({ type, object }) + "\n");
    };

    // Backlog and subscription happen in one synchronous step, so no write can fall between them.
    const visible = new Set<string>();
    const key = (o: any): string => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
    let backlog: StoredEvent[] | "expired" = [];
    if (fromRv === undefined) {
      for (const o of this.store.list(r, r.namespaced ? ns : undefined).filter(match)) {
        visible.add(key(o));
        write("ADDED", withKind(r, o));
      }
    } else {
      backlog = this.store.eventsSince(r, fromRv);
      if (backlog === "expired") {
        write("ERROR", expired(`too old resource version: ${fromRv} (${this.store.oldestWatchable})`));
        res.end();
        return;
      }
      for (const o of this.store.list(r, r.namespaced ? ns : undefined)) if (match(o)) visible.add(key(o));
    }
    if (fromRv !== undefined) {
      for (const e of backlog) if (match(e.object)) write(e.type, withKind(r, e.object));
    }
    const deliver = (e: StoredEvent): void => {
      if (e.resource !== r) return;
      const k = key(e.object);
      const was = visible.has(k);
      if (e.type === "DELETED") {
        if (was || match(e.object)) write("DELETED", withKind(r, e.object));
        visible.delete(k);
      } else if (match(e.object)) {
        write(was ? "MODIFIED" : "ADDED", withKind(r, e.object));
        visible.add(k);
      } else if (was) {
        visible.delete(k);
        write("DELETED", withKind(r, e.object));
      }
    };
    const unsubscribe = this.store.subscribe(deliver);
    this.open.add(res);
    const timers: NodeJS.Timeout[] = [];
    const timeoutSeconds = Number(query.get("timeoutSeconds") ?? "");
    if (Number.isFinite(timeoutSeconds) && timeoutSeconds > 0)
      timers.push(setTimeout(() => res.end(), timeoutSeconds * 1000));
    if (this.knobs.closeWatchesAfterMs && this.knobs.closeWatchesAfterMs > 0)
      timers.push(setTimeout(() => res.end(), this.knobs.closeWatchesAfterMs));
    const cleanup = (): void => {
      unsubscribe();
      timers.forEach(clearTimeout);
      this.open.delete(res);
    };
    res.on("close", cleanup);
    req.on("close", () => {
      cleanup();
      res.end();
    });
  }
}
