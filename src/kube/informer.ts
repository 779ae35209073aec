// A resilient informer around client-node 1.4.0 `ListWatch`. The library lists, diffs, watches and
// re-lists on 410 by itself; what it lacks (see docs/client-node.md "Watch and informer"):
// - any non-410 error stops it for good → we start a fresh ListWatch with exponential backoff;
// - a cleanly closed watch is reopened at once with no backoff → a server that keeps closing the
//   watch immediately is treated as an error after a burst of reconnects;
// - a handler that throws becomes an unhandled rejection → every handler is wrapped;
// - stop() fires error callbacks and a stopped ListWatch can still open a watch if a list was in
//   flight → each ListWatch instance belongs to a generation and stale ones are ignored;
// - no resync → every `resyncMs` a fresh ListWatch re-lists and every object is re-delivered.
// Our own cache (key → object) decides add vs update across ListWatch instances and emits delete
// for objects that vanished while we were not watching.
import { ListWatch, Watch, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "../log.js";
import type { BackupObject, ScheduleObject } from "../velero/types.js";
import { VELERO } from "./agent-cluster.js";
import { makePooledApiClient } from "./transport.js";

export type InformerEvent = "add" | "update" | "delete";
export interface Watchable {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}
export interface ListResult<T> {
  items: T[];
  metadata?: { resourceVersion?: string };
}
export interface WatchOptions<T> {
  /** Collection path without query, e.g. /apis/velero.io/v1/namespaces/velero/backups */
  path: string;
  /** Must apply labelSelector itself (ListWatch only passes it to the watch). */
  list: () => Promise<ListResult<T>>;
  labelSelector?: string;
  /** Full re-list period; every object is re-delivered as `update` (default 5 min). */
  resyncMs?: number;
  /** Restart backoff bounds after an error (default 1 s → 30 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}
export interface ObjectWatcher {
  /** Resolves once the first list has been delivered and the watch is open, or after a failed attempt (retried in the background). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True after a successful list and watch open; false again while restarting after an error. */
  synced(): boolean;
}

/** Reconnects within this window beyond this count count as a failing watch. */
const RECONNECT_BURST = { count: 5, windowMs: 2000 };

const keyOf = (o: Watchable): string => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

export function watchObjects<T extends Watchable>(
  kc: KubeConfig,
  opts: WatchOptions<T>,
  onEvent: (type: InformerEvent, obj: T) => void,
  log: Logger,
): ObjectWatcher {
  const resyncMs = opts.resyncMs ?? 5 * 60_000;
  const minBackoff = opts.minBackoffMs ?? 1000;
  const maxBackoff = opts.maxBackoffMs ?? 30_000;
  const cache = new Map<string, T>();
  let generation = 0;
  let current: ListWatch<T & { metadata: object }> | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;
  let isSynced = false;
  let failures = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let resyncTimer: NodeJS.Timeout | undefined;

  const deliver = (type: InformerEvent, obj: T): void => {
    try {
      onEvent(type, obj);
    } catch (err) {
      log.error({ err, event: type, object: keyOf(obj) }, "informer handler threw; event dropped");
    }
  };

  const clearTimers = (): void => {
    if (restartTimer) clearTimeout(restartTimer);
    if (resyncTimer) clearTimeout(resyncTimer);
    restartTimer = resyncTimer = undefined;
  };

  function scheduleRestart(gen: number, reason: unknown): void {
    if (stopped || gen !== generation) return;
    isSynced = false;
    void current?.stop();
    generation++; // late callbacks of the failed instance are now stale
    const delay = Math.min(maxBackoff, minBackoff * 2 ** failures);
    failures++;
    const e = reason as { statusCode?: number; code?: number; message?: string };
    log.warn(
      {
        path: opts.path,
        code: e?.statusCode ?? e?.code,
        err: e?.message ?? String(reason),
        retryInMs: delay,
      },
      "watch failed; restarting",
    );
    clearTimers();
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      running = run();
    }, delay);
  }

  function scheduleResync(gen: number): void {
    if (resyncTimer) clearTimeout(resyncTimer);
    resyncTimer = setTimeout(() => {
      resyncTimer = undefined;
      if (stopped || gen !== generation) return;
      log.debug({ path: opts.path }, "periodic resync");
      void current?.stop();
      generation++;
      running = run();
    }, resyncMs);
  }

  async function run(): Promise<void> {
    const gen = ++generation;
    let failed = false;
    const connects: number[] = [];
    const mine = (): boolean => !stopped && gen === generation;

    const list = async (): Promise<ListResult<T & { metadata: object }>> => {
      const result = await opts.list();
      // A stopped or superseded instance must not go on to open a watch: failing the list makes
      // the ListWatch report an error (ignored as stale) and return.
      if (!mine()) throw new Error("informer superseded");
      const present = new Set(result.items.map(keyOf));
      for (const [k, obj] of cache) {
        if (!present.has(k)) {
          cache.delete(k);
          deliver("delete", obj);
        }
      }
      return result as ListResult<T & { metadata: object }>;
    };

    const lw = new ListWatch<T & { metadata: object }>(
      opts.path,
      new Watch(kc),
      list,
      false,
      opts.labelSelector,
    );
    current = lw;
    const upsert = (obj: T): void => {
      if (!mine()) return;
      const k = keyOf(obj);
      const known = cache.has(k);
      cache.set(k, obj);
      deliver(known ? "update" : "add", obj);
    };
    lw.on("add", upsert);
    lw.on("update", upsert);
    lw.on("delete", (obj: T) => {
      if (!mine()) return;
      const k = keyOf(obj);
      if (!cache.has(k)) return;
      cache.delete(k);
      deliver("delete", obj);
    });
    lw.on("connect", () => {
      if (!mine()) return;
      const now = Date.now();
      connects.push(now);
      while (connects.length > 0 && connects[0]! < now - RECONNECT_BURST.windowMs) connects.shift();
      if (connects.length > RECONNECT_BURST.count) {
        failed = true;
        scheduleRestart(
          gen,
          new Error(`watch closed ${connects.length} times in ${RECONNECT_BURST.windowMs}ms`),
        );
      }
    });
    lw.on("error", (err: unknown) => {
      if (!mine()) return;
      failed = true;
      scheduleRestart(gen, err);
    });
    try {
      await lw.start();
    } catch (err) {
      if (mine()) {
        failed = true;
        scheduleRestart(gen, err);
      }
    }
    if (!mine()) {
      await lw.stop(); // covers a watch opened after stop() while the list was in flight
      return;
    }
    if (!failed) {
      isSynced = true;
      failures = 0;
      scheduleResync(gen);
    }
  }

  return {
    async start() {
      if (!stopped) return;
      stopped = false;
      running = run();
      await running;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      isSynced = false;
      clearTimers();
      generation++;
      await current?.stop();
      // A start in flight resolves once its watch request settles; run() then stops its ListWatch.
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise<void>((r) => (bound = setTimeout(r, 5000)))]);
      clearTimeout(bound);
      await current?.stop();
    },
    synced: () => isSynced,
  };
}

/** List function for Backups in one namespace (label selector applied to the list too). */
export function listBackupsFn(
  kc: KubeConfig,
  namespace: string,
  labelSelector?: string,
): () => Promise<ListResult<BackupObject>> {
  const api = makePooledApiClient(kc, CustomObjectsApi);
  return () =>
    api.listNamespacedCustomObject({ ...VELERO, namespace, plural: "backups", labelSelector }) as Promise<
      ListResult<BackupObject>
    >;
}

export function listSchedulesFn(
  kc: KubeConfig,
  namespace: string,
  labelSelector?: string,
): () => Promise<ListResult<ScheduleObject>> {
  const api = makePooledApiClient(kc, CustomObjectsApi);
  return () =>
    api.listNamespacedCustomObject({ ...VELERO, namespace, plural: "schedules", labelSelector }) as Promise<
      ListResult<ScheduleObject>
    >;
}

export const backupsPath = (namespace: string): string =>
  `/apis/velero.io/v1/namespaces/${namespace}/backups`;
export const schedulesPath = (namespace: string): string =>
  `/apis/velero.io/v1/namespaces/${namespace}/schedules`;
