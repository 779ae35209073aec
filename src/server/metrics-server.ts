// Metrics on their own plain-HTTP port (Prometheus scrapes it inside the cluster network; the
// admission port stays TLS-only and serves nothing but admission and health). It also answers
// GET /healthz, the chart's liveness probe: a flood of admission connections at --max-connections
// makes the admission port close new connections, and a liveness probe there would then have the
// kubelet restart a healthy pod, taking capacity away exactly when it is needed. (Readiness stays
// on the admission port: it must prove TLS serving works.)
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export class MetricsServer {
  #server: Server | undefined;
  #registry: Registry;

  constructor(registry: Registry) {
    this.#registry = registry;
  }

  async start(port: number, host: string): Promise<{ port: number }> {
    const server = createServer((req, res) => {
      if (req.method === "GET" && req.url === "/healthz") {
        res.writeHead(200, { "content-type": "text/plain" }).end("ok");
        return;
      }
      if (req.method !== "GET" || (req.url !== "/metrics" && !req.url?.startsWith("/metrics?"))) {
        res
          .writeHead(404, { "content-type": "text/plain" })
          .end("hookguard serves GET /metrics and GET /healthz here\n");
        return;
      }
      this.#registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": this.#registry.contentType }).end(text),
        (err: Error) =>
          res
            .writeHead(500, { "content-type": "text/plain" })
            .end(`collecting metrics failed: ${err.message}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.#server = server;
    return { port: (server.address() as AddressInfo).port };
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
