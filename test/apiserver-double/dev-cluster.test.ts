// `npm run dev:cluster` as a person or script uses it: a KUBECONFIG=<path> line once ready, the real
// kubectl works with that file, and SIGTERM stops it cleanly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { isAbsolute } from "node:path";
import { Kubectl } from "./helpers.js";

test("dev:cluster prints KUBECONFIG=<absolute path>, serves kubectl, and exits 0 on SIGTERM", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", "test/apiserver/dev-cluster.ts"], { cwd: new URL("../..", import.meta.url).pathname, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    const path = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no KUBECONFIG line within 60 s; stderr: ${err}`)), 60_000);
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
    assert.ok(isAbsolute(path));
    const k = new Kubectl(path);
    try {
      const ns = await k.run(["get", "namespaces", "-o", "name"]);
      assert.equal(ns.code, 0, ns.stderr);
      assert.deepEqual(ns.stdout.trim().split("\n"), ["namespace/default", "namespace/kube-public", "namespace/kube-system", "namespace/velero"]);
    } finally {
      k.cleanup();
    }
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.equal(existsSync(path), false, "the temporary kubeconfig is removed on exit");
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
