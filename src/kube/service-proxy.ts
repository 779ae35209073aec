// GET through the API server's service proxy (`/api/v1/namespaces/NS/services/https:NAME:PORT/proxy/PATH`,
// the path `kubectl get --raw` uses), with the kubeconfig's own credentials and CA: the cluster
// authenticates the user and authorizes `services/proxy` on that Service. The body is a stream.
import { request, type RequestOptions } from "node:https";
import type { IncomingMessage } from "node:http";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { Result } from "../domain/types.js";
import { toKubeApiError, type KubeApiError } from "./errors.js";

export interface ServiceRef {
  namespace: string;
  name: string;
  port: number;
}

export type ProxyFailure =
  /** the API server answered with a Status (403, 404 Service, 503 no endpoint or unreachable) */
  | { kind: "api"; error: KubeApiError }
  /** the agent answered an error of its own (JSON {"error": ...}) */
  | { kind: "agent"; status: number; message: string }
  /** no answer from the API server */
  | { kind: "transport"; error: KubeApiError };

async function readAll(res: IncomingMessage, cap = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res) {
    if (size < cap) chunks.push(c as Buffer);
    size += (c as Buffer).length;
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The response stream on a 2xx answer. */
export async function proxyGet(
  kc: KubeConfig,
  svc: ServiceRef,
  path: string,
): Promise<Result<IncomingMessage, ProxyFailure>> {
  const server = kc.getCurrentCluster()?.server;
  if (!server)
    return {
      ok: false,
      error: {
        kind: "transport",
        error: { code: 0, reason: "TransportError", message: "no cluster server" },
      },
    };
  const url = new URL(
    `${server.replace(/\/+$/, "")}/api/v1/namespaces/${encodeURIComponent(svc.namespace)}/services/https:${encodeURIComponent(svc.name)}:${svc.port}/proxy${path}`,
  );
  const opts: RequestOptions = { method: "GET", headers: {} };
  await kc.applyToHTTPSOptions(opts);
  const res = await new Promise<IncomingMessage | Error>((resolve) => {
    const req = request(url, opts, resolve);
    req.on("error", resolve);
    req.end();
  });
  if (res instanceof Error)
    return {
      ok: false,
      error: {
        kind: "transport",
        error: toKubeApiError(new Error(`request to ${url.origin} failed, reason: ${res.message}`)),
      },
    };
  const code = res.statusCode ?? 0;
  if (code >= 200 && code < 300) return { ok: true, value: res };
  const text = await readAll(res);
  let body: { kind?: string; message?: string; reason?: string; error?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON: keep the text
  }
  if (body.kind === "Status")
    return {
      ok: false,
      error: {
        kind: "api",
        error: { code, reason: body.reason ?? "Unknown", message: body.message ?? text.trim() },
      },
    };
  if (typeof body.error === "string")
    return { ok: false, error: { kind: "agent", status: code, message: body.error } };
  return {
    ok: false,
    error: {
      kind: "api",
      error: { code, reason: code === 401 ? "Unauthorized" : "Unknown", message: text.trim().slice(0, 300) },
    },
  };
}

/** The Services labelled `selector` in every namespace (or in `namespace`). */
export async function listServices(
  kc: KubeConfig,
  labelSelector: string,
): Promise<
  Result<
    Array<{ namespace: string; name: string; ports: Array<{ name?: string; port: number }> }>,
    KubeApiError
  >
> {
  try {
    const core = kc.makeApiClient(CoreV1Api);
    const list = await core.listServiceForAllNamespaces({ labelSelector });
    return {
      ok: true,
      value: list.items.map((s) => ({
        namespace: s.metadata?.namespace ?? "",
        name: s.metadata?.name ?? "",
        ports: (s.spec?.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port })),
      })),
    };
  } catch (err) {
    return { ok: false, error: toKubeApiError(err) };
  }
}

/** One Service's ports. */
export async function readService(
  kc: KubeConfig,
  namespace: string,
  name: string,
): Promise<Result<Array<{ name?: string; port: number }> | undefined, KubeApiError>> {
  try {
    const core = kc.makeApiClient(CoreV1Api);
    const s = await core.readNamespacedService({ namespace, name });
    return {
      ok: true,
      value: (s.spec?.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port })),
    };
  } catch (err) {
    const e = toKubeApiError(err);
    return e.code === 404 ? { ok: true, value: undefined } : { ok: false, error: e };
  }
}
