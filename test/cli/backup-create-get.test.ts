// `hookguard backup get` as a real process against the API-server double: Velero's table layout,
// -o json|yaml, and a missing name.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { backupRow, formatTable, shortHumanDuration } from "../../src/cli/backup.js";
import { hookguard } from "./backup-create-spawn.js";

describe("backup table formatting", () => {
  it("formats rows like velero (status New when unset, Deleting, expiry, selector)", () => {
    const now = new Date("2026-03-02T00:00:00Z");
    const row = backupRow(
      {
        apiVersion: "velero.io/v1",
        kind: "Backup",
        metadata: { name: "a", namespace: "velero", creationTimestamp: "2026-03-01T00:00:00Z" },
        spec: {
          ttl: "72h0m0s",
          storageLocation: "default",
          labelSelector: {
            matchLabels: { b: "2", a: "1" },
            matchExpressions: [{ key: "t", operator: "In", values: ["y", "x"] }],
          },
        },
      },
      now,
    );
    assert.deepEqual(row, [
      "a",
      "New",
      "0",
      "0",
      "<nil>",
      "2d",
      "default",
      "a=1,b=2,t in (x,y)",
      "<nil>",
      "-",
      "-",
      "velero",
    ]);
    const gone = backupRow(
      {
        apiVersion: "velero.io/v1",
        kind: "Backup",
        metadata: {
          name: "b",
          namespace: "velero",
          deletionTimestamp: "2026-03-01T00:00:00Z",
          annotations: { "hookguard.io/owner": "agent-0" },
        } as never,
        spec: {},
        status: {
          phase: "Completed",
          expiration: "2026-03-01T12:00:00Z",
          startTimestamp: "2026-02-01T10:00:00Z",
          completionTimestamp: "2026-02-01T10:01:30Z",
          hookStatus: { hooksAttempted: 2 },
        },
      },
      now,
    );
    assert.deepEqual(gone, [
      "b",
      "Deleting",
      "0",
      "0",
      "2026-02-01 10:00:00 +0000 UTC",
      "12h ago",
      "",
      "<none>",
      "2026-02-01 10:01:30 +0000 UTC",
      "2",
      "0",
      "hookguard",
    ]);
    assert.deepEqual(
      [shortHumanDuration(59_000), shortHumanDuration(61 * 60_000), shortHumanDuration(400 * 86_400_000)],
      ["59s", "1h", "1y"],
    );
    assert.equal(formatTable(["NAME", "X"], [["long-name", "v"]]), "NAME        X\nlong-name   v\n");
  });
});

describe("hookguard backup get (process)", () => {
  let api: ApiServerHandle;
  let kube: string[];
  before(async () => {
    api = await startApiServer();
    kube = ["--kubeconfig", api.kubeconfigPath];
    api.createObject({
      apiVersion: "velero.io/v1",
      kind: "Backup",
      metadata: { name: "nightly-1", namespace: "velero" },
      spec: { ttl: "24h0m0s", labelSelector: { matchLabels: { app: "db" } } },
    });
    api.createObject({
      apiVersion: "velero.io/v1",
      kind: "Backup",
      metadata: { name: "plain", namespace: "velero" },
      spec: { ttl: "720h0m0s" },
    });
    api.setStatus("velero.io/v1", "Backup", "velero", "nightly-1", {
      phase: "PartiallyFailed",
      errors: 1,
      warnings: 2,
      startTimestamp: "2026-03-01T01:00:00Z",
    });
  });
  after(async () => {
    await api.stop();
  });

  it("prints Velero's columns, aligned", async () => {
    const r = await hookguard(["backup", "get", ...kube]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(
      lines[0]!,
      /^NAME\s{3,}STATUS\s{3,}ERRORS\s{3,}WARNINGS\s{3,}CREATED\s{3,}EXPIRES\s{3,}STORAGE LOCATION\s{3,}SELECTOR\s{3,}COMPLETED\s{3,}HOOKS ATTEMPTED\s{3,}HOOKS FAILED\s{3,}RUN BY$/,
    );
    assert.equal(lines.length, 3);
    const row = lines.find((l) => l.startsWith("nightly-1 "))!;
    assert.match(
      row,
      /^nightly-1\s+PartiallyFailed\s+1\s+2\s+2026-03-01 01:00:00 \+0000 UTC\s+23h\s+app=db\s+<nil>\s+-\s+-\s+velero$/,
    );
    assert.equal(row.indexOf("PartiallyFailed"), lines[0]!.indexOf("STATUS"));
    assert.equal(row.indexOf("2026-03-01"), lines[0]!.indexOf("CREATED"));
    assert.match(
      lines.find((l) => l.startsWith("plain "))!,
      /^plain\s+New\s+0\s+0\s+<nil>\s+29d\s+<none>\s+<nil>\s+-\s+-\s+velero$/,
    );
  });

  it("prints one Backup as JSON, the list as YAML, and fails clearly for a missing name", async () => {
    const json = await hookguard(["backup", "get", "nightly-1", ...kube, "-o", "json"]);
    assert.equal(json.code, 0, json.stderr);
    const obj = JSON.parse(json.stdout);
    assert.deepEqual([obj.kind, obj.metadata.name, obj.status.warnings], ["Backup", "nightly-1", 2]);
    const yaml = await hookguard(["backup", "get", ...kube, "-o", "yaml"]);
    assert.match(yaml.stdout, /^apiVersion: v1\nkind: List\nitems:\n/);
    assert.match(yaml.stdout, /name: plain/);
    const missing = await hookguard(["backup", "get", "nope", ...kube]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /backups\.velero\.io "nope" not found/);
  });
});
