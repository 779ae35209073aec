// The real kubectl (kubectl on PATH; scripts/run-tests.mjs adds node_modules/.bin last) against the exec endpoint: its WebSocket executor offers
// only v5.channel.k8s.io, and it must print what it prints against a real cluster.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readContainerFile } from "../apiserver/exec/index.js";
import { runningPod, startExecHarness, type ExecHarness } from "../apiserver/exec/test-harness.js";
import { runProcess, type ProcessResult } from "../helpers/process.js";

let h: ExecHarness;
let home: string;

function kubectl(args: string[], stdin?: string): Promise<ProcessResult> {
  return runProcess(
    "kubectl",
    ["--kubeconfig", h.kubeconfigPath, "--cache-dir", join(home, "cache"), ...args],
    {
      env: { HOME: home, PATH: "/usr/bin:/bin" },
      input: stdin ?? "",
      timeoutMs: 60_000,
    },
  );
}

before(async () => {
  h = await startExecHarness();
  home = mkdtempSync(join(tmpdir(), "exec-kubectl-home-"));
  h.pods.set(
    "default/nginx",
    runningPod("nginx", [
      { name: "nginx", image: "nginx" },
      { name: "fsfreeze", image: "ubuntu:24.04" },
    ]),
  );
});

after(async () => {
  await h.stop();
  rmSync(home, { recursive: true, force: true });
});

describe("kubectl exec against the double", () => {
  it("runs `kubectl exec POD -c C -- echo hi` over the v5 WebSocket", async () => {
    const r = await kubectl(["exec", "nginx", "-c", "nginx", "--", "echo", "hi"]);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "hi\n");
    assert.equal(r.code, 0);
    assert.ok(
      h.seen.some((s) => s.startsWith("UPGRADE GET /api/v1/namespaces/default/pods/nginx/exec?")),
      "kubectl used the WebSocket (GET) executor",
    );
  });

  it("reports a non-zero exit code the way kubectl does against a real cluster", async () => {
    const r = await kubectl(["exec", "nginx", "-c", "nginx", "--", "sh", "-c", "echo before; exit 3"]);
    assert.equal(r.stdout, "before\n");
    assert.equal(r.stderr, "command terminated with exit code 3\n");
    assert.equal(r.code, 3);
  });

  it("runs a hook-style fsfreeze in the named container and it is recorded there", async () => {
    const r = await kubectl([
      "exec",
      "nginx",
      "-c",
      "fsfreeze",
      "--",
      "/sbin/fsfreeze",
      "--freeze",
      "/var/log/nginx",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const uid = h.pods.get("default/nginx").metadata.uid;
    assert.match(
      (await readContainerFile(h.stateDir, uid, "fsfreeze", "/var/lib/fsfreeze-standin/log")) ?? "",
      /^1 \d+ freeze \/var\/log\/nginx\n$/,
    );
    const again = await kubectl([
      "exec",
      "nginx",
      "-c",
      "fsfreeze",
      "--",
      "/sbin/fsfreeze",
      "--freeze",
      "/var/log/nginx",
    ]);
    assert.equal(again.code, 1);
    assert.equal(
      again.stderr,
      "fsfreeze: /var/log/nginx: freeze failed: Device or resource busy\ncommand terminated with exit code 1\n",
    );
  });

  it("pipes stdin with -i (v5 closes stdin without closing the connection)", async () => {
    const r = await kubectl(["exec", "-i", "nginx", "-c", "nginx", "--", "cat"], "from stdin\n");
    assert.equal(r.stdout, "from stdin\n");
    assert.equal(r.code, 0, r.stderr);
  });

  it("prints the server's errors for a missing container and a missing program", async () => {
    const missing = await kubectl(["exec", "nginx", "-c", "nope", "--", "true"]);
    assert.equal(missing.code, 1);
    // The WebSocket upgrade gets a 400, kubectl falls back to SPDY, gets the same Status, prints it.
    assert.equal(
      missing.stderr,
      "Error from server (BadRequest): container nope is not valid for pod nginx\n",
    );
    const noProgram = await kubectl(["exec", "nginx", "-c", "nginx", "--", "nosuch"]);
    assert.equal(noProgram.code, 1);
    assert.match(
      noProgram.stderr,
      /^error: Internal error occurred: Internal error occurred: error executing command in container: .*exec: "nosuch": executable file not found in \$PATH: unknown\n$/,
    );
  });
});
