// readHookReport / hookRecordsFromLog: one Velero-run Backup's hook records from its log.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { BackupObject } from "../../src/velero/types.js";
import { hookRecordsFromLog, readHookReport } from "../../src/agent/scope/velero-hooks.js";
import { FakeCompanionCluster } from "./fakes.js";
import { V114_TEXT, V115_TEXT } from "../velero-log/fixtures.js";

const backup = (name: string, phase: string): BackupObject => ({
  apiVersion: "velero.io/v1",
  kind: "Backup",
  metadata: { name, namespace: "velero", uid: `uid-${name}` },
  spec: { includedNamespaces: ["*"] },
  status: { phase },
});

describe("readHookReport", () => {
  it("asks for no log of a Backup that failed validation", async () => {
    const cluster = new FakeCompanionCluster();
    cluster.putBackup(backup("bad", "FailedValidation"));
    assert.deepEqual(await readHookReport(cluster, backup("bad", "FailedValidation")), {
      ok: true,
      value: { kind: "no-log", reason: "no backup log: the Backup failed validation" },
    });
    assert.equal(cluster.createdDownloadRequests.length, 0);
  });

  it("a missing log is a definitive answer, not a failure", async () => {
    const cluster = new FakeCompanionCluster();
    cluster.putBackup(backup("gone", "Failed"));
    const r = await readHookReport(cluster, backup("gone", "Failed"), { pollMs: 1 });
    assert.deepEqual(r, {
      ok: true,
      value: { kind: "no-log", reason: "backup gone has no BackupLog in object storage" },
    });
  });

  it("≤1.14 logs name their pods: the cluster's pods are not even listed", async () => {
    const cluster = new FakeCompanionCluster();
    let listed = 0;
    cluster.listPods = async () => {
      listed++;
      return { ok: true, value: [] };
    };
    const r = await hookRecordsFromLog(cluster, backup("db", "PartiallyFailed"), V114_TEXT);
    assert.equal(listed, 0);
    assert.deepEqual(
      r.records.map((x) => `${x.namespace}/${x.pod} ${x.attribution}`),
      ["db/mysql-0 log", "db/migrate-x7 log", "db/web-1 log"],
    );
  });

  it("1.15+ logs when the pods cannot be listed: records unattributed, and the reason given", async () => {
    const cluster = new FakeCompanionCluster();
    cluster.listPods = async () => ({
      ok: false,
      error: { code: 403, reason: "Forbidden", message: "pods is forbidden" },
    });
    const r = await hookRecordsFromLog(cluster, backup("b115", "PartiallyFailed"), V115_TEXT);
    assert.equal(r.scopeProblem, "listing pods: pods is forbidden");
    assert.deepEqual(
      r.records.map((x) => x.attribution),
      ["unattributed", "unattributed"],
    );
  });
});
