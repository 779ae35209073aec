// End to end with the real kubectl: kubectl → the API-server double (real webhook configurations,
// service routing, caBundle verification, namespaceSelector, RBAC-like policy) → hookguard's real
// WebhookServer, whose exec-permission check asks the same double with a SubjectAccessReview.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { ExecAuthorizer } from "../../src/admission/authz.js";
import { WebhookMetrics } from "../../src/admission/metrics.js";
import { subjectAccessReviewer } from "../../src/kube/authz.js";
import { silentLogger } from "../../src/log.js";
import { WebhookServer } from "../../src/server/webhook-server.js";
import { ensureDevCerts } from "../../src/tls/cert-dir.js";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { runProcess, type ProcessResult } from "../helpers/process.js";

function kubectl(kubeconfig: string, home: string, args: string[]): Promise<ProcessResult> {
  return runProcess("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", join(home, "cache"), ...args], {
    env: { ...process.env, HOME: home },
  });
}

function podManifest(name: string, annotations: Record<string, string>): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "shop", annotations },
    spec: { containers: [{ name: "app", image: "example.com/app:1" }] },
  });
}

describe("kubectl → API server → hookguard webhook", () => {
  let api: ApiServerHandle;
  let server: WebhookServer;
  let home: string;
  let dev: string;
  let ops: string;
  const admin = () => api.kubeconfigPath;

  before(async () => {
    api = await startApiServer({ namespaces: ["shop"] });
    home = mkdtempSync(join(tmpdir(), "hookguard-e2e-"));
    const certDir = join(home, "certs");
    const made = ensureDevCerts(certDir, ["hookguard.hookguard.svc"]);
    assert.ok(made.ok);
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    const metrics = new WebhookMetrics({ defaultMetrics: false });
    server = new WebhookServer({
      host: "127.0.0.1",
      port: 0,
      certDir,
      metrics,
      log: silentLogger(),
      validate: {
        authorizer: new ExecAuthorizer(subjectAccessReviewer(kc)),
        onAuthz: (decision) => metrics.authz.inc({ decision }),
      },
      certPollMs: 0,
    });
    const { port } = await server.start();
    api.routeService("hookguard", "hookguard", 443, `https://127.0.0.1:${port}`);
    dev = api.addUser("dev", ["developers"]).kubeconfigPath;
    ops = api.addUser("ops", ["operators"]).kubeconfigPath;
    api.setPolicy([
      { groups: ["system:masters"], verbs: ["*"], resources: ["*"] },
      { users: ["dev", "ops"], verbs: ["*"], resources: ["pods", "namespaces"] },
      { users: ["ops"], verbs: ["create"], resources: ["pods/exec"], namespaces: ["shop"] },
    ]);
    const caBundle = Buffer.from(readFileSync(join(certDir, "ca.crt"))).toString("base64");
    const rules = [
      {
        apiGroups: [""],
        apiVersions: ["v1"],
        resources: ["pods"],
        operations: ["CREATE", "UPDATE"],
        scope: "Namespaced",
      },
    ];
    const common = {
      admissionReviewVersions: ["v1"],
      sideEffects: "None",
      failurePolicy: "Fail",
      timeoutSeconds: 10,
      rules,
    };
    const configs = [
      {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingWebhookConfiguration",
        metadata: { name: "hookguard" },
        webhooks: [
          {
            name: "validate.hookguard.io",
            clientConfig: {
              service: { namespace: "hookguard", name: "hookguard", path: "/validate" },
              caBundle,
            },
            ...common,
          },
        ],
      },
      {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "MutatingWebhookConfiguration",
        metadata: { name: "hookguard" },
        webhooks: [
          {
            name: "mutate.hookguard.io",
            clientConfig: {
              service: { namespace: "hookguard", name: "hookguard", path: "/mutate" },
              caBundle,
            },
            namespaceSelector: { matchLabels: { "hookguard.io/mutate": "enabled" } },
            reinvocationPolicy: "Never",
            ...common,
          },
        ],
      },
    ];
    for (const [i, c] of configs.entries()) {
      const file = join(home, `config-${i}.json`);
      writeFileSync(file, JSON.stringify(c));
      const r = await kubectl(admin(), home, ["create", "-f", file]);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => {
    await server.stop(1000);
    await api.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const create = async (kubeconfig: string, name: string, annotations: Record<string, string>) => {
    const file = join(home, `${name}.json`);
    writeFileSync(file, podManifest(name, annotations));
    return kubectl(kubeconfig, home, ["create", "-f", file]);
  };

  it("kubectl prints hookguard's denial for a bad hook value", async () => {
    const r = await create(ops, "bad", {
      "pre.hook.backup.velero.io/command": '["/usr/bin/sync"]',
      "pre.hook.backup.velero.io/on-error": "continue",
    });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /admission webhook "validate\.hookguard\.io" denied the request: metadata\.annotations\["pre\.hook\.backup\.velero\.io\/on-error"\]: on-error "continue" is not valid/,
    );
    assert.equal(api.getObject("v1", "Pod", "shop", "bad"), undefined);
  });

  it("refuses a hook from a user who may not exec, accepts it from one who may", async () => {
    const hook = {
      "pre.hook.backup.velero.io/container": "app",
      "pre.hook.backup.velero.io/command": '["/usr/bin/sync"]',
      "pre.hook.backup.velero.io/on-error": "Fail",
      "pre.hook.backup.velero.io/timeout": "30s",
    };
    const denied = await create(dev, "by-dev", hook);
    assert.equal(denied.code, 1);
    assert.match(
      denied.stderr,
      /denied the request: user "dev" may not create pods\/exec in namespace "shop"/,
    );
    const allowed = await create(ops, "by-ops", hook);
    assert.equal(allowed.code, 0, allowed.stderr);
    // The dev may still change unrelated fields of that pod (no hook added or changed).
    const label = await kubectl(dev, home, ["label", "pod", "-n", "shop", "by-ops", "team=payments"]);
    assert.equal(label.code, 0, label.stderr);
    // But not the hook itself (kubectl annotate sends an UPDATE).
    const annotate = await kubectl(dev, home, [
      "annotate",
      "--overwrite",
      "pod",
      "-n",
      "shop",
      "by-ops",
      'pre.hook.backup.velero.io/command=["/bin/rm","-rf","/data"]',
    ]);
    assert.equal(annotate.code, 1);
    assert.match(annotate.stderr, /may not create pods\/exec/);
  });

  it("mutates only in namespaces labelled hookguard.io/mutate=enabled", async () => {
    const plain = await create(ops, "plain", { "pre.hook.backup.velero.io/command": "sync" });
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(
      api.getObject<any>("v1", "Pod", "shop", "plain").metadata.annotations[
        "pre.hook.backup.velero.io/on-error"
      ],
      undefined,
    );
    const label = await kubectl(admin(), home, ["label", "namespace", "shop", "hookguard.io/mutate=enabled"]);
    assert.equal(label.code, 0, label.stderr);
    const mutated = await create(ops, "mutated", { "pre.hook.backup.velero.io/command": "sync" });
    assert.equal(mutated.code, 0, mutated.stderr);
    const annotations = api.getObject<any>("v1", "Pod", "shop", "mutated").metadata.annotations;
    assert.deepEqual(
      Object.fromEntries(Object.entries(annotations).filter(([k]) => k.startsWith("pre.hook."))),
      {
        "pre.hook.backup.velero.io/command": "sync", // present values are never replaced
        "pre.hook.backup.velero.io/container": "app",
        "pre.hook.backup.velero.io/on-error": "Fail",
        "pre.hook.backup.velero.io/timeout": "30s",
      },
    );
  });
});
