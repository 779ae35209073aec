// The service proxy of the API server: /api/v1/namespaces/NS/services/[SCHEME:]NAME[:PORT]/proxy/PATH.
// As kube-apiserver does: the request is authorized as verb (get for GET/HEAD) on resource
// `services/proxy`, the name being the whole `[scheme:]name[:port]` segment; the Service's port is
// picked by name or number, the Endpoints object of the same name gives the address and the target
// port (by the port's name); the request is forwarded with the remaining path as sent (not cleaned),
// without the user's credentials, over https without verifying the backend's certificate, and the
// answer is streamed back. No endpoint → 503; a backend that cannot be reached → 503 saying why.
import type { IncomingMessage, ServerResponse } from "node:http";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Policy } from "./authz.js";
import { forbiddenError } from "./authz.js";
import type { UserInfo } from "./authn.js";
import { findByKind } from "./resources.js";
import { ApiError, failure } from "./status.js";
import type { ObjectStore } from "./store.js";

const PROXY_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/]+)\/proxy(\/[^?]*)?(\?.*)?$/;

export function isServiceProxyPath(rawUrl: string): boolean {
  return PROXY_PATH.test(rawUrl);
}

const unavailable = (message: string): ApiError => new ApiError(failure(503, "ServiceUnavailable", message));

export async function handleServiceProxy(
  req: IncomingMessage,
  res: ServerResponse,
  deps: { store: ObjectStore; policy: Policy },
  user: UserInfo,
): Promise<void> {
  const m = PROXY_PATH.exec(req.url ?? "")!;
  const namespace = decodeURIComponent(m[1]!);
  const segment = decodeURIComponent(m[2]!);
  const rest = m[3] ?? "/";
  const query = m[4] ?? "";
  const method = req.method ?? "GET";
  const verb =
    method === "GET" || method === "HEAD"
      ? "get"
      : method === "POST"
        ? "create"
        : method === "PUT"
          ? "update"
          : method === "DELETE"
            ? "delete"
            : method.toLowerCase();
  const attrs = {
    user: user.username,
    groups: user.groups,
    verb,
    group: "",
    resource: "services",
    subresource: "proxy",
    namespace,
    name: segment,
  };
  if (!deps.policy.allows(attrs)) throw forbiddenError(attrs, user);

  const parts = segment.split(":");
  const [scheme, name, port] =
    parts.length === 3
      ? [parts[0]!, parts[1]!, parts[2]!]
      : parts.length === 2
        ? ["", parts[0]!, parts[1]!]
        : ["", parts[0]!, ""];
  const svc = deps.store.get(findByKind("v1", "Service")!, namespace, name);
  if (!svc)
    throw new ApiError(failure(404, "NotFound", `services "${name}" not found`, { name, kind: "services" }));
  const ports: any[] = svc.spec?.ports ?? [];
  const svcPort = port === "" ? ports[0] : ports.find((p) => p.name === port || String(p.port) === port);
  if (!svcPort) throw unavailable(`no service port "${port}" found for service "${name}"`);
  const ep = deps.store.get(findByKind("v1", "Endpoints")!, namespace, name);
  const subset = (ep?.subsets ?? []).find((s: any) => (s.addresses ?? []).length > 0);
  const epPort =
    subset?.ports?.find((p: any) => (p.name ?? "") === (svcPort.name ?? "")) ?? subset?.ports?.[0];
  if (!subset || !epPort) throw unavailable(`no endpoints available for service "${segment}"`);
  const host: string = subset.addresses[0].ip;
  const useTls = scheme === "https";
  const headers: Record<string, string> = {};
  for (const h of ["accept", "range", "if-none-match"]) {
    const v = req.headers[h];
    if (typeof v === "string") headers[h] = v;
  }
  await new Promise<void>((resolve, reject) => {
    const opts = { host, port: epPort.port, method, path: `${rest}${query}`, headers };
    const upstream = useTls
      ? httpsRequest({ ...opts, rejectUnauthorized: false }, onResponse)
      : httpRequest(opts, onResponse);
    function onResponse(up: IncomingMessage): void {
      const out: Record<string, string> = {};
      for (const h of ["content-type", "content-length", "cache-control", "allow"]) {
        const v = up.headers[h];
        if (typeof v === "string") out[h] = v;
      }
      res.writeHead(up.statusCode ?? 502, out);
      up.pipe(res);
      up.on("end", () => resolve());
      up.on("error", (e) => {
        res.destroy(e);
        resolve();
      });
    }
    upstream.on("error", (e: NodeJS.ErrnoException) => {
      const why =
        e.code === "ECONNREFUSED"
          ? `dial tcp ${host}:${epPort.port}: connect: connection refused`
          : e.message;
      reject(unavailable(`error trying to reach service: ${why}`));
    });
    req.pipe(upstream);
  });
}
