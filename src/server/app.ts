// The express 5 application: the two admission routes, health endpoints, and JSON answers for
// anything else. Settings that cost time per request and give an admission webhook nothing are off:
// ETag hashing, the x-powered-by header, and query-string parsing.
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { admissionEndpoint, type EndpointDeps } from "../admission/http.js";
import { complete, errored, reviewBody } from "../admission/response.js";
import { ADMISSION_V1 } from "../admission/types.js";

export interface AppDeps extends EndpointDeps {
  /** Readiness: certificates loaded and the server accepting TLS. */
  ready: () => Promise<{ ok: boolean; reason?: string }>;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", false);

  app.post("/validate", admissionEndpoint("validate", deps));
  app.post("/mutate", admissionEndpoint("mutate", deps));
  app.get("/healthz", (_req, res) => {
    res.type("text/plain").send("ok");
  });
  app.get("/readyz", async (_req, res) => {
    const r = await deps.ready();
    res.status(r.ok ? 200 : 503).type("text/plain").send(r.ok ? "ok" : `not ready: ${r.reason ?? "unknown"}`);
  });
  app.use((req, res) => {
    res.status(404).json({ error: `no route for ${req.method} ${req.path}; hookguard serves POST /validate, POST /mutate, GET /healthz, GET /readyz` });
  });
  // Express 5 forwards thrown and rejected handlers here: the admission paths still get an
  // AdmissionReview (without uid: the body was never decoded) and the exception is counted.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    deps.metrics.panics.inc();
    deps.log.error({ path: req.path, err: err instanceof Error ? err.message : String(err) }, "unhandled error in request");
    if (res.headersSent) return void res.destroy();
    res.status(500).type("application/json").send(reviewBody(ADMISSION_V1, complete(errored(500, "internal error in hookguard"), "")));
  });
  return app;
}
