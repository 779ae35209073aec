// The exact bodies a real API server / kubelet / containerd send for pod exec, with their origin.
// Two shapes exist:
// - HTTP error bodies (before any upgrade): a full metav1.Status with kind/apiVersion, as the
//   apiserver's REST layer writes them (k8s.io/apimachinery pkg/api/errors).
// - Channel-3 statuses (after the upgrade): json.Marshal(status.Status()) as the kubelet's
//   streaming server and the apiserver's stream translator write them: no kind/apiVersion, field
//   order metadata, status, message, reason, details, code.

export interface ExecStatusCause {
  reason?: string;
  message?: string;
}

export interface HttpStatusBody {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure";
  message: string;
  reason: string;
  details?: { name?: string; kind?: string; causes?: ExecStatusCause[] };
  code: number;
}

export function notFoundPod(name: string): HttpStatusBody {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: `pods "${name}" not found`,
    reason: "NotFound",
    details: { name, kind: "pods" },
    code: 404,
  };
}

/** errors.NewBadRequest: no details. */
export function badRequest(message: string): HttpStatusBody {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason: "BadRequest",
    code: 400,
  };
}

/** errors.NewInternalError(err) as an HTTP body. */
export function internalErrorBody(err: string): HttpStatusBody {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: `Internal error occurred: ${err}`,
    reason: "InternalError",
    details: { causes: [{ message: err }] },
    code: 500,
  };
}

/** Channel-3 payload for exit code 0. */
export function successChannelStatus(): string {
  return JSON.stringify({ metadata: {}, status: "Success" });
}

/**
 * Channel-3 payload for a non-zero exit code. The message differs by path, as in a real cluster:
 * - v4 (kubelet/containerd serve the WebSocket): containerd's streamRuntime.Exec returns
 *   CodeExitError{"error executing command [argv...], exit code N"} and the kubelet's ServeExec
 *   prefixes "command terminated with non-zero exit code: ".
 * - v5 (the apiserver's StreamTranslatorHandler re-encodes what its SPDY client decoded):
 *   errorDecoderV4 yields "command terminated with exit code N", and codeExitToStatusError
 *   prefixes the same words again.
 */
export function exitCodeChannelStatus(protocol: ExecProtocol, argv: string[], code: number): string {
  const inner =
    protocol === "v5.channel.k8s.io"
      ? `command terminated with exit code ${code}`
      : `error executing command [${argv.join(" ")}], exit code ${code}`;
  return JSON.stringify({
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: ${inner}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  });
}

/**
 * Channel-3 payload for an error that is not an exit code (errors.NewInternalError). On v5 the
 * translator's SPDY client turns the kubelet's InternalError status back into a plain error
 * (errorDecoderV4 returns fmt.Errorf(status.Message)) and wraps it in NewInternalError again, so a
 * real v5 client sees "Internal error occurred: Internal error occurred: ...". Errors raised by the
 * translator itself (e.g. the kubelet refusing the upgrade) are wrapped once: pass wrapOnce.
 */
export function internalErrorChannelStatus(protocol: ExecProtocol, err: string, wrapOnce = false): string {
  let cause = err;
  if (protocol === "v5.channel.k8s.io" && !wrapOnce) cause = `Internal error occurred: ${err}`;
  return JSON.stringify({
    metadata: {},
    status: "Failure",
    message: `Internal error occurred: ${cause}`,
    reason: "InternalError",
    details: { causes: [{ message: cause }] },
    code: 500,
  });
}

export type ExecProtocol = "v5.channel.k8s.io" | "v4.channel.k8s.io";
