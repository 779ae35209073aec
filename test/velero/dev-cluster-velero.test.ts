// `npm run dev:cluster -- --with-velero` as a person uses it: the sandbox and the Velero-server double
// together, kubectl sees Velero's Deployment and BSL, flags after --with-velero reach the double,
// and SIGTERM stops both.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { Kubectl } from "../apiserver-double/helpers.js";
import { ROOT } from "../agent/double.js";

test("dev:cluster --with-velero starts the Velero double against the sandbox and stops it on SIGTERM", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", "test/apiserver/dev-cluster.ts", "--with-velero", "--version", "1.14"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    const path = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no KUBECONFIG line within 90 s; stderr: ${err}`)), 90_000);
      child.stdout.on("data", (d) => {
        out += d;
        const m = /^KUBECONFIG=(.+)$/m.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on("exit", () => reject(new Error(`exited early: ${err}`)));
    });
    assert.match(out, /Velero-server double \(a stand-in that moves no real data\) running; its log: /);
    const k = new Kubectl(path);
    try {
      const got = await k.run(["get", "deployments,backupstoragelocations.velero.io", "-n", "velero", "-o", "name"]);
      assert.equal(got.code, 0, got.stderr);
      assert.deepEqual(got.stdout.trim().split("\n"), ["deployment.apps/velero", "backupstoragelocation.velero.io/default"]);
      const ssr = await k.run(["create", "-f", "-"], JSON.stringify({ apiVersion: "velero.io/v1", kind: "ServerStatusRequest", metadata: { name: "probe", namespace: "velero" }, spec: {} }));
      assert.equal(ssr.code, 0, ssr.stderr);
      let version = "";
      for (let i = 0; i < 100 && version === ""; i++) {
        version = (await k.run(["get", "serverstatusrequests.velero.io", "probe", "-n", "velero", "-o", "jsonpath={.status.serverVersion}"])).stdout;
        if (version === "") await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(version, "v1.14.1", "--version after --with-velero reached the double");
    } finally {
      k.cleanup();
    }
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
