// `hookguard probe` (what the chart's `helm test` runs) against a real `hookguard webhook` started as
// `npm start` starts it (no --host: loopback only), and against an HTTPS server that allows everything.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { networkInterfaces, tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { runProcess } from "../helpers/process.js";
import {
  HOOKGUARD_BIN as BIN,
  startWebhookProcess,
  type WebhookProcess,
} from "../helpers/webhook-process.js";

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
  let webhook: WebhookProcess;
  let permissive: Server;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookguard-probe-"));
    // the npm start flags, minus the fixed ports
    webhook = await startWebhookProcess(["--cert-dir", "certs", "--port", "0", "--metrics-port", "0"], {
      cwd: dir,
      env: { ...process.env, KUBECONFIG: "" },
    });
    const certs = join(dir, "certs");
    permissive = createServer(
      { cert: readFileSync(join(certs, "tls.crt")), key: readFileSync(join(certs, "tls.key")) },
      (req, res) => {
        let body = "";
        req.on("data", (c: Buffer) => (body += c.toString()));
        req.on("end", () => {
          const uid = (JSON.parse(body) as { request: { uid: string } }).request.uid;
          res.writeHead(200, { "content-type": "application/json" }).end(
            JSON.stringify({
              apiVersion: "admission.k8s.io/v1",
              kind: "AdmissionReview",
              response: { uid, allowed: true },
            }),
          );
        });
      },
    );
    await new Promise<void>((r) => permissive.listen(0, "127.0.0.1", r));
  });
  after(async () => {
    if (webhook.child.exitCode === null) webhook.child.kill("SIGKILL");
    permissive.closeAllConnections();
    await new Promise((r) => permissive.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const port = () => Number(/https:\/\/127\.0\.0\.1:(\d+)/.exec(webhook.stdout())?.[1]);
  const probe = (url: string, ...extra: string[]) =>
    runProcess(
      process.execPath,
      [BIN, "probe", "--url", url, "--ca-file", join(dir, "certs/ca.crt"), ...extra],
      { timeoutMs: 60_000 },
    );

  it("binds 127.0.0.1 unless --host says otherwise", async () => {
    assert.ok(port() > 0, `startup text names https://127.0.0.1:PORT:\n${webhook.stdout()}`);
    assert.equal(await accepts("127.0.0.1", port()), true);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === "IPv4" && !i.internal);
    if (external)
      assert.equal(await accepts(external.address, port()), false, `not reachable on ${external.address}`);
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
      const other = await startWebhookProcess(
        ["--cert-dir", join(generated, "c"), "--port", "0", "--metrics-port", "0"],
        { env: { ...process.env, KUBECONFIG: "" } },
      );
      other.child.kill("SIGKILL");
      const wrong = await runProcess(
        process.execPath,
        [BIN, "probe", "--url", `https://localhost:${port()}`, "--ca-file", join(generated, "c/ca.crt")],
        { timeoutMs: 60_000 },
      );
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
