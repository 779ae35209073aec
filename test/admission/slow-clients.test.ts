// Slow and stalled clients on the admission port: connections that never start their TLS handshake,
// that stop inside their headers or body, or that idle after a request are closed by the server
// within its bounds, while real reviews keep being answered; connections beyond --max-connections
// are closed at once, so the server never holds more than the cap. The bounds are shortened here;
// nothing is timed: every wait is for an event (a close, a success), with hang guards only.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Agent } from "node:https";
import { connect as tcpConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { waitFor } from "../kube/helpers/https-server.js";
import { pod, post, review, startTestWebhook, type TestWebhook } from "./helpers.js";

const LIMITS = {
  handshakeTimeoutMs: 3_000,
  headersTimeoutMs: 3_000,
  requestTimeoutMs: 5_000,
  keepAliveTimeoutMs: 2_000,
  checkIntervalMs: 250,
};
const HANG_GUARD_MS = 60_000;

interface Stalled {
  kind: string;
  /** Resolves when the connection closes; with what the server sent before closing. */
  closed: Promise<{ received: string }>;
  socket: Socket;
}

/** Opens a connection that stalls in the way `kind` says, and records how it ends. */
function stall(
  wh: TestWebhook,
  kind:
    "no handshake" | "handshake, no request" | "partial headers" | "partial body" | "idle after a request",
): Promise<Stalled> {
  return new Promise((resolve, reject) => {
    let received = "";
    const socket: Socket =
      kind === "no handshake"
        ? tcpConnect({ host: "127.0.0.1", port: wh.port })
        : tlsConnect({ host: "127.0.0.1", port: wh.port, ca: wh.ca, servername: "localhost" });
    const closed = new Promise<{ received: string }>((done) => socket.on("close", () => done({ received })));
    socket.on("data", (c: Buffer) => (received += c.toString("latin1")));
    socket.on("error", () => {});
    const body = JSON.stringify(review({ kind: "Pod", operation: "CREATE", object: pod() }));
    const ready = () => {
      if (kind === "partial headers")
        socket.write("POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Ty");
      if (kind === "partial body")
        socket.write(
          `POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 100)}`,
        );
      if (kind === "idle after a request") {
        socket.write(
          `POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        );
        // Stalled once the answer is in: from then on it is an idle kept-alive connection.
        const answered = () => {
          if (!/\r\n\r\n[\s\S]*"allowed":true/.test(received)) return;
          socket.off("data", answered);
          resolve({ kind, closed, socket });
        };
        socket.on("data", answered);
        return;
      }
      resolve({ kind, closed, socket });
    };
    if (kind === "no handshake") socket.once("connect", ready);
    else socket.once("secureConnect", ready);
    socket.once("error", reject);
  });
}

function guard<T>(what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`hang guard: ${what}`)), HANG_GUARD_MS);
    }),
  ]);
}

/** A real review on a fresh connection; resolves with the answer, rejects if the connection fails. */
async function realReview(
  wh: TestWebhook,
  uid: string,
): Promise<{ status: number; uid?: string; allowed?: boolean }> {
  const agent = new Agent({ keepAlive: false, ca: wh.ca });
  try {
    const res = await post({
      port: wh.port,
      agent,
      path: "/validate",
      body: review({ kind: "Pod", operation: "CREATE", object: pod(), uid }),
    });
    return { status: res.status, uid: res.json?.response?.uid, allowed: res.json?.response?.allowed };
  } finally {
    agent.destroy();
  }
}

describe("slow and stalled clients", () => {
  it("stalled connections of every kind are closed by the server, and real reviews are answered meanwhile", async () => {
    const wh = await startTestWebhook({ limits: { ...LIMITS, maxConnections: 100 } });
    try {
      const kinds = [
        "no handshake",
        "handshake, no request",
        "partial headers",
        "partial body",
        "idle after a request",
      ] as const;
      const stalled: Stalled[] = [];
      for (let i = 0; i < 8; i++) for (const kind of kinds) stalled.push(await stall(wh, kind));
      // 40 stalled connections open: real reviews on fresh connections are still answered.
      for (let i = 0; i < 5; i++)
        assert.deepEqual(await realReview(wh, `while-stalled-${i}`), {
          status: 200,
          uid: `while-stalled-${i}`,
          allowed: true,
        });
      // Every stalled connection is closed by the server (the client never closes one).
      const ends = await guard(
        "stalled connections to be closed by the server",
        Promise.all(stalled.map((s) => s.closed)),
      );
      for (const [i, s] of stalled.entries()) {
        // A TLS connection whose request is overdue gets node's 408 before the close; one that never
        // finished its handshake is simply closed, and an idle kept-alive one after its answer.
        if (s.kind === "no handshake") assert.equal(ends[i]!.received, "", s.kind);
        else if (s.kind === "idle after a request") assert.doesNotMatch(ends[i]!.received, /408/, s.kind);
        else assert.match(ends[i]!.received, /^HTTP\/1\.1 408 Request Timeout/, s.kind);
      }
      await waitFor(
        async () => (await wh.server.connections()) === 0,
        "the server to count no open connections",
        HANG_GUARD_MS,
      );
      assert.deepEqual(await realReview(wh, "after"), { status: 200, uid: "after", allowed: true });
    } finally {
      await wh.stop();
    }
  });

  it("never holds more connections than the cap, and answers real reviews once stalled ones are cut off", async () => {
    const cap = 20;
    const wh = await startTestWebhook({ limits: { ...LIMITS, maxConnections: cap } });
    try {
      // Fill the cap: half never start TLS, half stop inside their headers.
      const stalled: Stalled[] = [];
      for (let i = 0; i < cap / 2; i++)
        stalled.push(await stall(wh, "no handshake"), await stall(wh, "partial headers"));
      await waitFor(
        async () => (await wh.server.connections()) === cap,
        "the server to hold the stalled connections",
        HANG_GUARD_MS,
      );
      // Beyond the cap, connections are closed at once, before any byte of TLS.
      const extra = await Promise.all(Array.from({ length: 10 }, () => stall(wh, "no handshake")));
      const extraEnds = await guard(
        "connections beyond the cap to be closed",
        Promise.all(extra.map((s) => s.closed)),
      );
      assert.ok(extraEnds.every((e) => e.received === ""));
      assert.ok((await wh.server.connections()) <= cap);
      // A real review may be refused while the cap is full, but succeeds on a fresh connection once
      // the stalled ones have been cut off; the server's count never goes above the cap meanwhile.
      let answer: Awaited<ReturnType<typeof realReview>> | undefined;
      let attempts = 0;
      await guard(
        "a real review to succeed",
        (async () => {
          while (!answer) {
            attempts++;
            assert.ok((await wh.server.connections()) <= cap);
            answer = await realReview(wh, "through").catch(() => undefined);
            if (!answer) await new Promise((r) => setTimeout(r, 50));
          }
        })(),
      );
      assert.deepEqual(answer, { status: 200, uid: "through", allowed: true });
      await guard("the stalled connections to be closed", Promise.all(stalled.map((s) => s.closed)));
      assert.ok(attempts >= 1);
    } finally {
      await wh.stop();
    }
  });
});
