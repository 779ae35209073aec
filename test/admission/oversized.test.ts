// A body over the 7 MiB limit gets a complete HTTP 413 with an errored AdmissionReview before the
// connection closes, whether it declares its length or is chunked, and whether the client reads the
// answer while it is still writing or only after it has written everything. A raw TLS client shows
// what the wire carries: the answer, and how the connection ended (FIN, or a reset that would have
// destroyed an answer the client had not read yet).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, type TLSSocket } from "node:tls";
import { pod, review, startTestWebhook, type TestWebhook } from "./helpers.js";

const LIMIT = 7 * 1024 * 1024;
const MIB = 1024 * 1024;
const ERRORED_413 = {
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  response: {
    uid: "",
    allowed: false,
    status: { code: 413, message: `request entity is too large; limit is ${LIMIT} bytes` },
  },
};

interface Exchange {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The answer arrived whole (as many body bytes as its Content-Length). */
  complete: boolean;
  /** How the connection ended: "end" is an orderly close (FIN), anything else the socket's error code. */
  ended: string;
  /** Body bytes the client got written before the connection ended. */
  written: number;
}

function parse(raw: Buffer): Pick<Exchange, "status" | "headers" | "body" | "complete"> {
  const split = raw.indexOf("\r\n\r\n");
  if (split < 0) return { status: 0, headers: {}, body: "", complete: false };
  const [statusLine, ...lines] = raw.subarray(0, split).toString("latin1").split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines)
    headers[line.slice(0, line.indexOf(":")).toLowerCase()] = line.slice(line.indexOf(":") + 1).trim();
  const body = raw.subarray(split + 4);
  const length = Number(headers["content-length"] ?? -1);
  return {
    status: Number(statusLine!.split(" ")[1]),
    headers,
    body: body.toString("utf8"),
    complete: body.length === length,
  };
}

/**
 * Sends `total` body bytes (declared or chunked) in 64 KiB writes, honouring backpressure. With
 * `readAfterWriting`, the client reads nothing until it has written everything (or failed to).
 */
function exchange(
  wh: TestWebhook,
  o: { total: number; chunked: boolean; declared?: number; readAfterWriting?: boolean },
): Promise<Exchange> {
  return new Promise((resolve) => {
    const received: Buffer[] = [];
    let written = 0;
    let ended = "";
    let writing = true;
    const socket: TLSSocket = connect({
      host: "127.0.0.1",
      port: wh.port,
      ca: wh.ca,
      servername: "localhost",
    });
    const settle = (how: string) => {
      if (!ended) ended = how;
    };
    socket.on("data", (c: Buffer) => received.push(c));
    socket.on("end", () => settle("end"));
    socket.on("error", (err: NodeJS.ErrnoException) => settle(err.code ?? err.message));
    socket.on("close", () => resolve({ ...parse(Buffer.concat(received)), ended, written }));
    socket.once("secureConnect", async () => {
      if (o.readAfterWriting) socket.pause();
      const framing = o.chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${o.declared ?? o.total}`;
      socket.write(
        `POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`,
      );
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      while (writing && written < o.total && !socket.destroyed && !ended) {
        const piece = o.chunked
          ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")])
          : chunk;
        written += chunk.length;
        if (!socket.write(piece))
          await new Promise<void>((r) => {
            const go = () => {
              socket.off("drain", go);
              socket.off("close", go);
              r();
            };
            socket.on("drain", go);
            socket.on("close", go);
          });
      }
      if (o.chunked && !socket.destroyed && !ended) socket.write("0\r\n\r\n");
      writing = false;
      if (o.readAfterWriting) {
        // Give the last writes time to leave, then read what the server sent meanwhile.
        socket.write("", () => socket.resume());
        if (socket.destroyed) socket.resume();
      }
    });
    // Whatever happens, the test ends: the server closes the connection (or its request timeout does).
    socket.setTimeout(60_000, () => socket.destroy(new Error("client hang guard")));
  });
}

describe("bodies over the 7 MiB limit", () => {
  let wh: TestWebhook;
  before(async () => {
    wh = await startTestWebhook({ maxRequestBytes: LIMIT });
  });
  after(async () => wh.stop());

  const expect413 = (x: Exchange) => {
    assert.equal(x.status, 413, `got ${JSON.stringify({ ...x, body: x.body.slice(0, 200) })}`);
    assert.ok(x.complete, "the 413 answer arrived whole");
    assert.equal(x.headers["content-type"], "application/json");
    assert.equal(x.headers.connection, "close");
    assert.deepEqual(JSON.parse(x.body), ERRORED_413);
  };

  it("declared Content-Length, read while writing: a complete 413, then an orderly close after the body", async () => {
    const x = await exchange(wh, { total: 8 * MIB, chunked: false });
    expect413(x);
    assert.equal(x.ended, "end");
    assert.equal(x.written, 8 * MIB);
  });

  it("declared Content-Length, read only after writing all of it: the 413 is still there", async () => {
    const x = await exchange(wh, { total: 8 * MIB, chunked: false, readAfterWriting: true });
    expect413(x);
    assert.equal(x.ended, "end");
  });

  it("chunked, read while writing and read after writing: a complete 413 and an orderly close", async () => {
    for (const readAfterWriting of [false, true]) {
      const x = await exchange(wh, { total: 8 * MIB, chunked: true, readAfterWriting });
      expect413(x);
      assert.equal(x.ended, "end", `readAfterWriting=${readAfterWriting}`);
    }
  });

  it("a client sending far more than the limit gets the whole 413 first and is then cut off", async () => {
    const x = await exchange(wh, { total: 64 * MIB, chunked: false });
    expect413(x);
    assert.ok(x.written < 64 * MIB, `the server stopped reading (client wrote ${x.written} bytes)`);
  });

  it("the server keeps answering reviews afterwards", async () => {
    const ok = await wh.post(
      "/validate",
      review({ kind: "Pod", operation: "CREATE", object: pod(), uid: "after-413" }),
    );
    assert.equal(ok.status, 200);
    assert.equal(ok.json.response.uid, "after-413");
    assert.equal(ok.json.response.allowed, true);
  });
});
