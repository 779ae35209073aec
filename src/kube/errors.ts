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
