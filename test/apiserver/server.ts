// A protocol-faithful Kubernetes API-server double for tests: HTTPS with its own CA, bearer-token
// users, legacy discovery, an in-memory store with list/watch, patch types, admission webhooks,
// SubjectAccessReviews, a kubelet double, a snapshot-controller double and pod exec.
//
// Usage (tests):
//   const api = await startApiServer();                 // 127.0.0.1:<random>, kubeconfig written
//   spawn("kubectl", ["--kubeconfig", api.kubeconfigPath, "--cache-dir", dir, "get", "pods"]);
//   const kc = new KubeConfig(); kc.loadFromFile(api.kubeconfigPath);
//   const bob = api.addUser("bob", ["devs"]);           // → { token, kubeconfigPath }
//   api.setPolicy([{ users: ["bob"], verbs: ["get"], resources: ["pods"] }]);   // default allow-all
//   api.createObject({ apiVersion: "v1", kind: "Pod", metadata: {...}, spec: {...} });
//   api.routeService("hookguard", "hookguard-webhook", 443, "https://127.0.0.1:PORT");
//   api.closeWatchesEvery(500); api.expireBefore(api.store.resourceVersion);   // 410 for older watches
//   api.setPodPhase("default", "web", "Failed");  // or annotation double.hookguard.dev/phase: Pending
//   api.failSnapshot("default", "snap", "disk busy"); // or annotation double.hookguard.dev/snapshot-error
//   api.setExecKnobs({ dropAfterBytes: 10 });      // exec fault knobs (see exec/index.ts)
//   api.requestLog                                 // method + URL of recent requests (relists, retries)
//   startApiServer({ workloadControllers: true })  // Deployment → ReplicaSet → Pod and StatefulSet → Pod controllers (workload-controllers.ts)
//   await api.stop();
// Standalone: `npm run dev:cluster` prints KUBECONFIG=<path> and serves until SIGINT/SIGTERM.
import { handleServiceProxy, isServiceProxyPath } from "./service-proxy.js";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { AdmissionWebhooks, type AdmissionKnobs } from "./admission-caller.js";
import { TokenAuthenticator, type UserInfo } from "./authn.js";
import { Policy, type PolicyRule } from "./authz.js";
import { makeServerCerts } from "./certs.js";
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from "./discovery.js";
import {
  handleExecHttp,
  handleExecUpgrade,
  shutdownExecs,
  type ExecKnobs,
  type UpgradeDeps,
} from "./exec-wiring.js";
import { sendError, sendJson } from "./http-util.js";
import { kubeconfigYaml, writeKubeconfig } from "./kubeconfig.js";
import { KubeletDouble, type KubeletKnobs, type PodPhase } from "./kubelet.js";
import { WatchHub, withKind, type WatchKnobs } from "./list-watch.js";
import { openApiGroupVersion, openApiRoot, openApiV2 } from "./openapi.js";
import { parseRequestInfo } from "./request-info.js";
import { findByKind, groupVersion, RESOURCES, type ResourceDef } from "./resources.js";
import { handleResourceRequest, type RestDeps } from "./rest.js";
import { reviewAccess } from "./sar.js";
import { SnapshotControllerDouble, type SnapshotKnobs } from "./snapshot-controller.js";
import {
  DEPLOYMENT_CONTROLLER,
  REPLICASET_CONTROLLER,
  STATEFULSET_CONTROLLER,
  WorkloadControllersDouble,
} from "./workload-controllers.js";
import { ApiError, notFoundPath, unauthorized } from "./status.js";
import { ObjectStore } from "./store.js";
import { applyDefaults, prepareForCreate, resolveName } from "./write-rules.js";

export interface StartOptions {
  /** Extra namespaces to create at start (default, kube-system and velero always exist). */
  namespaces?: string[];
  /** Fixed admin token (dev-cluster uses a random one by default too). */
  adminToken?: string;
  /** Directory for the kubeconfig and exec state; a fresh temp dir by default (removed on stop). */
  dir?: string;
  kubelet?: Partial<KubeletKnobs>;
  snapshots?: Partial<SnapshotKnobs>;
  /**
   * Run the Deployment and ReplicaSet controller doubles (off by default: tests that create
   * Deployments would otherwise also get ReplicaSets and pods).
   */
  workloadControllers?: boolean;
}

export interface Knobs {
  watch: WatchKnobs;
  kubelet: KubeletKnobs;
  snapshots: SnapshotKnobs;
  exec: ExecKnobs;
  admission: AdmissionKnobs;
}

export interface ApiServerHandle {
  url: string;
  kubeconfigPath: string;
  caPem: string;
  adminToken: string;
  dir: string;
  store: ObjectStore;
  knobs: Knobs;
  /** TLS connections accepted so far, and how many of them resumed an earlier session (no full handshake). */
  tlsConnections(): { connections: number; resumed: number };
  /** The last 2000 requests (method and URL), oldest first: lets tests see relists and retries. */
  requestLog: Array<{ method: string; url: string; user?: string }>;
  /** Adds a user (token → username + groups) and writes a kubeconfig whose current context is that user. */
  addUser(username: string, groups?: string[]): { token: string; kubeconfigPath: string };
  /**
   * RBAC-like policy guarding requests (also exec) and answering SubjectAccessReviews; undefined =
   * allow-all (the default). system:masters (the admin user) is always allowed.
   */
  setPolicy(rules: PolicyRule[] | undefined): void;
  /** Routes a webhook clientConfig.service to a URL the test serves (e.g. https://127.0.0.1:PORT). */
  routeService(namespace: string, name: string, port: number, url: string): void;
  setExecKnobs(k: ExecKnobs): void;
  /** Watches starting from a resourceVersion below `rv` now get 410 Gone. */
  expireBefore(rv: number): void;
  /** Closes every open watch stream now. */
  closeWatches(): void;
  /** Every watch stream (open ones included) ends after `ms`; undefined turns it off. */
  closeWatchesEvery(ms: number | undefined): void;
  /** Creates an object directly in the store (defaults and system fields applied, no admission). */
  createObject<T = any>(obj: T): T;
  getObject<T = any>(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): T | undefined;
  /** Kubelet double: move a pod to a phase now (Running, Pending, Succeeded, Failed). */
  setPodPhase(namespace: string, name: string, phase: PodPhase): void;
  /** Snapshot controller double: this VolumeSnapshot (created later) fails with `message`. */
  failSnapshot(namespace: string, name: string, message: string): void;
  /** The Deployment/ReplicaSet/StatefulSet controller doubles, when started with `workloadControllers`. */
  controllers?: WorkloadControllersDouble;
  /** Replaces an object's status directly (like a controller's status write, no admission). */
  setStatus(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
    status: unknown,
  ): void;
  stop(): Promise<void>;
}

const PUBLIC_PATHS = new Set(["/healthz", "/livez", "/readyz", "/version"]);

export async function startApiServer(opts: StartOptions = {}): Promise<ApiServerHandle> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "hookguard-apiserver-"));
  const ownsDir = opts.dir === undefined;
  const certs = makeServerCerts();
  const authn = new TokenAuthenticator();
  const adminToken = authn.add("admin", ["system:masters"], opts.adminToken);
  const policy = new Policy();
  const store = new ObjectStore();
  const knobs: Knobs = {
    watch: {},
    kubelet: { runningAfterMs: 20, deleteAfterMs: 20, defaultPhase: "Running", ...(opts.kubelet ?? {}) },
    snapshots: { readyAfterMs: 20, ...(opts.snapshots ?? {}) },
    exec: {},
    admission: { services: new Map() },
  };
  const watches = new WatchHub(store, knobs.watch);
  const admission = new AdmissionWebhooks(store, knobs.admission);
  const kubelet = new KubeletDouble(store, knobs.kubelet);
  const snapshots = new SnapshotControllerDouble(store, knobs.snapshots);
  const upgradeDeps: UpgradeDeps = {
    authenticate: (r) => authn.authenticate(r),
    admission,
    policy,
    store,
    stateDir: join(dir, "exec"),
    knobs: () => knobs.exec,
  };
  const deps: RestDeps = {
    store,
    admission,
    watches,
    policy,
    reviewAccess: (body) => reviewAccess(policy, body),
    gracefulPodDeletion: () => knobs.kubelet.defaultPhase !== "Off",
    execWithoutUpgrade: (req, res, ns, pod, user) => handleExecHttp(req, res, upgradeDeps, ns, pod, user),
  };

  const createObject = (obj: any): any => {
    const r = findByKind(obj.apiVersion, obj.kind);
    if (!r) throw new Error(`the double does not serve ${obj.apiVersion} ${obj.kind}`);
    const o = structuredClone(obj);
    o.metadata ??= {};
    if (r.namespaced) o.metadata.namespace ??= "default";
    applyDefaults(r, o);
    const err = resolveName(r, o);
    if (err) throw new Error(err.message);
    const status = o.status;
    prepareForCreate(r, o);
    if (status !== undefined && r.kind !== "Namespace") o.status = status;
    if (store.get(r, o.metadata.namespace, o.metadata.name))
      throw new Error(`${r.plural} "${o.metadata.name}" already exists`);
    return withKind(r, store.write(r, o, "ADDED"));
  };
  for (const ns of ["default", "kube-system", "kube-public", "velero", ...(opts.namespaces ?? [])]) {
    if (!store.get(nsDef(), undefined, ns))
      createObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  }

  let serverAddress = "127.0.0.1:0";
  const requestLog: ApiServerHandle["requestLog"] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const warnings: string[] = [];
    requestLog.push({
      method: req.method ?? "",
      url: req.url ?? "",
      user: authn.authenticate(req)?.username,
    });
    if (requestLog.length > 2000) requestLog.splice(0, requestLog.length - 2000);
    handle(req, res, warnings).catch((err) => {
      try {
        sendError(res, err, warnings);
      } catch {
        res.destroy();
      }
    });
  };
  const handle = async (req: IncomingMessage, res: ServerResponse, warnings: string[]): Promise<void> => {
    const url = new URL(req.url ?? "/", "https://double.invalid");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (path === "/healthz" || path === "/livez" || path === "/readyz") {
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
      res.end("ok");
      return;
    }
    const user = authn.authenticate(req);
    if (!user && !PUBLIC_PATHS.has(path)) throw unauthorized();
    if (user && isServiceProxyPath(req.url ?? ""))
      return handleServiceProxy(req, res, { store, policy }, user);
    if (path === "/version") return sendJson(res, 200, versionInfo());
    if (path === "/api") return sendJson(res, 200, apiVersions(serverAddress));
    if (path === "/apis") return sendJson(res, 200, apiGroupList());
    if (path === "/openapi/v3") return sendJson(res, 200, openApiRoot());
    if (path === "/openapi/v2") {
      const doc = openApiV2(req.headers.accept);
      res.writeHead(200, {
        "Content-Type": doc.contentType,
        "Content-Length": String(doc.body.length),
        "Cache-Control": "no-cache, private",
      });
      res.end(doc.body);
      return;
    }
    if (path.startsWith("/openapi/v3/")) {
      const doc = openApiGroupVersion(path.slice("/openapi/v3/".length));
      if (doc) return sendJson(res, 200, doc);
      throw notFoundPath();
    }
    const parts = path.split("/").filter(Boolean);
    if (parts[0] === "api" && parts.length === 2) {
      const list = apiResourceList("", parts[1]!);
      if (list) return sendJson(res, 200, list);
      throw notFoundPath();
    }
    if (parts[0] === "apis" && parts.length === 2) {
      const g = apiGroup(parts[1]!);
      if (g) return sendJson(res, 200, g);
      throw notFoundPath();
    }
    if (parts[0] === "apis" && parts.length === 3) {
      const list = apiResourceList(parts[1]!, parts[2]!);
      if (list) return sendJson(res, 200, list);
      throw notFoundPath();
    }
    const info = parseRequestInfo(req.method ?? "GET", path, url.searchParams);
    if (!info) {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
      res.end("404 page not found\n");
      return;
    }
    await handleResourceRequest(deps, req, res, info, user!, url.searchParams, warnings);
  };

  const server: Server = createServer(
    { key: certs.serving.keyPem, cert: certs.serving.certPem, minVersion: "TLSv1.2" },
    onRequest,
  );
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    handleExecUpgrade(req, socket, head, upgradeDeps);
  });
  const sockets = new Set<Duplex>();
  const tls = { connections: 0, resumed: 0 };
  server.on("secureConnection", (s) => {
    tls.connections++;
    if (s.isSessionReused()) tls.resumed++;
  });
  // Raw TCP connections, so stop() also ends one still in its TLS handshake (server.close() would
  // otherwise wait for it forever).
  server.on("connection", (s: Duplex) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  serverAddress = `127.0.0.1:${port}`;
  const url = `https://127.0.0.1:${port}`;
  const kubeUsers = [{ name: "admin", token: adminToken }];
  const kubeconfigPath = writeKubeconfig(
    dir,
    "kubeconfig",
    kubeconfigYaml(url, certs.ca.certPem, kubeUsers, "admin"),
  );
  const controllerGroups = [
    "system:serviceaccounts",
    "system:serviceaccounts:kube-system",
    "system:authenticated",
  ];
  const controllers = opts.workloadControllers
    ? new WorkloadControllersDouble(store, {
        url,
        caPem: certs.ca.certPem,
        tokens: {
          deployment: authn.add(DEPLOYMENT_CONTROLLER, controllerGroups),
          replicaset: authn.add(REPLICASET_CONTROLLER, controllerGroups),
          statefulset: authn.add(STATEFULSET_CONTROLLER, controllerGroups),
        },
      })
    : undefined;

  const lookup = (apiVersion: string, kind: string): ResourceDef => {
    const r = findByKind(apiVersion, kind);
    if (!r) throw new Error(`the double does not serve ${apiVersion} ${kind}`);
    return r;
  };

  return {
    url,
    kubeconfigPath,
    caPem: certs.ca.certPem,
    adminToken,
    dir,
    store,
    knobs,
    requestLog,
    ...(controllers ? { controllers } : {}),
    tlsConnections: () => ({ ...tls }),
    addUser(username, groups = []) {
      const token = authn.add(username, groups);
      const path = writeKubeconfig(
        dir,
        `kubeconfig-${username}`,
        kubeconfigYaml(url, certs.ca.certPem, [{ name: username, token }], username),
      );
      return { token, kubeconfigPath: path };
    },
    setPolicy: (rules) => policy.set(rules),
    routeService: (namespace, name, svcPort, target) =>
      void knobs.admission.services.set(`${namespace}/${name}:${svcPort}`, target),
    setExecKnobs: (k) => void Object.assign(knobs.exec, k),
    expireBefore: (rv) => store.expireBefore(rv),
    closeWatches: () => watches.closeAll(),
    closeWatchesEvery(ms) {
      knobs.watch.closeWatchesAfterMs = ms;
      if (ms !== undefined) watches.closeAll();
    },
    createObject,
    getObject(apiVersion, kind, namespace, name) {
      const r = lookup(apiVersion, kind);
      const o = store.get(r, namespace, name);
      return o ? withKind(r, o) : undefined;
    },
    setPodPhase: (namespace, name, phase) => kubelet.setPhase(namespace, name, phase),
    failSnapshot(namespace, name, message) {
      knobs.snapshots.failures ??= new Map();
      knobs.snapshots.failures.set(`${namespace}/${name}`, message);
    },
    setStatus(apiVersion, kind, namespace, name, status) {
      const r = lookup(apiVersion, kind);
      const o = store.get(r, namespace, name);
      if (!o) throw new Error(`${r.plural} "${name}" not found`);
      o.status = status;
      store.write(r, o, "MODIFIED");
    },
    async stop() {
      controllers?.stop();
      kubelet.stop();
      snapshots.stop();
      watches.closeAll();
      await shutdownExecs();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      if (ownsDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function nsDef(): ResourceDef {
  return RESOURCES.find((r) => r.kind === "Namespace")!;
}

export type { PolicyRule, UserInfo };
export { ApiError, groupVersion };
