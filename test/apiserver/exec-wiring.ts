// Wires pod exec into the double: authenticates and authorizes the WebSocket upgrade (create on
// pods/exec, as Velero's RBAC grants it), then hands the socket to the exec implementation in
// ./exec/index.ts. Errors before the upgrade are written as plain HTTP responses carrying a
// Status, as the real server does.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { STATUS_CODES } from "node:http";
import type { AdmissionChain } from "./admission-types.js";
import type { UserInfo } from "./authn.js";
import { forbiddenError, type Policy } from "./authz.js";
import { RESOURCES } from "./resources.js";
import { ApiError, internalError, notFoundPath, unauthorized } from "./status.js";
import type { ObjectStore } from "./store.js";
import { withKind } from "./list-watch.js";
import * as execModule from "./exec/index.js";
import type { ExecContext, ExecKnobs } from "./exec/index.js";

export type { ExecKnobs };

export interface UpgradeDeps {
  authenticate(req: IncomingMessage): UserInfo | undefined;
  /** CONNECT admission for pods/exec, as the real server runs it before connecting. */
  admission: AdmissionChain;
  policy: Policy;
  store: ObjectStore;
  stateDir: string;
  knobs(): ExecKnobs;
}

const PODS = RESOURCES.find((r) => r.kind === "Pod")!;
const EXEC_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec\/?$/;
/** Stops exec'd processes still running (called when the double stops). */
export async function shutdownExecs(): Promise<void> {
  await execModule.shutdownExecs();
}

function execContext(deps: UpgradeDeps, namespace: string, podName: string, user: UserInfo): ExecContext {
  return {
    namespace,
    podName,
    getPod: (ns, name) => {
      const p = deps.store.get(PODS, ns, name);
      return p ? withKind(PODS, p) : undefined;
    },
    user: { username: user.username, groups: user.groups },
    stateDir: deps.stateDir,
    knobs: { ...deps.knobs() },
  };
}

/** pods/exec without an upgrade: the exec module validates the pod and asks for an upgrade. */
export async function handleExecHttp(
  req: IncomingMessage,
  res: ServerResponse,
  deps: UpgradeDeps,
  namespace: string,
  podName: string,
  user: UserInfo,
): Promise<void> {
  execModule.handleExecHttp(req, res, execContext(deps, namespace, podName, user));
}

export function writeStatusResponse(socket: Duplex, err: ApiError): void {
  const body = JSON.stringify(err.status) + "\n";
  const head = `HTTP/1.1 ${err.code} ${STATUS_CODES[err.code] ?? ""}\r\nContent-Type: application/json\r\nCache-Control: no-cache, private\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  if (!socket.destroyed) socket.end(head + body);
}

export function handleExecUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  deps: UpgradeDeps,
): void {
  socket.on("error", () => socket.destroy());
  const url = new URL(req.url ?? "/", "https://double.invalid");
  const user = deps.authenticate(req);
  if (!user) return writeStatusResponse(socket, unauthorized());
  const m = EXEC_PATH.exec(url.pathname);
  // GET for WebSocket; POST is kubectl's SPDY fallback, which the exec module answers with the
  // pod/container errors a real server gives before refusing SPDY itself.
  if (!m || (req.method !== "GET" && req.method !== "POST"))
    return writeStatusResponse(socket, notFoundPath());
  const namespace = decodeURIComponent(m[1]!);
  const podName = decodeURIComponent(m[2]!);
  const attrs = {
    user: user.username,
    groups: user.groups,
    verb: "create",
    group: "",
    resource: "pods",
    subresource: "exec",
    namespace,
    name: podName,
  };
  if (!deps.policy.allows(attrs)) return writeStatusResponse(socket, forbiddenError(attrs, user));
  void serveUpgrade(req, socket, head, deps, url.searchParams, namespace, podName, user).catch((e: unknown) =>
    writeStatusResponse(socket, e instanceof ApiError ? e : internalError((e as Error).message)),
  );
}

async function serveUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  deps: UpgradeDeps,
  q: URLSearchParams,
  namespace: string,
  podName: string,
  user: UserInfo,
): Promise<void> {
  await admitConnect(deps, q, namespace, podName, user);
  execModule.handleExecUpgrade(req, socket, head, execContext(deps, namespace, podName, user));
}

function queryBool(v: string | null): boolean | undefined {
  if (v === null) return undefined;
  return !["", "none", "no", "f", "false", "0"].includes(v.toLowerCase());
}

/** Webhooks with rules on pods/exec see a CONNECT with the PodExecOptions, like on a real server. */
async function admitConnect(
  deps: UpgradeDeps,
  q: URLSearchParams,
  namespace: string,
  podName: string,
  user: UserInfo,
): Promise<void> {
  const options: Record<string, unknown> = { kind: "PodExecOptions", apiVersion: "v1" };
  for (const k of ["stdin", "stdout", "stderr", "tty"]) {
    const b = queryBool(q.get(k));
    if (b) options[k] = b;
  }
  if (q.get("container")) options.container = q.get("container");
  options.command = q.getAll("command");
  const a = {
    resource: PODS,
    subresource: "exec",
    operation: "CONNECT" as const,
    name: podName,
    namespace,
    object: options,
    oldObject: null,
    user,
    dryRun: false,
    options: null,
    kind: "PodExecOptions",
    warningSink: [] as string[],
  };
  await deps.admission.mutate(a);
  await deps.admission.validate(a);
}
