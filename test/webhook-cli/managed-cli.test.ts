// `hookguard webhook --manage-certs` with a kubeconfig, against the fake API server: the Secret is
// created, both webhook configurations get the caBundle, the server presents the stored certificate,
// and the exec-permission check is on (SubjectAccessReview asked over the same kubeconfig).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent } from "node:https";
import { connect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeApi, webhookConfig, type FakeApi } from "../admission/fake-apiserver.js";
import { pod, post, review } from "../admission/helpers.js";

const BIN = fileURLToPath(new URL("../../bin/hookguard.js", import.meta.url));
const unb64 = (s: string) => Buffer.from(s, "base64").toString("utf8");

describe("hookguard webhook --manage-certs", () => {
  let api: FakeApi;
  let dir: string;
  let child: ChildProcess;
  let stdout = "";
  let stderr = "";

  before(async () => {
    api = await startFakeApi();
    api.configs.set(
      "hookguard-validate",
      webhookConfig("validating", "hookguard-validate", ["validate.hookguard.io"]),
    );
    api.configs.set(
      "hookguard-mutate",
      webhookConfig("mutating", "hookguard-mutate", ["mutate.hookguard.io"]),
    );
    api.decide = (spec) => spec.user === "ops";
    dir = mkdtempSync(join(tmpdir(), "hookguard-managed-cli-"));
    writeFileSync(join(dir, "kubeconfig"), api.kc.exportConfig());
    child = spawn(
      process.execPath,
      [
        BIN,
        "webhook",
        "--manage-certs",
        "--secret",
        "hookguard-certs",
        "--secret-namespace",
        "hookguard",
        "--webhook-config",
        "hookguard-validate",
        "--webhook-config",
        "hookguard-mutate",
        "--dns-name",
        "hookguard.hookguard.svc",
        "--kubeconfig",
        join(dir, "kubeconfig"),
        "--cert-dir",
        join(dir, "certs"),
        "--port",
        "0",
        "--metrics-port",
        "0",
        "--host",
        "127.0.0.1",
      ],
      { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const deadline = Date.now() + 60_000;
    while (!/\nEOF\n/.test(stdout)) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`webhook did not start:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.on("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const port = () => Number(/https:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)![1]);

  it("stores the certificates, patches both caBundles and serves the stored pair", async () => {
    const secret = api.secrets.get("hookguard-certs");
    assert.ok(secret, "Secret created");
    const ca = unb64(secret.data["ca.crt"]!);
    const tlsCrt = unb64(secret.data["tls.crt"]!);
    for (const name of ["hookguard-validate", "hookguard-mutate"]) {
      assert.equal(api.configs.get(name)!.obj.webhooks[0].clientConfig.caBundle, secret.data["ca.crt"]);
    }
    const serial = await new Promise<string>((resolve, reject) => {
      const s = connect(
        { host: "127.0.0.1", port: port(), ca, servername: "hookguard.hookguard.svc" },
        () => {
          resolve(s.getPeerCertificate().serialNumber.toUpperCase());
          s.destroy();
        },
      );
      s.once("error", reject);
    });
    assert.equal(serial, new X509Certificate(tlsCrt).serialNumber.toUpperCase());
    assert.match(stderr, /exec-permission check is on/);
    // the startup log names the cluster the SubjectAccessReviews go to
    const server = api.kc.getCurrentCluster()!.server;
    assert.ok(
      stderr.includes(`SubjectAccessReviews go to ${server} (context \\"${api.kc.getCurrentContext()}\\")`),
      stderr,
    );
  });

  it("makes the ValidatingWebhookConfiguration the Secret's owner, so uninstalling it removes the Secret", () => {
    // the garbage collector deletes a dependent whose owner (matched by uid) is gone
    assert.deepEqual(api.secrets.get("hookguard-certs")!.ownerReferences, [
      {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingWebhookConfiguration",
        name: "hookguard-validate",
        uid: api.configs.get("hookguard-validate")!.obj.metadata.uid,
      },
    ]);
  });

  it("asks the API server whether the user may exec before accepting a hook", async () => {
    const ca = unb64(api.secrets.get("hookguard-certs")!.data["ca.crt"]!);
    const agent = new Agent({ keepAlive: false, ca });
    const object = pod({ "pre.hook.backup.velero.io/command": '["/usr/bin/sync"]' });
    const denied = await post({
      port: port(),
      agent,
      path: "/validate",
      body: review({
        kind: "Pod",
        operation: "CREATE",
        object,
        user: { username: "dev", groups: ["system:authenticated"] },
      }),
    });
    assert.equal(denied.json.response.allowed, false);
    assert.match(
      denied.json.response.status.message,
      /^user "dev" may not create pods\/exec in namespace "shop"/,
    );
    const ok = await post({
      port: port(),
      agent,
      path: "/validate",
      body: review({ kind: "Pod", operation: "CREATE", object, user: { username: "ops" } }),
    });
    assert.equal(ok.json.response.allowed, true);
    assert.deepEqual(
      api.sar.map((s) => [s.user, s.resourceAttributes?.namespace, s.resourceAttributes?.subresource]),
      [
        ["dev", "shop", "exec"],
        ["ops", "shop", "exec"],
      ],
    );
  });
});
