// `npm run dev:cluster` as a person or script uses it: a KUBECONFIG=<path> line once ready, the real
// kubectl works with that file, and SIGTERM stops it cleanly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { isAbsolute } from "node:path";
import { Kubectl, spawnDevCluster } from "./helpers.js";

test("dev:cluster prints KUBECONFIG=<absolute path>, serves kubectl, and exits 0 on SIGTERM", async () => {
  const dev = spawnDevCluster([], 60_000);
  const child = dev.child;
  try {
    const path = await dev.kubeconfig;
    assert.ok(isAbsolute(path));
    const k = new Kubectl(path);
    try {
      const ns = await k.run(["get", "namespaces", "-o", "name"]);
      assert.equal(ns.code, 0, ns.stderr);
      assert.deepEqual(ns.stdout.trim().split("\n"), [
        "namespace/default",
        "namespace/kube-public",
        "namespace/kube-system",
        "namespace/velero",
      ]);
    } finally {
      k.cleanup();
    }
    child.kill("SIGTERM");
    assert.equal(await dev.exited, 0);
    assert.equal(existsSync(path), false, "the temporary kubeconfig is removed on exit");
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
