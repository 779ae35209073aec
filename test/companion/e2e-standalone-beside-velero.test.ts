// `hookguard agent --mode standalone` started in the namespace of a running Velero server (the
// Velero-server double, a process of its own): it claims nothing, says why in an error log and an
// Event, and exposes hookguard_velero_server_detected 1; Velero alone runs the Backup.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { scrape } from "./metrics-scrape.js";
import { join } from "node:path";
import { waitFor } from "../agent/double.js";
import { spawnAgent, kill, type AgentProcess } from "../agent/spawn.js";
import { findByKind } from "../apiserver/resources.js";
import { Sandbox } from "../velero/harness.js";

const EVENTS = findByKind("v1", "Event")!;
const AGENT_USER = "system:serviceaccount:velero:hookguard-agent";
let sb: Sandbox;
let agent: AgentProcess;
let velero: ReturnType<Sandbox["velero"]>;

before(async () => {
  sb = await Sandbox.start();
  velero = sb.velero(["--version", "1.18"]);
  await velero.ready;
  const { kubeconfigPath } = sb.api.addUser(AGENT_USER, ["system:serviceaccounts"]);
  agent = spawnAgent([
    "--mode",
    "standalone",
    "--kubeconfig",
    kubeconfigPath,
    "--storage-dir",
    join(sb.api.dir, "hookguard-data"),
    "--no-leader-elect",
    "--metrics-port",
    "0",
    "--metrics-bind-address",
    "127.0.0.1",
  ]);
  await agent.ready;
});

after(async () => {
  if (agent) await kill(agent);
  await sb?.stop();
});

test("standalone beside the Velero double touches no Backup, and says why and what to do", async () => {
  // Velero is slow to claim (paused, its heartbeat still fresh): the agent sees the Backup New, as it
  // would whenever it is the quicker of the two, and must still leave it alone
  velero.child.kill("SIGSTOP");
  const r = await sb.kubectl.run(
    ["create", "-f", "-"],
    JSON.stringify({
      apiVersion: "velero.io/v1",
      kind: "Backup",
      metadata: { name: "nightly", namespace: "velero" },
      spec: { includedNamespaces: ["db"] },
    }),
  );
  assert.equal(r.code, 0, r.stderr);
  const event = await waitFor("the VeleroServerDetected Event", () =>
    sb.api.store
      .list(EVENTS)
      .find((e: any) => e.reason === "VeleroServerDetected" && e.involvedObject.name === "nightly"),
  );
  velero.child.kill("SIGCONT");
  const done = await waitFor(
    "Velero to finish the Backup",
    () =>
      ["Completed", "PartiallyFailed", "Failed"].includes(sb.backup("nightly")?.status?.phase)
        ? sb.backup("nightly")
        : undefined,
    90_000,
    100,
  );
  assert.equal(done.status.phase, "Completed");
  assert.match(event.message, /use --mode companion/);
  assert.match(
    agent.stderr(),
    /standalone mode claims no Backup in namespace velero: a Velero server works in this namespace .*Run the agent with --mode companion/,
  );
  // hookguard sent no write to a Backup, and left no mark on it
  const writes = sb.api.requestLog.filter(
    (x) => x.user === AGENT_USER && x.url.includes("/backups") && !["GET"].includes(x.method),
  );
  assert.deepEqual(writes, []);
  assert.ok(!Object.keys(done.metadata.annotations ?? {}).some((k) => k.startsWith("hookguard.io/")));
  const port = Number(/"port":(\d+)[^\n]*"metrics listening"/.exec(agent.stderr())?.[1]);
  assert.ok(port > 0, agent.stderr());
  assert.match(await scrape(port), /^hookguard_velero_server_detected 1$/m);
});
