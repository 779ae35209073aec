// The in-memory object store: objects per resource, one global resourceVersion counter (like etcd's
// revision), and a bounded history of watch events so watches can resume from a resourceVersion and
// get 410 Gone once it has left the window. Everything stored or handed out is a deep copy.
import type { ResourceDef } from "./resources.js";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoredEvent {
  rv: number;
  type: WatchEventType;
  resource: ResourceDef;
  namespace: string | undefined;
  object: any;
}

function resKey(r: ResourceDef): string {
  return `${r.group}/${r.plural}`;
}

function objKey(ns: string | undefined, name: string): string {
  return `${ns ?? ""}/${name}`;
}

export class ObjectStore {
  private rv = 0;
  private readonly objects = new Map<string, Map<string, any>>();
  private history: StoredEvent[] = [];
  /** Watches from a resourceVersion below this get 410 Gone. */
  private compactedBelow = 0;
  private readonly listeners = new Set<(e: StoredEvent) => void>();

  constructor(public historyLimit = 10_000) {}

  get resourceVersion(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch may still start from. */
  get oldestWatchable(): number {
    return this.compactedBelow;
  }

  get(r: ResourceDef, ns: string | undefined, name: string): any | undefined {
    const o = this.objects.get(resKey(r))?.get(objKey(r.namespaced ? ns : undefined, name));
    return o === undefined ? undefined : structuredClone(o);
  }

  list(r: ResourceDef, ns?: string): any[] {
    const m = this.objects.get(resKey(r));
    if (!m) return [];
    const all = [...m.values()].filter((o) => ns === undefined || o.metadata?.namespace === ns);
    all.sort((a, b) =>
      objKey(a.metadata.namespace, a.metadata.name).localeCompare(
        objKey(b.metadata.namespace, b.metadata.name),
      ),
    );
    return all.map((o) => structuredClone(o));
  }

  /** Stores a create or update, stamping a fresh resourceVersion; returns the stored copy. */
  write(r: ResourceDef, obj: any, type: "ADDED" | "MODIFIED"): any {
    const rv = ++this.rv;
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(rv);
    let m = this.objects.get(resKey(r));
    if (!m) this.objects.set(resKey(r), (m = new Map()));
    m.set(objKey(stored.metadata.namespace, stored.metadata.name), stored);
    this.record({ rv, type, resource: r, namespace: stored.metadata.namespace, object: stored });
    return structuredClone(stored);
  }

  /** Removes an object; the DELETED event carries its last state at the deletion's resourceVersion. */
  remove(r: ResourceDef, ns: string | undefined, name: string): any | undefined {
    const m = this.objects.get(resKey(r));
    const key = objKey(r.namespaced ? ns : undefined, name);
    const old = m?.get(key);
    if (!m || old === undefined) return undefined;
    m.delete(key);
    const rv = ++this.rv;
    const last = structuredClone(old);
    last.metadata.resourceVersion = String(rv);
    this.record({ rv, type: "DELETED", resource: r, namespace: last.metadata.namespace, object: last });
    return structuredClone(last);
  }

  subscribe(fn: (e: StoredEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Events after `rv` for a resource, or "expired" when `rv` is older than the retained window. */
  eventsSince(r: ResourceDef, rv: number): StoredEvent[] | "expired" {
    if (rv < this.compactedBelow) return "expired";
    return this.history
      .filter((e) => e.rv > rv && e.resource === r)
      .map((e) => ({ ...e, object: structuredClone(e.object) }));
  }

  /** Knob: forget history so that watches from a resourceVersion below `rv` get 410 Gone. */
  expireBefore(rv: number): void {
    // A watch from the current resourceVersion (what a fresh list returns) always stays valid, as on
    // a real server; otherwise an informer would re-list forever.
    this.compactedBelow = Math.max(this.compactedBelow, Math.min(rv, this.rv));
    this.history = this.history.filter((e) => e.rv > this.compactedBelow);
  }

  private record(e: StoredEvent): void {
    this.history.push(e);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedBelow = Math.max(this.compactedBelow, dropped[dropped.length - 1]!.rv);
    }
    for (const fn of this.listeners) {
      try {
        fn({ ...e, object: structuredClone(e.object) });
      } catch {
        // A broken listener (e.g. a closed watch) must not stop the write.
      }
    }
  }
}
