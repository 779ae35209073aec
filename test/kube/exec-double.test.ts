// createPodExecutor against the API-server double's exec (real WebSocket protocol, commands run
// confined in the container's root filesystem): exit codes, streams, the double's failure knobs.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { KubeConfig } from "@kubernetes/client-node";
import { createPodExecutor } from "../../src/kube/exec.js";
import type { ExecRequest, PodExecutor } from "../../src/agent/ports.js";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { waitFor } from "./helpers/https-server.js";

describe("createPodExecutor against the API-server double", () => {
  let api: ApiServerHandle;
  let executor: PodExecutor;

  before(async () => {
    api = await startApiServer({ namespaces: ["app"] });
    api.createObject({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "box", namespace: "app" },
      spec: { containers: [{ name: "main", image: "busybox:1.36" }] },
    });
    await waitFor(
      () => api.getObject("v1", "Pod", "app", "box")?.status?.phase === "Running",
      "pod Running",
      60_000,
    );
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    executor = createPodExecutor(kc);
  });
  after(async () => {
    await api.stop();
  });

  const req = (argv: string[], extra: Partial<ExecRequest> = {}): ExecRequest => ({
    namespace: "app",
    pod: "box",
    container: "main",
    argv,
    timeoutMs: 30_000,
    ...extra,
  });

  it("runs a command and returns its output and exit code 0", async () => {
    const r = await executor.exec(req(["echo", "hello", "$HOME"]));
    assert.equal(r.kind, "exited", JSON.stringify(r));
    assert.equal(r.kind === "exited" && r.exitCode, 0);
    assert.equal(r.stdout, "hello $HOME\n"); // no shell: the argument is passed as written
  });

  it("decodes non-zero exit codes and keeps stderr", async () => {
    const r = await executor.exec(req(["ls", "/does-not-exist"]));
    assert.equal(r.kind, "exited");
    assert.notEqual(r.kind === "exited" && r.exitCode, 0);
    assert.match(r.stderr, /does-not-exist/);
  });

  it("reports a missing program, a missing container and a missing pod as transport errors with the server's message", async () => {
    const prog = await executor.exec(req(["/no/such/program"]));
    assert.equal(prog.kind, "transport_error");
    assert.match(prog.kind === "transport_error" ? prog.message : "", /no such file or directory|not found/i);
    const ctr = await executor.exec(req(["true"], { container: "nope" }));
    assert.equal(ctr.kind, "transport_error");
    assert.match(ctr.kind === "transport_error" ? ctr.message : "", /nope/);
    const pod = await executor.exec(req(["true"], { pod: "ghost" }));
    assert.equal(pod.kind, "transport_error");
    assert.match(
      pod.kind === "transport_error" ? pod.message : "",
      /^exec upgrade rejected: HTTP 404: pods "ghost" not found/,
    );
  });

  it("times out a command that outlives its timeout", async () => {
    const r = await executor.exec(req(["sleep", "30"], { timeoutMs: 500 }));
    assert.equal(r.kind, "timed_out");
  });

  it("reports a dropped connection and a missing status as transport errors", async () => {
    api.setExecKnobs({ dropAfterBytes: 10 });
    try {
      const r = await executor.exec(req(["seq", "1", "100000"]));
      assert.equal(r.kind === "transport_error" && r.message, "connection closed before exit status");
    } finally {
      api.setExecKnobs({ dropAfterBytes: undefined });
    }
    api.setExecKnobs({ neverSendStatus: true });
    try {
      const r = await executor.exec(req(["true"], { timeoutMs: 1000 }));
      assert.equal(r.kind, "timed_out");
    } finally {
      api.setExecKnobs({ neverSendStatus: undefined });
    }
  });

  it("bounds a slow upgrade with the handshake timeout", async () => {
    api.setExecKnobs({ upgradeDelayMs: 5000 });
    try {
      const r = await executor.exec(req(["true"], { handshakeTimeoutMs: 300 }));
      assert.equal(r.kind === "transport_error" && r.message, "exec handshake timed out after 300ms");
    } finally {
      api.setExecKnobs({ upgradeDelayMs: undefined });
    }
  });
});
