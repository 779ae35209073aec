// The shared TLS transport (src/kube/transport.ts), seen from the API server: REST calls ride one
// keep-alive connection instead of a TLS handshake each, exec upgrades resume the TLS session, and
// the server is still verified against the kubeconfig's CA.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { silentLogger } from "../../src/log.js";
import { createAgentCluster } from "../../src/kube/agent-cluster.js";
import { createPodExecutor } from "../../src/kube/exec.js";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { waitFor } from "./helpers/https-server.js";

const kubeConfigFor = (path: string): KubeConfig => {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
};

describe("shared TLS transport against the API-server double", () => {
  let api: ApiServerHandle;
  let other: ApiServerHandle;

  before(async () => {
    [api, other] = await Promise.all([
      startApiServer({ namespaces: ["app"] }),
      startApiServer({ namespaces: ["app"] }),
    ]);
    api.createObject({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web", namespace: "app" },
      spec: { containers: [{ name: "main", image: "busybox" }] },
    });
    await waitFor(
      () => api.getObject("v1", "Pod", "app", "web")?.status?.phase === "Running",
      "pod web Running",
    );
  });
  after(async () => {
    await Promise.all([api.stop(), other.stop()]);
  });

  it("sequential REST calls reuse one connection (no TLS handshake per call)", async () => {
    const cluster = createAgentCluster(kubeConfigFor(api.kubeconfigPath), silentLogger());
    const before = api.tlsConnections().connections;
    for (let i = 0; i < 20; i++) {
      const pod = await cluster.getPod("app", "web");
      assert.ok(pod.ok && pod.value?.metadata?.name === "web");
      assert.ok((await cluster.listPods("app")).ok);
    }
    const opened = api.tlsConnections().connections - before;
    // 40 calls; client-node alone opens 40 connections with a full handshake each
    assert.ok(opened >= 1 && opened <= 2, `40 sequential REST calls opened ${opened} TLS connections`);
  });

  it("exec connections after the first resume the TLS session instead of a full handshake", async () => {
    const executor = createPodExecutor(kubeConfigFor(api.kubeconfigPath));
    const before = api.tlsConnections();
    for (let i = 0; i < 6; i++) {
      const r = await executor.exec({
        namespace: "app",
        pod: "web",
        container: "main",
        argv: ["/bin/echo", `run ${i}`],
        timeoutMs: 30_000,
      });
      assert.equal(r.kind, "exited");
      assert.equal(r.kind === "exited" && r.exitCode, 0);
      assert.equal(r.stdout, `run ${i}\n`);
    }
    const after = api.tlsConnections();
    const opened = after.connections - before.connections;
    const resumed = after.resumed - before.resumed;
    assert.ok(opened <= 6, `6 execs opened ${opened} connections`);
    assert.ok(resumed >= opened - 1, `only ${resumed} of ${opened} exec connections resumed a TLS session`);
  });

  it("still refuses a server whose certificate the kubeconfig's CA did not sign", async () => {
    // the double's kubeconfig, with the CA of another double: same server, wrong trust anchor
    const path = join(api.dir, "kubeconfig-wrong-ca");
    const b64 = (pem: string) => Buffer.from(pem).toString("base64");
    writeFileSync(path, readFileSync(api.kubeconfigPath, "utf8").replace(b64(api.caPem), b64(other.caPem)));
    assert.ok(readFileSync(path, "utf8").includes(b64(other.caPem)), "test setup: CA replaced");
    const kc = kubeConfigFor(path);
    const cluster = createAgentCluster(kc, silentLogger(), { attempts: 1 });
    const r = await cluster.getPod("app", "web");
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error.message : "", /certificate|self.signed|unable to verify/i);
    const ex = await createPodExecutor(kc).exec({
      namespace: "app",
      pod: "web",
      container: "main",
      argv: ["/bin/true"],
      timeoutMs: 30_000,
    });
    assert.equal(ex.kind, "transport_error");
    // and the good kubeconfig in the same process still works (separate pool per CA)
    assert.ok(
      (await createAgentCluster(kubeConfigFor(api.kubeconfigPath), silentLogger()).getPod("app", "web")).ok,
    );
  });
});
