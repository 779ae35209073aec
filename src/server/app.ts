// The express 5 application: the two admission routes, health endpoints, and JSON answers for
// anything else. Settings that cost time per request and give an admission webhook nothing are off:
// ETag hashing, the x-powered-by header, and query-string parsing. serverListener() puts one
// exact-path check in front of it for the admission routes (why: its comment).
import { IncomingMessage, ServerResponse } from "node:http";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { admissionEndpoint, type EndpointDeps } from "../admission/http.js";
import { complete, errored, reviewBody } from "../admission/response.js";
import { ADMISSION_V1 } from "../admission/types.js";

export interface AppDeps extends EndpointDeps {
  /** Readiness: certificates loaded and the server accepting TLS. */
  ready: () => Promise<{ ok: boolean; reason?: string }>;
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

export interface WebhookApp {
  app: Express;
  /** The HTTPS server's request listener: the admission routes' fast path, then `app`. */
  listener: Listener;
}

export function createApp(deps: AppDeps): WebhookApp {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", false);

  const admission = new Map<string, Listener>([
    ["/validate", admissionEndpoint("validate", deps)],
    ["/mutate", admissionEndpoint("mutate", deps)],
  ]);
  for (const [path, handler] of admission) app.post(path, handler);
  app.get("/healthz", (_req, res) => {
    res.type("text/plain").send("ok");
  });
  app.get("/readyz", async (_req, res) => {
    const r = await deps.ready();
    res
      .status(r.ok ? 200 : 503)
      .type("text/plain")
      .send(r.ok ? "ok" : `not ready: ${r.reason ?? "unknown"}`);
  });
  app.use((req, res) => {
    res.status(404).json({
      error: `no route for ${req.method} ${req.path}; hookguard serves POST /validate, POST /mutate, GET /healthz, GET /readyz`,
    });
  });
  // Express 5 forwards thrown and rejected handlers here: the admission paths still get an
  // AdmissionReview (without uid: the body was never decoded) and the exception is counted.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    internalError(deps, req.path, res, err);
  });
  return { app, listener: serverListener(app, admission, deps) };
}

/**
 * Every admission review passes here, so its routes skip express's router: a POST whose path is
 * exactly /validate or /mutate (the API server adds `?timeout=10s`) goes straight to the route's
 * handler, which takes node's (req, res) and uses nothing express adds. Dispatching through
 * app.handle and the router (finalhandler, URL parsing, layer matching, the closures of next())
 * cost about 15 of hookguard's 116 µs of CPU per review at 3,500 reviews/s (BENCHMARKS.md). Any other
 * request, and any other spelling of these paths (a trailing slash, another case), is express's,
 * where the same handlers are mounted, so what is answered does not change; only the cost does.
 */
function serverListener(app: Express, admission: ReadonlyMap<string, Listener>, deps: AppDeps): Listener {
  return (req, res) => {
    const url = req.url ?? "";
    const query = url.indexOf("?");
    const path = query < 0 ? url : url.slice(0, query);
    const handler = req.method === "POST" ? admission.get(path) : undefined;
    if (handler === undefined) return void app(req, res);
    try {
      handler(req, res);
    } catch (err) {
      // What express's error handler would have done with a synchronous throw.
      internalError(deps, path, res, err);
    }
  };
}

/** An exception no handler caught: counted, logged without the body, answered 500 as a review. */
function internalError(deps: AppDeps, path: string, res: ServerResponse, err: unknown): void {
  deps.metrics.panics.inc();
  deps.log.error(
    { path, err: err instanceof Error ? err.message : String(err) },
    "unhandled error in request",
  );
  if (res.headersSent) return void res.destroy();
  const body = reviewBody(ADMISSION_V1, complete(errored(500, "internal error in hookguard"), ""));
  res.writeHead(500, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Request and response classes for node's createServer whose instances are born with the prototypes
 * express would give them: express's app.handle still sets every req's prototype to app.request
 * (and res's to app.response), but to the one it already has, which changes nothing. A real
 * prototype change per request is what kept the half-load tail high: at 1,000 req/s it made about
 * 1-2 MB per scavenge survive into the old generation and each scavenge pause 5-10 ms, against
 * 25 KB and under 1 ms without it (npm run bench:webhook:gc). Every request still goes through
 * express's router and gets its req/res helpers.
 */
export function appMessageClasses(app: Express): {
  IncomingMessage: typeof IncomingMessage;
  ServerResponse: typeof ServerResponse;
} {
  class AppRequest extends IncomingMessage {}
  class AppResponse extends ServerResponse {}
  // AppRequest.prototype -> app.request -> express's request -> IncomingMessage.prototype, and
  // app.request now names AppRequest.prototype: same methods, same `app`, one more link.
  Object.setPrototypeOf(AppRequest.prototype, app.request);
  Object.setPrototypeOf(AppResponse.prototype, app.response);
  app.request = AppRequest.prototype as unknown as Request;
  app.response = AppResponse.prototype as unknown as Response;
  return { IncomingMessage: AppRequest, ServerResponse: AppResponse as typeof ServerResponse };
}
