// How long a client may take, and how many connections it may hold, on the admission port.
//
// The API server is the only legitimate client. It gives a TLS handshake 10 s (the bound of Go's
// and client-go's HTTP transports), writes each AdmissionReview, headers and body, in one go, and
// gives up on the webhook after the configuration's timeoutSeconds: 10 s by default, 30 s at most.
// A request still arriving after that comes from no API server, so each bound sits at, or a few
// seconds above, the figure it mirrors, far below node's own defaults (2 min for a handshake, 60 s
// for headers, and those checked only every 30 s) that let a stalled client hold a connection.
export interface ConnectionLimits {
  /** Concurrent TCP connections, handshaking ones included; connections beyond it are closed at once. */
  maxConnections: number;
  /** TCP connect to completed TLS handshake. */
  handshakeTimeoutMs: number;
  /** From the connection (or, on a kept-alive one, the request's first byte) to the end of the headers. */
  headersTimeoutMs: number;
  /** From the same start to the end of the body. */
  requestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** How often node enforces the header and request bounds: they can overrun by up to this much. */
  checkIntervalMs: number;
}

/** The default of --max-connections and of the chart's webhook.maxConnections. */
export const DEFAULT_MAX_CONNECTIONS = 1000;

export const DEFAULT_LIMITS: ConnectionLimits = {
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  // The API server's own handshake bound; a handshake that takes longer, it has abandoned.
  handshakeTimeoutMs: 10_000,
  // Above the default webhook timeout (10 s): headers arrive in the API server's first write.
  headersTimeoutMs: 15_000,
  // Above the longest webhook timeout (30 s): the API server has given up on the request by then.
  requestTimeoutMs: 35_000,
  // Long enough that an API server sending a review every few seconds reuses its connection (a
  // fresh TLS handshake costs more than a review); short enough that idle ones free their slot.
  keepAliveTimeoutMs: 60_000,
  checkIntervalMs: 1_000,
};
