// `hookguard webhook --max-connections N`: the process holds at most N connections on its HTTPS
// port; one more is closed at once (and the log says the limit was reached) while the liveness
// endpoint on the metrics port still answers, and a bad value is a usage error.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runProcess } from "../helpers/process.js";

const BIN = fileURLToPath(new URL("../../bin/hookguard.js", import.meta.url));

describe("hookguard webhook --max-connections", () => {
  let dir: string;
  let child: ChildProcess;
  let stdout = "";
  let stderr = "";

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookguard-maxconn-"));
    child = spawn(
      process.execPath,
      [
        BIN,
        "webhook",
        "--cert-dir",
        "certs",
        "--port",
        "0",
        "--metrics-port",
        "0",
        "--host",
        "127.0.0.1",
        "--max-connections",
        "3",
      ],
      {
        cwd: dir,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, KUBECONFIG: "" },
      },
    );
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const deadline = Date.now() + 60_000;
    // Wait for the warm-up to end, so its connection is gone before the cap is filled.
    while (!/\nEOF\n/.test(stdout) || !stderr.includes("warmed up")) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`webhook did not start:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("closes a connection beyond the cap at once and says so in the log", async () => {
    const port = Number(/https:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)![1]);
    const open = (): Promise<{ socket: Socket; closed: Promise<void> }> =>
      new Promise((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port });
        const closed = new Promise<void>((r) => socket.on("close", () => r()));
        socket.on("error", () => {});
        socket.once("connect", () => resolve({ socket, closed }));
        socket.once("error", reject);
      });
    const held = [await open(), await open(), await open()];
    const extra = await open();
    await extra.closed; // the hang guard is the test's own timeout
    // the cap is full, yet the liveness probe (the metrics port) still answers: the kubelet does
    // not restart a pod for being flooded
    const metricsPort = Number(/metrics: http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)![1]);
    const live = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
    assert.equal(live.status, 200);
    assert.equal(await live.text(), "ok");
    let heldClosed = 0;
    for (const h of held) void h.closed.then(() => heldClosed++);
    await new Promise((r) => setImmediate(r));
    assert.equal(heldClosed, 0, "the connections within the cap stay open");
    for (const h of held) h.socket.destroy();
    const deadline = Date.now() + 30_000;
    while (!stderr.includes("connection limit reached") && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const line = stderr.split("\n").find((l) => l.includes("connection limit reached"));
    assert.ok(line, stderr);
    assert.equal(JSON.parse(line).maxConnections, 3);
  });

  it("rejects --max-connections 0 with exit code 2 and a clear message", async () => {
    const res = await runProcess(process.execPath, [BIN, "webhook", "--max-connections", "0"], { cwd: dir });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--max-connections must be a whole number of at least 1, got "0"/);
  });
});
