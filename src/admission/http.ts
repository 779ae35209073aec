// The HTTP edge of /validate and /mutate, shaped after controller-runtime's http.go: the body is read
// by hand with a 7 MiB cap, Content-Type must be application/json, and every outcome, including bad
// input and unexpected exceptions, is answered with an AdmissionReview carrying the request's uid.
// It takes node's (req, res), so express mounts it as a route handler and nothing on the hot path
// pays for body-parser, res.json or ETag hashing.
import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { silentLogger, type Logger } from "../log.js";
import { decodeReview } from "./decode.js";
import { WebhookMetrics, type Decision, type WebhookName } from "./metrics.js";
import { mutateRequest } from "./mutate.js";
import { complete, errored, reviewBody, type Response } from "./response.js";
import { ADMISSION_V1, type AdmissionApiVersion, type AdmissionRequest } from "./types.js";
import { validateRequest, type ValidateDeps } from "./validate.js";

/**
 * controller-runtime's reasoning (http.go): the API server caps a request body at 3 MiB, and an
 * AdmissionReview can carry the object and the oldObject, plus envelope overhead; 7 MiB covers that.
 */
export const MAX_REQUEST_BYTES = 7 * 1024 * 1024;

export interface EndpointDeps {
  metrics: WebhookMetrics;
  log: Logger;
  validate: ValidateDeps;
  maxRequestBytes?: number;
  /**
   * Requests whose x-hookguard-warmup header carries this value are the server's own warm-up
   * (src/server/warmup.ts): answered as any other, but neither counted nor logged.
   */
  warmupToken?: string;
}

/** The header that marks the server's own warm-up requests; its value is EndpointDeps.warmupToken. */
export const WARMUP_HEADER = "x-hookguard-warmup";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function uncounted(validate: ValidateDeps): ValidateDeps {
  const { onAuthz: _authz, onControllerCopy: _copy, onWouldDeny: _wouldDeny, ...rest } = validate;
  return rest;
}

export function admissionEndpoint(webhook: WebhookName, deps: EndpointDeps): Handler {
  const limit = deps.maxRequestBytes ?? MAX_REQUEST_BYTES;
  // The warm-up's requests take the same code with a metrics registry nobody scrapes and no log.
  // Its validation keeps every rule but none of the counting callbacks, which close over the real
  // registry: a warm-up review of a controller's copy or (with --enforcement warn) of a denial must
  // not show up in hookguard_admission_controller_copies_total or _would_deny_total.
  const warmupDeps =
    deps.warmupToken === undefined
      ? deps
      : {
          ...deps,
          metrics: new WebhookMetrics({ defaultMetrics: false }),
          log: silentLogger(),
          validate: uncounted(deps.validate),
        };
  return (req, res) => {
    const started = performance.now();
    const d =
      deps.warmupToken !== undefined && req.headers[WARMUP_HEADER] === deps.warmupToken ? warmupDeps : deps;
    const declared = Number(req.headers["content-length"] ?? -1);
    if (declared > limit) {
      tooLarge(webhook, d, req, res, started, limit, 0);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        tooLarge(webhook, d, req, res, started, limit, size);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (over) return;
      const body = chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8");
      answer(webhook, d, req, res, body, started).catch((err: unknown) => {
        // Only reachable if answering itself failed (e.g. a metrics or logging fault): still never
        // an unhandled rejection, which would end the process on Node 20.
        d.metrics.panics.inc();
        d.log.error(
          { webhook, err: err instanceof Error ? err.message : String(err) },
          "unexpected exception while answering admission request",
        );
        if (!res.headersSent) send(res, 500, ADMISSION_V1, "", errored(500, "internal error in hookguard"));
        else res.destroy();
      });
    });
    req.on("error", () => res.destroy());
  };
}

/**
 * The uid is inside the body we refuse to read, so there is none to answer with: HTTP 413, sent at
 * once and complete (Content-Length), with `Connection: close`. The connection is only closed once
 * the client has finished sending, though: closing a socket with unread data in it resets the
 * connection, and a reset makes the client's kernel drop the answer it has not read yet, so the
 * client (still writing its body) would see "connection reset" instead of the 413. The rest of
 * the body is therefore read and discarded, up to twice the limit in all; a client sending more
 * than that has had the answer for megabytes and is cut off. The request timeout bounds the time.
 */
function tooLarge(
  webhook: WebhookName,
  deps: EndpointDeps,
  req: IncomingMessage,
  res: ServerResponse,
  started: number,
  limit: number,
  received: number,
): void {
  const message = `request entity is too large; limit is ${limit} bytes`;
  const body = reviewBody(ADMISSION_V1, complete(errored(413, message), ""));
  finish(webhook, deps, { started, decision: "errored", message, code: 413 });
  if (res.headersSent || res.destroyed) return;
  res.writeHead(413, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    connection: "close",
  });
  // write, not end: ending the response makes node close the connection right away (Connection: close).
  res.write(body);
  let discarded = received;
  req.on("data", (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > 2 * limit) res.destroy();
  });
  req.on("end", () => res.end());
  req.on("error", () => res.destroy());
  req.resume();
}

function isJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const semi = contentType.indexOf(";");
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase() === "application/json";
}

async function answer(
  webhook: WebhookName,
  deps: EndpointDeps,
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  started: number,
): Promise<void> {
  const decoded = decodeReview(body);
  const contentType = req.headers["content-type"];
  if (!isJson(contentType)) {
    const message = `contentType=${contentType ?? ""}, expected application/json`;
    const uid = decoded.ok ? decoded.request.uid : (decoded.uid ?? "");
    send(res, uid ? 200 : 400, decoded.apiVersion, uid, errored(400, message));
    finish(webhook, deps, { started, decision: "errored", message, code: 400, uid });
    return;
  }
  if (!decoded.ok) {
    const uid = decoded.uid ?? "";
    send(res, uid ? 200 : 400, decoded.apiVersion, uid, errored(400, decoded.message));
    finish(webhook, deps, { started, decision: "errored", message: decoded.message, code: 400, uid });
    return;
  }
  const request = decoded.request;
  let response: Response;
  try {
    response =
      webhook === "validate" ? await validateRequest(request, deps.validate) : mutateRequest(request);
  } catch (err) {
    // controller-runtime recovers panics the same way: answer 500 with the uid, count, log.
    deps.metrics.panics.inc();
    deps.log.error(
      { uid: request.uid, webhook, err: err instanceof Error ? (err.stack ?? err.message) : String(err) },
      "unexpected exception while handling admission request",
    );
    response = errored(
      500,
      `internal error in hookguard while handling request ${request.uid}; the webhook's log has the details`,
    );
  }
  send(res, 200, decoded.apiVersion, request.uid, response);
  const decision: Decision = response.allowed
    ? "allowed"
    : response.status?.code === 403
      ? "denied"
      : "errored";
  if (response.warnings.length > 0) deps.metrics.warnings.inc({ webhook }, response.warnings.length);
  finish(webhook, deps, {
    started,
    decision,
    request,
    code: response.status?.code ?? 200,
    patched: response.patches.length > 0,
    ...(decision === "errored" ? { message: response.status?.message ?? "" } : {}),
  });
}

function send(
  res: ServerResponse,
  httpStatus: number,
  apiVersion: AdmissionApiVersion,
  uid: string,
  response: Response,
): void {
  if (res.headersSent || res.destroyed) return;
  const body = reviewBody(apiVersion, complete(response, uid));
  res.writeHead(httpStatus, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

interface Outcome {
  started: number;
  decision: Decision;
  code: number;
  uid?: string;
  request?: AdmissionRequest;
  message?: string;
  patched?: boolean;
}

/** Metrics always; one log line per request, at debug for the common allowed case (it is the hot path). */
function finish(webhook: WebhookName, deps: EndpointDeps, o: Outcome): void {
  const seconds = (performance.now() - o.started) / 1000;
  deps.metrics.observeDuration(webhook, seconds);
  const r = o.request;
  deps.metrics.countRequest(webhook, r?.resource.resource ?? "", r?.operation ?? "", o.decision);
  const level = o.decision === "allowed" ? "debug" : o.decision === "denied" ? "info" : "warn";
  if (!deps.log.isLevelEnabled(level)) return;
  // Never the object, the oldObject or the denial text: annotation values can hold secrets.
  deps.log[level](
    {
      webhook,
      uid: o.uid ?? r?.uid ?? "",
      kind: r?.kind.kind,
      namespace: r?.namespace,
      name: r?.name,
      operation: r?.operation,
      user: r?.userInfo.username,
      dryRun: r?.dryRun === true ? true : undefined,
      decision: o.decision,
      code: o.code,
      patched: o.patched || undefined,
      latencyMs: Math.round(seconds * 1e6) / 1000,
      ...(o.message !== undefined ? { error: loggable(o.message) } : {}),
    },
    "admission request",
  );
}

/** JSON.parse errors quote a piece of the body; the log keeps only hookguard's own words. */
function loggable(message: string): string {
  const decode = "couldn't decode the AdmissionReview";
  return message.startsWith(`${decode}: `) && !message.endsWith("not a JSON object")
    ? `${decode} (invalid JSON)`
    : message.slice(0, 200);
}
