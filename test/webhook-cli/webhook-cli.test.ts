// `hookguard webhook` as a user runs it: dev certificates generated into an empty dir, the printed
// curl pasted into a shell and answered, /metrics served, and SIGTERM draining an in-flight request
// before exiting 0.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { get } from "node:http";
import { connect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runProcess } from "../helpers/process.js";

const BIN = fileURLToPath(new URL("../../bin/hookguard.js", import.meta.url));

describe("hookguard webhook (CLI)", () => {
  let dir: string;
  let child: ChildProcess;
  let stdout = "";
  let stderr = "";
  let exited: Promise<number | null>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookguard-cli-"));
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
        "--metrics-bind-address",
        "127.0.0.2",
      ],
      {
        cwd: dir,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, KUBECONFIG: "" },
      },
    );
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!/\nEOF\n/.test(stdout)) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`webhook did not start:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  const port = () => Number(/https:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)![1]);
  const metricsPort = () => Number(/http:\/\/127\.0\.0\.2:(\d+)\/metrics/.exec(stdout)![1]);

  it("generates dev certificates into the empty cert dir and says so; the check is off without cluster access", async () => {
    for (const f of ["ca.crt", "ca.key", "tls.crt", "tls.key"])
      assert.ok(existsSync(join(dir, "certs", f)), f);
    // The JSON logs go to stderr through pino's asynchronous destination, so they may arrive after
    // the curl on stdout: wait (bounded) for the startup line that is logged last.
    const deadline = Date.now() + 30_000;
    while (!stderr.includes("hookguard webhook serving") && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const logs = stderr
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string; level: string });
    assert.ok(
      logs.some(
        (l) =>
          l.level === "info" &&
          l.msg.startsWith("no tls.crt/tls.key in the cert dir: generated a development CA"),
      ),
    );
    assert.ok(
      logs.some(
        (l) => l.level === "warn" && l.msg.startsWith("exec-permission check is OFF: no cluster access"),
      ),
    );
  });

  it("prints a curl that, pasted into a shell, gets the example refused", async () => {
    const curl = stdout.slice(stdout.indexOf("curl --cacert certs/ca.crt"), stdout.indexOf("\nEOF\n") + 5);
    assert.ok(
      curl.startsWith(
        `curl --cacert certs/ca.crt -H 'Content-Type: application/json' --data @- https://localhost:${port()}/validate <<'EOF'\n`,
      ),
      curl,
    );
    const res = await runProcess("bash", ["-c", curl], { cwd: dir });
    assert.equal(res.code, 0, res.stderr);
    const review = JSON.parse(res.stdout);
    assert.equal(review.response.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
    assert.equal(review.response.allowed, false);
    assert.equal(review.response.status.reason, "Forbidden");
    assert.match(review.response.status.message, /on-error "continue" is not valid/);
  });

  it("serves Prometheus metrics on the metrics port, at --metrics-bind-address only", async () => {
    const refused = await new Promise<boolean>((resolve) => {
      get({ host: "127.0.0.1", port: metricsPort(), path: "/metrics" }, (res) => {
        res.resume();
        resolve(false);
      }).on("error", () => resolve(true));
    });
    assert.equal(refused, true, "the metrics port is not on --host's address");
    const text = await new Promise<string>((resolve, reject) => {
      get({ host: "127.0.0.2", port: metricsPort(), path: "/metrics" }, (res) => {
        let s = "";
        res.on("data", (c: Buffer) => (s += c.toString()));
        res.on("end", () => resolve(s));
      }).on("error", reject);
    });
    assert.match(
      text,
      /hookguard_admission_requests_total\{webhook="validate",resource="pods",operation="CREATE",decision="denied"\} 1/,
    );
    assert.match(text, /hookguard_certificate_expiry_timestamp_seconds\{certificate="serving"\}/);
  });

  it("on SIGTERM finishes the in-flight request, refuses new connections, and exits 0", async () => {
    const ca = readFileSync(join(dir, "certs", "ca.crt"), "utf8");
    const body = JSON.stringify({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: {
        uid: "inflight",
        kind: { group: "", version: "v1", kind: "Pod" },
        resource: { group: "", version: "v1", resource: "pods" },
        operation: "DELETE",
        userInfo: {},
        oldObject: { apiVersion: "v1", kind: "Pod" },
      },
    });
    const socket = connect({ host: "127.0.0.1", port: port(), ca, servername: "localhost" });
    await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
    let answer = "";
    socket.on("data", (c: Buffer) => (answer += c.toString()));
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write(
      `POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 40)}`,
    );
    await new Promise((r) => setTimeout(r, 200));
    child.kill("SIGTERM");
    // Wait until the server has stopped listening, then complete the request.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const refused = await new Promise<boolean>((resolve) => {
        const probe = connect({ host: "127.0.0.1", port: port(), ca, servername: "localhost" });
        probe.once("secureConnect", () => {
          probe.destroy();
          resolve(false);
        });
        probe.once("error", () => resolve(true));
      });
      if (refused) break;
      assert.ok(Date.now() < deadline, "server kept accepting after SIGTERM");
      await new Promise((r) => setTimeout(r, 50));
    }
    socket.write(body.slice(40));
    await closed;
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
    const json = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
    assert.deepEqual(json.response, { uid: "inflight", allowed: true, status: { code: 200 } });
    assert.equal(await exited, 0);
    assert.match(stderr, /stopped after draining in-flight requests/);
  });

  it("rejects a bad flag value with exit code 2 and a clear message", async () => {
    const res = await runProcess(process.execPath, [BIN, "webhook", "--port", "http"], { cwd: dir });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--port must be a port number \(0-65535\), got "http"/);
  });
});
