// `npm run dev:cluster -- --with-velero` as a person uses it: the sandbox and the Velero-server double
// together, kubectl sees Velero's Deployment and BSL, flags after --with-velero reach the double,
// and SIGTERM stops both.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Kubectl, spawnDevCluster } from "../apiserver-double/helpers.js";

test("dev:cluster --with-velero starts the Velero double against the sandbox and stops it on SIGTERM", async () => {
  const dev = spawnDevCluster(["--with-velero", "--version", "1.14"]);
  const child = dev.child;
  try {
    const path = await dev.kubeconfig;
    assert.match(
      dev.stdout(),
      /Velero-server double \(a stand-in that moves no real data\) running; its log: /,
    );
    const k = new Kubectl(path);
    try {
      const got = await k.run([
        "get",
        "deployments,backupstoragelocations.velero.io",
        "-n",
        "velero",
        "-o",
        "name",
      ]);
      assert.equal(got.code, 0, got.stderr);
      assert.deepEqual(got.stdout.trim().split("\n"), [
        "deployment.apps/velero",
        "backupstoragelocation.velero.io/default",
      ]);
      const ssr = await k.run(
        ["create", "-f", "-"],
        JSON.stringify({
          apiVersion: "velero.io/v1",
          kind: "ServerStatusRequest",
          metadata: { name: "probe", namespace: "velero" },
          spec: {},
        }),
      );
      assert.equal(ssr.code, 0, ssr.stderr);
      let version = "";
      for (let i = 0; i < 100 && version === ""; i++) {
        version = (
          await k.run([
            "get",
            "serverstatusrequests.velero.io",
            "probe",
            "-n",
            "velero",
            "-o",
            "jsonpath={.status.serverVersion}",
          ])
        ).stdout;
        if (version === "") await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(version, "v1.14.1", "--version after --with-velero reached the double");
    } finally {
      k.cleanup();
    }
    child.kill("SIGTERM");
    assert.equal(await dev.exited, 0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
