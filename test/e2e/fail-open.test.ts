// webhook.failOpen=true through the API-server double: while the webhook runs nothing changes (a bad
// hook is refused); once it is down every entry fails open, and the trade-off shows: a Deployment and
// a Backup with bad hooks are admitted unchecked.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { deploymentYaml, startE2e, type E2e } from "./harness.js";

const BAD = {
  "pre.hook.backup.velero.io/command": '["/bin/sync"]',
  "pre.hook.backup.velero.io/on-error": "continue",
};
let e: E2e;

before(async () => {
  e = await startE2e({ chartValues: { webhook: { failOpen: true } } });
});

after(async () => {
  await e?.stop();
});

test("failOpen: bad hooks are refused while the webhook is up and admitted unchecked while it is down", async () => {
  const up = await e.run("apply", "-f", e.manifest("up.yaml", deploymentYaml("up", BAD)));
  assert.notEqual(up.code, 0);
  assert.match(up.stderr, /admission webhook "workloads\.validate\.hookguard\.io" denied the request/);

  await e.webhook.stop();
  const down = await e.run("apply", "-f", e.manifest("down.yaml", deploymentYaml("down", BAD)));
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /deployment\.apps\/down created/);
  const backup = stringify({
    apiVersion: "velero.io/v1",
    kind: "Backup",
    metadata: { name: "nightly", namespace: "velero" },
    spec: {
      hooks: {
        resources: [
          {
            name: "freeze",
            pre: [{ exec: { container: "app", command: ["/bin/sync"], onError: "continue" } }],
          },
        ],
      },
    },
  });
  const b = await e.run("apply", "-f", e.manifest("backup.yaml", backup));
  assert.equal(b.code, 0, b.stderr);
});
