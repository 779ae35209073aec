// Calls the registered Mutating/ValidatingWebhookConfigurations the way kube-apiserver 1.32 does:
// configurations sorted by name, mutating webhooks in order with their JSONPatch applied, then
// validating webhooks in parallel (the first denial in configuration order wins). AdmissionReview v1
// requests carry the real fields; calls use real TLS verified against caBundle (service references
// are routed to a test URL but still verified as NAME.NAMESPACE.svc); errors, denials and warnings
// come back with the real server's texts and codes.
import { randomUUID } from "node:crypto";
import { request as httpsRequest } from "node:https";
import type { AdmissionAttributes, AdmissionChain } from "./admission-types.js";
import { shouldCall } from "./admission-match.js";
import { jsonPatch } from "./patch.js";
import { RESOURCES } from "./resources.js";
import { ApiError, badRequest, failure, internalError, type Status } from "./status.js";
import type { ObjectStore } from "./store.js";

export interface AdmissionKnobs {
  /** "namespace/name:port" → URL the test serves, for clientConfig.service references. */
  services: Map<string, string>;
}

const MUTATING = RESOURCES.find((r) => r.kind === "MutatingWebhookConfiguration")!;
const VALIDATING = RESOURCES.find((r) => r.kind === "ValidatingWebhookConfiguration")!;

type CallResult = { ok: true; response: any } | { ok: false; error: string };

export class AdmissionWebhooks implements AdmissionChain {
  constructor(
    private readonly store: ObjectStore,
    private readonly knobs: AdmissionKnobs,
  ) {}

  private webhooks(kind: "mutating" | "validating"): any[] {
    const configs = this.store
      .list(kind === "mutating" ? MUTATING : VALIDATING)
      .sort((x, y) => x.metadata.name.localeCompare(y.metadata.name));
    return configs.flatMap((c) =>
      Array.isArray(c.webhooks) ? c.webhooks.filter((w: unknown) => typeof w === "object" && w !== null) : [],
    );
  }

  async mutate(a: AdmissionAttributes): Promise<{ object: any }> {
    const warnings = a.warningSink;
    if (exempt(a)) return { object: a.object };
    let object = a.object;
    for (const wh of this.webhooks("mutating")) {
      const attrs = { ...a, object };
      if (!shouldCall(this.store, wh, attrs)) continue;
      const res = await this.call(wh, attrs, true);
      if (!res) continue;
      warnings.push(...(res.warnings ?? []));
      if (!res.allowed) throw denial(wh.name, res.status);
      if (res.patch && object) {
        let ops: unknown;
        try {
          ops = JSON.parse(Buffer.from(res.patch, "base64").toString("utf8"));
        } catch (e) {
          throw internalError(
            `failed calling webhook "${wh.name}": received invalid webhook response: ${(e as Error).message}`,
          );
        }
        if (!Array.isArray(ops))
          throw internalError(
            `failed calling webhook "${wh.name}": received invalid webhook response: json: cannot unmarshal object into Go value of type jsonpatch.Patch`,
          );
        try {
          object = jsonPatch(structuredClone(object), ops);
        } catch (e) {
          throw internalError(
            e instanceof ApiError ? (e.status.message ?? "patch failed") : (e as Error).message,
          );
        }
      }
    }
    return { object };
  }

  async validate(a: AdmissionAttributes): Promise<void> {
    if (exempt(a)) return;
    const hooks = this.webhooks("validating").filter((wh) => shouldCall(this.store, wh, a));
    const results = await Promise.all(
      hooks.map((wh) =>
        this.call(wh, a, false).then(
          (r) => ({ r }),
          (e: unknown) => ({ e }),
        ),
      ),
    );
    const warnings = a.warningSink;
    let first: unknown;
    results.forEach((x, i) => {
      if ("e" in x) {
        first ??= x.e;
        return;
      }
      if (!x.r) return;
      warnings.push(...(x.r.warnings ?? []));
      if (!x.r.allowed) first ??= denial(hooks[i]!.name, x.r.status);
    });
    if (first) {
      if (first instanceof ApiError) throw new ApiError(first.status, first.headers);
      throw first;
    }
  }

  /** Returns the AdmissionResponse, undefined when a call failure is ignored, or throws the refusal. */
  private async call(wh: any, a: AdmissionAttributes, mutating: boolean): Promise<any | undefined> {
    const ignore = (wh.failurePolicy ?? "Fail") === "Ignore";
    if (a.dryRun && !["None", "NoneOnDryRun"].includes(wh.sideEffects)) {
      throw badRequest(`admission webhook "${wh.name}" does not support dry run`);
    }
    const versions: string[] = wh.admissionReviewVersions ?? ["v1"];
    const version = versions.find((v) => v === "v1" || v === "v1beta1");
    let result: CallResult;
    if (!version) result = { ok: false, error: `webhook does not accept known AdmissionReview versions` };
    else {
      const review = buildReview(a, `admission.k8s.io/${version}`);
      result = await this.post(wh, review);
      if (result.ok) {
        const problem = verifyResponse(result.response, review, mutating);
        if (problem) result = { ok: false, error: `received invalid webhook response: ${problem}` };
      }
    }
    if (!result.ok) {
      if (ignore) return undefined;
      throw internalError(`failed calling webhook "${wh.name}": ${result.error}`);
    }
    return result.response.response;
  }

  private post(wh: any, review: any): Promise<CallResult> {
    const cc = wh.clientConfig ?? {};
    const timeoutSeconds = Number(wh.timeoutSeconds ?? 10);
    let displayUrl: URL;
    let target: URL;
    let servername: string;
    try {
      if (cc.url) {
        displayUrl = new URL(cc.url);
        target = displayUrl;
        servername = displayUrl.hostname;
      } else if (cc.service) {
        const port = Number(cc.service.port ?? 443);
        servername = `${cc.service.name}.${cc.service.namespace}.svc`;
        displayUrl = new URL(`https://${servername}:${port}${cc.service.path ?? ""}`);
        const routed = this.knobs.services.get(`${cc.service.namespace}/${cc.service.name}:${port}`);
        if (!routed) {
          return Promise.resolve({
            ok: false,
            error: `failed to call webhook: Post "${displayUrl.href}?timeout=${timeoutSeconds}s": service "${cc.service.name}" not found`,
          });
        }
        const base = new URL(routed);
        target = new URL(`${base.origin}${cc.service.path ?? ""}`);
      } else {
        return Promise.resolve({ ok: false, error: "no clientConfig.url or clientConfig.service" });
      }
    } catch (e) {
      return Promise.resolve({ ok: false, error: `failed to call webhook: ${(e as Error).message}` });
    }
    displayUrl.searchParams.set("timeout", `${timeoutSeconds}s`);
    target.searchParams.set("timeout", `${timeoutSeconds}s`);
    const shown = `Post "${displayUrl.href}"`;
    const body = JSON.stringify(review);
    const ca = cc.caBundle ? Buffer.from(cc.caBundle, "base64").toString("utf8") : undefined;
    return new Promise<CallResult>((resolve) => {
      let done = false;
      const finish = (r: CallResult): void => {
        if (!done) {
          done = true;
          clearTimeout(timer);
          resolve(r);
        }
      };
      const req = httpsRequest(
        {
          method: "POST",
          host: target.hostname,
          port: target.port || 443,
          path: `${target.pathname}${target.search}`,
          servername: isIp(servername) ? undefined : servername,
          ...(ca ? { ca } : {}),
          minVersion: "TLSv1.2",
          headers: {
            "Content-Type": "application/json",
            Accept: "application/json, */*",
            "Content-Length": Buffer.byteLength(body),
            "User-Agent": "kube-apiserver-admission",
          },
          agent: false,
          checkServerIdentity: (_host, cert) => checkIdentity(servername, cert),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const code = res.statusCode ?? 0;
            if (code < 200 || code > 299)
              return finish({ ok: false, error: `failed to call webhook: ${httpError(code, text)}` });
            try {
              finish({ ok: true, response: JSON.parse(text) });
            } catch (e) {
              finish({ ok: false, error: `failed to call webhook: ${(e as Error).message}` });
            }
          });
          res.on("error", (e) =>
            finish({ ok: false, error: `failed to call webhook: ${shown}: ${goError(e, target)}` }),
          );
        },
      );
      const timer = setTimeout(() => {
        finish({ ok: false, error: `failed to call webhook: ${shown}: context deadline exceeded` });
        req.destroy();
      }, timeoutSeconds * 1000);
      req.on("error", (e) =>
        finish({ ok: false, error: `failed to call webhook: ${shown}: ${goError(e, target)}` }),
      );
      req.end(body);
    });
  }
}

function isIp(h: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(h) || h.includes(":");
}

/** Go's x509 hostname check, with its error text. */
function checkIdentity(host: string, cert: any): Error | undefined {
  const sans: string[] = String(cert.subjectaltname ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const dns = sans.filter((s) => s.startsWith("DNS:")).map((s) => s.slice(4));
  const ips = sans.filter((s) => s.startsWith("IP Address:")).map((s) => s.slice(11));
  const ok = isIp(host)
    ? ips.includes(host)
    : dns.some(
        (d) =>
          d === host ||
          (d.startsWith("*.") && host.endsWith(d.slice(1)) && host.split(".").length === d.split(".").length),
      );
  if (ok) return undefined;
  const err = new Error(
    isIp(host)
      ? `tls: failed to verify certificate: x509: certificate is valid for ${[...dns, ...ips].join(", ")}, not ${host}`
      : `tls: failed to verify certificate: x509: certificate is valid for ${dns.join(", ")}, not ${host}`,
  );
  (err as any).code = "HOOKGUARD_NAME_MISMATCH";
  return err;
}

/** Node's network/TLS errors, phrased the way Go's net/http reports them. */
function goError(e: any, target: URL): string {
  const hostPort = `${target.hostname}:${target.port || 443}`;
  switch (e?.code) {
    case "ECONNREFUSED":
      return `dial tcp ${hostPort}: connect: connection refused`;
    case "ENOTFOUND":
      return `dial tcp: lookup ${target.hostname}: no such host`;
    case "ECONNRESET":
      return "EOF";
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "UNABLE_TO_GET_ISSUER_CERT":
      return "tls: failed to verify certificate: x509: certificate signed by unknown authority";
    case "CERT_HAS_EXPIRED":
    case "CERT_NOT_YET_VALID":
      return "tls: failed to verify certificate: x509: certificate has expired or is not yet valid";
    case "HOOKGUARD_NAME_MISMATCH":
      return e.message;
    default:
      return e?.message ?? String(e);
  }
}

/** client-go's text for a non-2xx answer without a Status body. */
function httpError(code: number, text: string): string {
  try {
    const s = JSON.parse(text);
    if (s?.kind === "Status" && s.message) return s.message;
  } catch {
    // not a Status: fall through to the generic texts
  }
  if (code === 404) return "the server could not find the requested resource";
  if (code >= 500)
    return `an error on the server ("${text.slice(0, 200).trim()}") has prevented the request from succeeding`;
  return `the server responded with the status code ${code} but did not return more information`;
}

function exempt(a: AdmissionAttributes): boolean {
  // The real server never sends webhook configurations themselves to webhooks.
  return a.resource === MUTATING || a.resource === VALIDATING;
}

function buildReview(a: AdmissionAttributes, apiVersion: string): any {
  const gvk = { group: a.resource.group, version: a.resource.version, kind: a.kind ?? a.resource.kind };
  const gvr = { group: a.resource.group, version: a.resource.version, resource: a.resource.plural };
  const request: Record<string, unknown> = { uid: randomUUID(), kind: gvk, resource: gvr };
  if (a.subresource) request.subResource = a.subresource;
  request.requestKind = gvk;
  request.requestResource = gvr;
  if (a.subresource) request.requestSubResource = a.subresource;
  if (a.name) request.name = a.name;
  if (a.namespace) request.namespace = a.namespace;
  request.operation = a.operation;
  request.userInfo = {
    username: a.user.username,
    uid: a.user.uid,
    groups: a.user.groups,
    ...(a.user.extra ? { extra: a.user.extra } : {}),
  };
  request.object = a.object ?? null;
  request.oldObject = a.oldObject ?? null;
  request.dryRun = a.dryRun;
  request.options = a.options ?? null;
  return { kind: "AdmissionReview", apiVersion, request };
}

/** webhookrequest.VerifyAdmissionResponse: the checks and texts of the real server. */
function verifyResponse(review: any, sent: any, mutating: boolean): string | undefined {
  if (review?.apiVersion !== sent.apiVersion)
    return `expected webhook response of ${sent.apiVersion}, got ${JSON.stringify(review?.apiVersion ?? "")}`;
  if (review.kind !== "AdmissionReview")
    return `expected webhook response of kind AdmissionReview, got ${JSON.stringify(review.kind ?? "")}`;
  const r = review.response;
  if (!r) return "webhook response was absent";
  if (r.uid !== sent.request.uid)
    return `expected response.uid=${JSON.stringify(sent.request.uid)}, got ${JSON.stringify(r.uid ?? "")}`;
  if (r.patch !== undefined && r.patch !== null && r.patch !== "") {
    if (!mutating) return "validating webhooks may not return patches";
    if (r.patchType === undefined || r.patchType === null || r.patchType === "")
      return "webhook returned response.patch but not response.patchType";
    if (r.patchType !== "JSONPatch")
      return `webhook returned invalid response.patchType of ${JSON.stringify(r.patchType)}`;
  } else if (r.patchType) {
    return "webhook returned response.patchType but not response.patch";
  }
  if (typeof r.allowed !== "boolean") r.allowed = false;
  return undefined;
}

/** webhookerrors.ToStatusErr (1.32): the webhook's Status, code ≥ 400, message prefixed. */
function denial(name: string, result: any): ApiError {
  const deniedBy = `admission webhook "${name}" denied the request`;
  const r = result && typeof result === "object" ? result : {};
  let code = Number(r.code ?? 0);
  if (!(code >= 400)) code = 400;
  const message = r.message
    ? `${deniedBy}: ${r.message}`
    : r.reason
      ? `${deniedBy}: ${r.reason}`
      : `${deniedBy} without explanation`;
  const s: Status = failure(code, r.reason || undefined, message, r.details ?? undefined);
  return new ApiError(s);
}
