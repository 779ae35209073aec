// client-node 1.4.0 rejects with ApiException whose `body` is the Status as a JSON *string*.
// Everything above src/kube sees this typed shape instead.

export interface KubeApiError {
  code: number;
  reason: string;
  message: string;
}

export function toKubeApiError(err: unknown): KubeApiError {
  const e = err as { code?: unknown; body?: unknown; message?: unknown };
  const code = typeof e?.code === "number" ? e.code : 0;
  let status: { reason?: string; message?: string } = {};
  if (typeof e?.body === "string") {
    try {
      status = JSON.parse(e.body) as typeof status;
    } catch {
      status = { message: e.body };
    }
  } else if (e?.body && typeof e.body === "object") {
    status = e.body as typeof status;
  }
  return {
    code,
    reason: status.reason ?? (code === 0 ? "TransportError" : "Unknown"),
    message: status.message ?? (err instanceof Error ? err.message : String(err)),
  };
}

export const isConflict = (e: KubeApiError): boolean => e.code === 409;
export const isNotFound = (e: KubeApiError): boolean => e.code === 404;
export const isAlreadyExists = (e: KubeApiError): boolean => e.code === 409 && e.reason === "AlreadyExists";

// Node's TLS verification codes, and the words kubectl (Go's crypto/x509) uses for the same failure.
const X509: Array<[RegExp, string]> = [
  [
    /unable to verify the first certificate|self[- ]signed certificate|unable to get (local )?issuer certificate|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT/i,
    "x509: certificate signed by unknown authority",
  ],
  [/certificate has expired|CERT_HAS_EXPIRED/i, "x509: certificate has expired or is not yet valid"],
  [/certificate is not yet valid|CERT_NOT_YET_VALID/i, "x509: certificate has expired or is not yet valid"],
  [
    /Hostname\/IP does not match certificate's altnames|ERR_TLS_CERT_ALTNAME_INVALID/i,
    "x509: certificate is not valid for this server's name",
  ],
];

/**
 * The message kubectl prints for a failed request, so a user recognises it: `You must be logged in to
 * the server (Unauthorized)`, `Unable to connect to the server: x509: certificate signed by unknown
 * authority`, `The connection to the server HOST:PORT was refused - did you specify the right host or
 * port?`. Undefined for an API answer with a Status (forbidden, not found, ...), whose own message
 * already reads as kubectl's; the caller keeps that with its context.
 */
export function kubectlTransportMessage(e: KubeApiError): string | undefined {
  if (e.code === 401) return "You must be logged in to the server (Unauthorized)";
  if (e.code !== 0) return undefined;
  const m = /request to (\S+) failed, reason: (.*)$/s.exec(e.message);
  const reason = (m ? m[2]! : e.message).trim();
  let host = "";
  try {
    if (m) host = new URL(m[1]!).host;
  } catch {
    // not a URL: keep the reason alone
  }
  if (/ECONNREFUSED/.test(reason))
    return `The connection to the server ${host || "the API server"} was refused - did you specify the right host or port?`;
  const lookup = /ENOTFOUND (\S+)/.exec(reason);
  if (lookup) return `Unable to connect to the server: dial tcp: lookup ${lookup[1]}: no such host`;
  for (const [re, words] of X509)
    if (re.test(reason))
      return `Unable to connect to the server: tls: failed to verify certificate: ${words}`;
  if (/ETIMEDOUT|timed? ?out/i.test(reason))
    return `Unable to connect to the server: dial tcp ${host}: i/o timeout`;
  return `Unable to connect to the server: ${reason}`;
}

/** `what: message`, or kubectl's wording alone when the request never got an API answer. */
export function describeClusterFailure(what: string, e: KubeApiError): string {
  return kubectlTransportMessage(e) ?? `${what}: ${e.message}`;
}
