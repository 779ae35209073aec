// One TLS transport per KubeConfig, shared by every REST call and every exec WebSocket.
//
// Why: client-node 1.4.0 builds a new https.Agent for every request (KubeConfig.createAgent), so
// each call opens a new TCP connection, parses the CA/client certificate into a new SecureContext
// and does a full TLS handshake; at 4+ calls per hook that was most of the agent's CPU per hook.
// Here the library still computes its per-request agent (so credential handling, exec plugins,
// proxies and skipTLSVerify stay exactly the library's), and we swap that agent for a long-lived
// one built from the *same* TLS options: one SecureContext (CA from the kubeconfig, client
// certificate), verification untouched (rejectUnauthorized is only ever set when the kubeconfig
// says so, as the library does), keep-alive connections for REST calls, and TLS sessions cached
// so that a new connection (every exec upgrade needs one) resumes instead of a full handshake.
import type { KubeConfig, RequestContext, SecurityAuthentication } from "@kubernetes/client-node";
import { ServerConfiguration, createConfiguration } from "@kubernetes/client-node";
import https from "node:https";
import { createSecureContext } from "node:tls";

/** TLS options that decide which server we trust and who we are: the pool key. */
const TLS_KEYS = [
  "ca",
  "cert",
  "key",
  "pfx",
  "passphrase",
  "rejectUnauthorized",
  "servername",
  "ciphers",
  "honorCipherOrder",
  "ecdhCurve",
  "crl",
  "dhparam",
  "secureOptions",
  "secureProtocol",
  "sessionIdContext",
  "clientCertEngine",
] as const;

/** Credentials can change while the agent runs (exec plugins, rotated files): keep a few pools. */
const MAX_POOLS = 4;

function keyPart(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (Buffer.isBuffer(v)) return `b:${v.toString("base64")}`;
  if (Array.isArray(v)) return `a:[${v.map(keyPart).join(",")}]`;
  if (typeof v === "object") return `o:${JSON.stringify(v)}`;
  return `${typeof v}:${String(v)}`;
}

/** Agents sharing one SecureContext: keep-alive for REST, one connection per stream for exec. */
interface Pool {
  rest: https.Agent;
  streams: https.Agent;
}

function closeIdle(agent: https.Agent): void {
  for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) s.destroy();
}

export class KubeTransport {
  private readonly pools = new Map<string, Pool>();

  /**
   * The shared agent for the TLS options of `fresh` (an agent the library just made for one
   * request). `use: "stream"` (exec upgrades) gets an agent that never hands out a pooled idle
   * connection: a keep-alive connection the server is just closing would fail the exec, which,
   * unlike a REST call, is not retried. Anything that is not a plain https.Agent (proxy agents,
   * http: with skipTLSVerify) is returned unchanged.
   */
  reuse<A>(fresh: A, use: "rest" | "stream" = "rest"): A {
    if (!(fresh instanceof https.Agent) || fresh.constructor !== https.Agent) return fresh;
    const opts = (fresh as unknown as { options: Record<string, unknown> }).options;
    const key = TLS_KEYS.map((k) => `${k}=${keyPart(opts[k])}`).join(";");
    let pool = this.pools.get(key);
    if (pool) {
      // most recently used last, so eviction drops the stalest credentials
      this.pools.delete(key);
      this.pools.set(key, pool);
      return (use === "rest" ? pool.rest : pool.streams) as unknown as A;
    }
    const tlsOpts: Record<string, unknown> = {};
    for (const k of TLS_KEYS) if (opts[k] !== undefined) tlsOpts[k] = opts[k];
    const { rejectUnauthorized, servername } = tlsOpts as {
      rejectUnauthorized?: boolean;
      servername?: string;
    };
    const agentOpts: https.AgentOptions = {
      // the CA and client certificate parsed once, not per connection
      secureContext: createSecureContext(tlsOpts as Parameters<typeof createSecureContext>[0]),
      ...(rejectUnauthorized !== undefined ? { rejectUnauthorized } : {}),
      ...(servername !== undefined ? { servername } : {}),
      ...(typeof opts.timeout === "number" ? { timeout: opts.timeout } : {}),
    };
    // both agents cache TLS sessions (https.Agent does, keep-alive or not): new connections resume
    pool = {
      rest: new https.Agent({ ...agentOpts, keepAlive: true }),
      streams: new https.Agent({ ...agentOpts, keepAlive: false }),
    };
    this.pools.set(key, pool);
    if (this.pools.size > MAX_POOLS) {
      const [oldestKey, oldest] = this.pools.entries().next().value as [string, Pool];
      this.pools.delete(oldestKey);
      // only idle sockets: requests in flight on the old credentials finish normally
      closeIdle(oldest.rest);
    }
    return (use === "rest" ? pool.rest : pool.streams) as unknown as A;
  }
}

const transports = new WeakMap<KubeConfig, KubeTransport>();

/** The transport shared by everything built on this KubeConfig. */
export function transportFor(kc: KubeConfig): KubeTransport {
  let t = transports.get(kc);
  if (!t) {
    t = new KubeTransport();
    transports.set(kc, t);
  }
  return t;
}

/**
 * kc.makeApiClient(Api), except that requests go through the shared transport. Authentication is
 * still the KubeConfig's own (`applySecurityAuthentication`: headers, tokens, client certificates);
 * only the agent it produced is swapped for the pooled one with the same TLS options.
 */
export function makePooledApiClient<T>(
  kc: KubeConfig,
  Api: new (config: ReturnType<typeof createConfiguration>) => T,
): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("No active cluster!");
  const transport = transportFor(kc);
  const auth: SecurityAuthentication = {
    getName: () => "hookguard-pooled-kubeconfig",
    async applySecurityAuthentication(context: RequestContext): Promise<void> {
      await kc.applySecurityAuthentication(context);
      const fresh = context.getAgent();
      if (fresh) context.setAgent(transport.reuse(fresh));
    },
  };
  return new Api(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: auth },
    }),
  );
}
