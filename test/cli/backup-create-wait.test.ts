// `hookguard backup create --wait` as a real process against the API-server double: the test plays
// the agent by writing the Backup's status while the CLI waits.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { hookguard } from "./backup-create-spawn.js";

describe("hookguard backup create --wait", () => {
  let api: ApiServerHandle;
  let kube: string[];
  before(async () => {
    api = await startApiServer();
    kube = ["--kubeconfig", api.kubeconfigPath];
  });
  after(async () => {
    await api.stop();
  });
  const setStatus = (name: string, status: unknown): void =>
    api.setStatus("velero.io/v1", "Backup", "velero", name, status);

  it("shows phase, items and hooks as they change and exits 0 for Completed", async () => {
    let stage = 0;
    const r = await hookguard(
      ["backup", "create", "w1", ...kube, "--wait", "--poll-interval", "50ms"],
      (out) => {
        if (stage === 0 && out.includes("phase New")) {
          stage = 1;
          setStatus("w1", {
            phase: "InProgress",
            progress: { totalItems: 4, itemsBackedUp: 1 },
            hookStatus: { hooksAttempted: 1, hooksFailed: 0 },
          });
        } else if (stage === 1 && out.includes("items 1/4")) {
          stage = 2;
          setStatus("w1", {
            phase: "Completed",
            progress: { totalItems: 4, itemsBackedUp: 4 },
            hookStatus: { hooksAttempted: 2, hooksFailed: 0 },
          });
        }
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Waiting for backup to complete\./);
    assert.match(r.stdout, /phase InProgress, items 1\/4, hooks attempted 1, failed 0\n/);
    assert.match(r.stdout, /phase Completed, items 4\/4, hooks attempted 2, failed 0\n/);
    assert.match(r.stdout, /Backup completed with status: Completed\./);
  });

  it("exits 1 for PartiallyFailed, and 1 with a clear message when --wait-timeout passes", async () => {
    let set = false;
    const f = await hookguard(
      ["backup", "create", "w2", ...kube, "--wait", "--poll-interval", "50ms"],
      (out) => {
        if (!set && out.includes("phase New")) {
          set = true;
          setStatus("w2", {
            phase: "PartiallyFailed",
            errors: 1,
            hookStatus: { hooksAttempted: 2, hooksFailed: 1 },
          });
        }
      },
    );
    assert.equal(f.code, 1);
    assert.match(f.stdout, /phase PartiallyFailed, hooks attempted 2, failed 1, errors 1\n/);
    assert.match(f.stdout, /Backup completed with status: PartiallyFailed\./);

    const t = await hookguard([
      "backup",
      "create",
      "w3",
      ...kube,
      "--wait",
      "--wait-timeout",
      "1s",
      "--poll-interval",
      "100ms",
    ]);
    assert.equal(t.code, 1);
    assert.match(
      t.stderr,
      /Timed out after 1s waiting for backup w3 \(phase New\); it continues in the background\./,
    );
    assert.ok(api.getObject("velero.io/v1", "Backup", "velero", "w3"), "the backup stays");
  });
});
