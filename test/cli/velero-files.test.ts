// The messages of `hookguard backup describe|logs` for Velero-run Backups that the process tests do not
// reach: a Backup whose log Velero has not written (yet), a missing DownloadRequest kind, and how
// velero's results buckets are listed.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { downloadFailureMessage, noLogReason, timeoutMs } from "../../src/cli/velero-files.js";
import { resultLines } from "../../src/cli/describe-velero.js";
import type { BackupObject } from "../../src/velero/types.js";

const backup = (phase?: string): BackupObject => ({
  apiVersion: "velero.io/v1",
  kind: "Backup",
  metadata: { name: "b1", namespace: "velero" },
  spec: {},
  ...(phase ? { status: { phase } } : {}),
});

describe("Velero-run Backup files", () => {
  it("says why there is no log before Velero uploads it, and for a Backup that failed validation", () => {
    assert.equal(noLogReason(backup()), "backup b1 is New: Velero uploads its log when it leaves InProgress");
    assert.equal(
      noLogReason(backup("InProgress")),
      "backup b1 is InProgress: Velero uploads its log when it leaves InProgress",
    );
    assert.equal(
      noLogReason(backup("FailedValidation")),
      "backup b1 failed validation: Velero wrote no log for it",
    );
    for (const p of ["Completed", "PartiallyFailed", "Failed", "Finalizing", "WaitingForPluginOperations"])
      assert.equal(noLogReason(backup(p)), undefined, p);
  });

  it("names the missing CRD and keeps other failures' own text", () => {
    assert.match(
      downloadFailureMessage(
        { kind: "api", code: 404, verb: "create", message: "creating DownloadRequest velero/x: not found" },
        "velero",
      ),
      /is Velero installed\? the DownloadRequest kind \(downloadrequests\.velero\.io\) is not served in namespace velero/,
    );
    assert.equal(
      downloadFailureMessage(
        { kind: "not_found", message: "backup b1 has no BackupLog in object storage" },
        "velero",
      ),
      "backup b1 has no BackupLog in object storage",
    );
  });

  it("lists velero's result buckets one message a line", () => {
    assert.deepEqual(
      resultLines({
        velero: [" message: /Error executing hook error: /command terminated with exit code 3"],
        cluster: ["c1"],
        namespaces: { zz: ["z1"], db: ["d1", "d2"] },
      }),
      [
        "Velero: message: /Error executing hook error: /command terminated with exit code 3",
        "Cluster: c1",
        "Namespace db: d1",
        "Namespace db: d2",
        "Namespace zz: z1",
      ],
    );
    assert.deepEqual(resultLines(undefined), []);
  });

  it("validates --timeout like a Go duration", () => {
    assert.equal(timeoutMs("1m"), 60_000);
    assert.throws(() => timeoutMs("0s"), /--timeout must be positive/);
    assert.throws(() => timeoutMs("5"), /--timeout: time: missing unit in duration "5"/);
  });
});
