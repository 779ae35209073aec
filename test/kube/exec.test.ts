// createPodExecutor against a real HTTPS server speaking the Kubernetes exec WebSocket protocol
// (v5.channel.k8s.io frames: channel byte + payload; channel 3 carries a JSON Status).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { createPodExecutor } from "../../src/kube/exec.js";
import type { ExecRequest } from "../../src/agent/ports.js";
import { startTestServer, waitFor, type TestServer } from "./helpers/https-server.js";

const frame = (ch: number, data: string | Buffer): Buffer =>
  Buffer.concat([Buffer.from([ch]), Buffer.isBuffer(data) ? data : Buffer.from(data)]);
const success = (): Buffer => frame(3, JSON.stringify({ metadata: {}, status: "Success" }));
const exitCode = (n: number): Buffer =>
  frame(
    3,
    JSON.stringify({
      metadata: {},
      status: "Failure",
      message: `command terminated with non-zero exit code: error executing command [x], exit code ${n}`,
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: String(n) }] },
    }),
  );

interface SeenExec {
  path: string;
  query: URLSearchParams;
  protocol: string;
}

describe("createPodExecutor", () => {
  let srv: TestServer;
  const seen: SeenExec[] = [];
  const held: Duplex[] = [];
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has("v5.channel.k8s.io") ? "v5.channel.k8s.io" : false),
  });

  function script(ws: WebSocket, argv: string[]): void {
    switch (argv[0]) {
      case "ok":
        ws.send(frame(1, "hello\n"));
        ws.send(success());
        break;
      case "exit":
        ws.send(frame(2, "something failed\n"));
        ws.send(exitCode(Number(argv[1])));
        break;
      case "big":
        ws.send(frame(1, Buffer.alloc(100_000, "a")));
        ws.send(frame(1, Buffer.alloc(50_000, "b")));
        ws.send(frame(2, "small"));
        ws.send(success());
        break;
      case "hang":
        ws.send(frame(1, "started\n"));
        break;
      case "drop":
        ws.send(frame(1, "partial"));
        setTimeout(() => ws.terminate(), 50);
        break;
      case "close-no-status":
        ws.send(frame(1, "partial"));
        setTimeout(() => ws.close(1000), 50);
        break;
      case "failure":
        ws.send(
          frame(
            3,
            JSON.stringify({
              metadata: {},
              status: "Failure",
              reason: "InternalError",
              message: 'container "nope" not found in pod "p"',
            }),
          ),
        );
        break;
      case "close-frame":
        ws.send(frame(1, "out"));
        ws.send(Buffer.from([255, 1]));
        ws.send(Buffer.from([255, 2]));
        ws.send(success());
        break;
      case "bad-status":
        ws.send(frame(3, "exit status 1"));
        break;
      case "status-first":
        ws.send(exitCode(7));
        ws.close();
        break;
      default:
        ws.send(exitCode(127));
    }
  }

  before(async () => {
    srv = await startTestServer(undefined, (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? "/", "https://x");
      const pod = url.pathname.split("/")[6];
      if (pod === "missing") {
        const body = JSON.stringify({
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          reason: "NotFound",
          code: 404,
          message: 'pods "missing" not found',
        });
        socket.end(
          `HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
        );
        return;
      }
      if (pod === "silent") {
        held.push(socket); // never answer the upgrade
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        seen.push({ path: url.pathname, query: url.searchParams, protocol: ws.protocol });
        script(ws, url.searchParams.getAll("command"));
      });
    });
  });
  after(async () => {
    for (const s of held) s.destroy();
    for (const c of wss.clients) c.terminate();
    wss.close();
    await srv.stop();
  });

  const req = (argv: string[], extra: Partial<ExecRequest> = {}): ExecRequest => ({
    namespace: "ns1",
    pod: "p",
    container: "app",
    argv,
    timeoutMs: 20_000,
    ...extra,
  });

  it("runs the argv without a shell, stdin or tty and reports exit 0 with stdout", async () => {
    const r = await createPodExecutor(srv.kc).exec(req(["ok", "a b", "$HOME"]));
    assert.equal(r.kind, "exited");
    assert.equal(r.kind === "exited" && r.exitCode, 0);
    assert.equal(r.stdout, "hello\n");
    assert.equal(r.stderr, "");
    assert.equal(r.stdoutTruncated, false);
    const s = seen.at(-1)!;
    assert.equal(s.path, "/api/v1/namespaces/ns1/pods/p/exec");
    assert.deepEqual(s.query.getAll("command"), ["ok", "a b", "$HOME"]);
    assert.equal(s.query.get("container"), "app");
    assert.equal(s.query.get("stdin"), "false");
    assert.equal(s.query.get("tty"), "false");
    assert.equal(s.protocol, "v5.channel.k8s.io");
  });

  it("decodes a non-zero exit code from the status channel and keeps stderr separate", async () => {
    const r = await createPodExecutor(srv.kc).exec(req(["exit", "3"]));
    assert.deepEqual([r.kind, r.kind === "exited" && r.exitCode], ["exited", 3]);
    assert.equal(r.stderr, "something failed\n");
    assert.equal(r.stdout, "");
  });

  it("reports a status that arrives before exec() resolves (socket already closing)", async () => {
    const r = await createPodExecutor(srv.kc).exec(req(["status-first"]));
    assert.deepEqual([r.kind, r.kind === "exited" && r.exitCode], ["exited", 7]);
  });

  it("caps each stream and marks the truncation visibly", async () => {
    const r = await createPodExecutor(srv.kc, { outputCapBytes: 64 * 1024 }).exec(req(["big"]));
    assert.equal(r.kind, "exited");
    assert.equal(r.stdoutTruncated, true);
    assert.equal(r.stderrTruncated, false);
    assert.ok(r.stdout.startsWith("a".repeat(64 * 1024)));
    assert.match(r.stdout, /\[hookguard: output truncated at 65536 bytes, 84464 more bytes dropped\]$/);
    assert.equal(r.stderr, "small");
  });

  it("times out a command that never ends by abandoning the stream", async () => {
    const r = await createPodExecutor(srv.kc).exec(req(["hang"], { timeoutMs: 300 }));
    assert.equal(r.kind, "timed_out");
    assert.equal(r.stdout, "started\n");
    // the client tore the socket down: the server sees it go away
    await waitFor(
      () => [...wss.clients].every((c) => c.readyState !== 1),
      "server-side socket to close",
      10_000,
    ).catch(() => undefined);
    assert.ok(
      [...wss.clients].every((c) => c.readyState !== 1),
      "server-side socket still open after timeout",
    );
  });

  it("bounds the upgrade handshake when the server never answers", async () => {
    const r = await createPodExecutor(srv.kc).exec(req(["ok"], { pod: "silent", handshakeTimeoutMs: 300 }));
    assert.equal(r.kind, "transport_error");
    assert.equal(r.kind === "transport_error" && r.message, "exec handshake timed out after 300ms");
  });

  it("reports a connection dropped mid-stream as a transport error, keeping partial output", async () => {
    const r = await createPodExecutor(srv.kc).exec(req(["drop"]));
    assert.equal(r.kind, "transport_error");
    assert.equal(r.kind === "transport_error" && r.message, "connection closed before exit status");
    assert.equal(r.stdout, "partial");
  });

  it("reports a clean close without a status like client-go", async () => {
    const r = await createPodExecutor(srv.kc).exec(req(["close-no-status"]));
    assert.equal(r.kind === "transport_error" && r.message, "connection closed before exit status");
  });

  it("reports a Failure status that is not an exit code with its message", async () => {
    const r = await createPodExecutor(srv.kc).exec(req(["failure"]));
    assert.equal(r.kind === "transport_error" && r.message, 'container "nope" not found in pod "p"');
  });

  it("survives channel-255 close frames and a non-JSON status frame without crashing the process", async () => {
    const r = await createPodExecutor(srv.kc).exec(req(["close-frame"]));
    assert.deepEqual([r.kind, r.stdout], ["exited", "out"]);
    const bad = await createPodExecutor(srv.kc).exec(req(["bad-status"]));
    assert.equal(bad.kind === "transport_error" && bad.message, "invalid exec status frame (not JSON)");
  });

  it("reports an upgrade rejected with 404 with the Status message", async () => {
    const r = await createPodExecutor(srv.kc).exec(req(["ok"], { pod: "missing" }));
    assert.equal(r.kind, "transport_error");
    assert.equal(
      r.kind === "transport_error" && r.message,
      'exec upgrade rejected: HTTP 404: pods "missing" not found',
    );
  });

  it("aborts on the signal, before and during the exec", async () => {
    const pre = new AbortController();
    pre.abort();
    const r1 = await createPodExecutor(srv.kc).exec(req(["ok"], { signal: pre.signal }));
    assert.equal(r1.kind === "transport_error" && r1.message, "aborted");
    const ac = new AbortController();
    const p = createPodExecutor(srv.kc).exec(req(["hang"], { signal: ac.signal }));
    setTimeout(() => ac.abort(), 200);
    const r2 = await p;
    assert.equal(r2.kind === "transport_error" && r2.message, "aborted");
  });

  it("leaves no timers or client sockets behind, whatever the outcome", async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const baseline = timers();
    const ex = createPodExecutor(srv.kc);
    const ac = new AbortController();
    const aborted = ex.exec(req(["hang"], { signal: ac.signal }));
    setTimeout(() => ac.abort(), 100);
    const results = await Promise.all([
      ex.exec(req(["ok"])),
      ex.exec(req(["hang"], { timeoutMs: 200 })),
      ex.exec(req(["ok"], { pod: "silent", handshakeTimeoutMs: 200 })),
      ex.exec(req(["drop"])),
      ex.exec(req(["ok"], { pod: "missing" })),
      aborted,
    ]);
    assert.deepEqual(
      results.map((r) => r.kind),
      ["exited", "timed_out", "transport_error", "transport_error", "transport_error", "transport_error"],
    );
    await waitFor(() => timers() <= baseline, "timers to be released", 10_000);
    await waitFor(
      () => [...wss.clients].every((c) => c.readyState === 3),
      "every exec socket closed",
      10_000,
    );
  });

  it("reports a refused connection as a transport error", async () => {
    const other = await startTestServer();
    const kc = other.kc;
    await other.stop();
    const r = await createPodExecutor(kc).exec(req(["ok"]));
    assert.equal(r.kind, "transport_error");
    assert.match(r.kind === "transport_error" ? r.message : "", /^exec connection failed: .*ECONNREFUSED/);
  });
});
