// `hookguard probe` (what the chart's `helm test` runs) against a real `hookguard webhook` started as
// `npm start` starts it (no --host: loopback only), and against an HTTPS server that allows everything.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { networkInterfaces, tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runProcess } from "../helpers/process.js";

const BIN = fileURLToPath(new URL("../../bin/hookguard.js", import.meta.url));

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

describe("hookguard probe", () => {
  let dir: string;
  let child: ChildProcess;
  let stdout = "";
  let stderr = "";
  let permissive: Server;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookguard-probe-"));
    // the npm start flags, minus the fixed ports
    child = spawn(process.execPath, [BIN, "webhook", "--cert-dir", "certs", "--port", "0", "--metrics-port", "0"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, KUBECONFIG: "" },
    });
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const deadline = Date.now() + 60_000;
    while (!/\nEOF\n/.test(stdout)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`webhook did not start:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const certs = join(dir, "certs");
    permissive = createServer({ cert: readFileSync(join(certs, "tls.crt")), key: readFileSync(join(certs, "tls.key")) }, (req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        const uid = (JSON.parse(body) as { request: { uid: string } }).request.uid;
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid, allowed: true } }));
      });
    });
    await new Promise<void>((r) => permissive.listen(0, "127.0.0.1", r));
  });
  after(async () => {
    if (child.exitCode === null) child.kill("SIGKILL");
    permissive.closeAllConnections();
    await new Promise((r) => permissive.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const port = () => Number(/https:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
  const probe = (url: string, ...extra: string[]) => runProcess(process.execPath, [BIN, "probe", "--url", url, "--ca-file", join(dir, "certs/ca.crt"), ...extra], { timeoutMs: 60_000 });

  it("binds 127.0.0.1 unless --host says otherwise", async () => {
    assert.ok(port() > 0, `startup text names https://127.0.0.1:PORT:\n${stdout}`);
    assert.equal(await accepts("127.0.0.1", port()), true);
    const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === "IPv4" && !i.internal);
    if (external) assert.equal(await accepts(external.address, port()), false, `not reachable on ${external.address}`);
  });

  it("passes against hookguard: the broken hook is denied, the pod without hooks allowed", async () => {
    const r = await probe(`https://localhost:${port()}`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok {3}broken hook denied: .*on-error "continue" is not valid/m);
    assert.match(r.stdout, /^ok {3}pod without hooks allowed$/m);
  });

  it("fails against a server that allows everything, and on an unverifiable certificate", async () => {
    const addr = permissive.address() as { port: number };
    const r = await probe(`https://localhost:${addr.port}`);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^FAIL broken hook allowed/m);

    const generated = mkdtempSync(join(tmpdir(), "hookguard-probe-ca-"));
    try {
      // a second webhook run generates an unrelated CA; trusting it must not reach the first one
      const other = spawn(process.execPath, [BIN, "webhook", "--cert-dir", join(generated, "c"), "--port", "0", "--metrics-port", "0"], { stdio: ["ignore", "pipe", "ignore"] });
      let out = "";
      other.stdout!.on("data", (c: Buffer) => (out += c.toString()));
      const deadline = Date.now() + 60_000;
      while (!/\nEOF\n/.test(out) && Date.now() < deadline && other.exitCode === null) await new Promise((res) => setTimeout(res, 50));
      other.kill("SIGKILL");
      const wrong = await runProcess(process.execPath, [BIN, "probe", "--url", `https://localhost:${port()}`, "--ca-file", join(generated, "c/ca.crt")], { timeoutMs: 60_000 });
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stderr, /certificate/i);
    } finally {
      rmSync(generated, { recursive: true, force: true });
    }
  });

  it("refuses a non-https URL with a clear error", async () => {
    const r = await probe("http://localhost:1");
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--url must be https/);
  });
});
