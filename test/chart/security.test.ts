// The hardened pod and container settings, for every value set: a toggle must never weaken them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { renderChart } from "./render.js";
import { valueCases } from "./cases.js";

function podSpecs(docs: any[]): Array<{ name: string; spec: any }> {
  return docs
    .filter((d) => d.kind === "Deployment")
    .map((d) => ({ name: d.metadata.name, spec: d.spec.template.spec }));
}

for (const [name, values] of Object.entries(valueCases)) {
  test(`pods run hardened with ${name} values`, async () => {
    const docs = await renderChart(values);
    const pods = podSpecs(docs);
    const agentOn = (values as { agent?: { enabled?: boolean } }).agent?.enabled !== false;
    assert.equal(
      pods.length,
      agentOn ? 2 : 1,
      "one webhook and (unless agent.enabled=false) one agent Deployment",
    );
    // the helm test Pod runs as hardened as the components
    pods.push(...docs.filter((d) => d.kind === "Pod").map((d) => ({ name: d.metadata.name, spec: d.spec })));
    for (const { name: dep, spec } of pods) {
      const psc = spec.securityContext;
      assert.equal(psc.runAsNonRoot, true, `${dep}: runAsNonRoot`);
      assert.equal(psc.runAsUser, 65532, `${dep}: fixed UID`);
      assert.equal(psc.runAsGroup, 65532, `${dep}: fixed GID`);
      assert.deepEqual(psc.seccompProfile, { type: "RuntimeDefault" }, `${dep}: seccomp`);
      // the node's network only for the webhook, and only when asked (webhook.hostNetwork); never PID/IPC
      const hostNetworkAsked =
        dep === "hookguard-webhook" &&
        (values as { webhook?: { hostNetwork?: boolean } }).webhook?.hostNetwork === true;
      assert.ok(
        !spec.hostPID && !spec.hostIPC && Boolean(spec.hostNetwork) === hostNetworkAsked,
        `${dep}: host namespaces`,
      );
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        const sc = c.securityContext;
        const where = `${dep}/${c.name}`;
        assert.equal(sc.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
        assert.equal(sc.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation`);
        assert.equal(sc.privileged, false, `${where}: privileged`);
        assert.equal(sc.runAsNonRoot, true, `${where}: runAsNonRoot`);
        assert.equal(sc.runAsUser, 65532, `${where}: runAsUser`);
        assert.deepEqual(sc.capabilities, { drop: ["ALL"] }, `${where}: capabilities`);
        assert.deepEqual(sc.seccompProfile, { type: "RuntimeDefault" }, `${where}: seccomp`);
        for (const kind of ["requests", "limits"]) {
          assert.ok(
            c.resources?.[kind]?.cpu !== undefined && c.resources?.[kind]?.memory !== undefined,
            `${where}: resources.${kind}`,
          );
        }
        assert.doesNotMatch(c.image, /:latest$/, `${where}: image tag`);
        assert.match(
          c.image,
          /^ghcr\.io\/hookguard\/hookguard(:0\.1\.0|@sha256:[a-f0-9]{64})$/,
          `${where}: image`,
        );
        // a read-only root needs a writable /tmp
        const tmp = c.volumeMounts.find((m: any) => m.mountPath === "/tmp");
        assert.ok(tmp, `${where}: /tmp mount`);
        assert.ok(
          spec.volumes.find((v: any) => v.name === tmp.name)?.emptyDir,
          `${where}: /tmp is an emptyDir`,
        );
        assert.equal(
          c.command,
          undefined,
          `${where}: the image's entrypoint (node /app/bin/hookguard.js) is used`,
        );
      }
    }
  });
}

test("a digest pins the image and wins over the tag", async () => {
  const docs = await renderChart({ image: { tag: "0.2.0", digest: "sha256:" + "b".repeat(64) } });
  for (const { spec } of podSpecs(docs))
    assert.equal(spec.containers[0].image, "ghcr.io/hookguard/hookguard@sha256:" + "b".repeat(64));
});
