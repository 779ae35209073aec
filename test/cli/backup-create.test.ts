// `hookguard backup create`: the Backup built from the flags (in-process, every validation case),
// then the real CLI process against the API-server double.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { backupFromFlags } from "../../src/cli/backup.js";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { hookguard } from "./backup-create-spawn.js";

const defaults = { namespace: "velero", waitTimeout: "1h", pollInterval: "1s" };
/** What velero's client also sends for the flags left unset (Go's JSON of zero durations and empty structs). */
const VELERO_ZEROES = { metadata: {}, hooks: {}, csiSnapshotTimeout: "0s", itemOperationTimeout: "0s" };

describe("backupFromFlags", () => {
  it("maps velero's flags onto the Backup spec", () => {
    const b = backupFromFlags("nightly-1", {
      ...defaults,
      includeNamespaces: "app, db",
      excludeNamespaces: "kube-system",
      includeResources: "pods,persistentvolumeclaims",
      excludeResources: "secrets",
      selector: "app=db,tier!=cache,!legacy",
      snapshotVolumes: true,
      ttl: "24h",
    });
    assert.deepEqual(b, {
      apiVersion: "velero.io/v1",
      kind: "Backup",
      metadata: { name: "nightly-1", namespace: "velero" },
      spec: {
        includedNamespaces: ["app", "db"],
        excludedNamespaces: ["kube-system"],
        includedResources: ["pods", "persistentvolumeclaims"],
        excludedResources: ["secrets"],
        labelSelector: {
          matchLabels: { app: "db" },
          matchExpressions: [
            { key: "tier", operator: "NotIn", values: ["cache"] },
            { key: "legacy", operator: "DoesNotExist" },
          ],
        },
        snapshotVolumes: true,
        ttl: "24h0m0s",
        ...VELERO_ZEROES,
      },
    });
    // set-based terms, as kubectl -l and velero take them
    assert.deepEqual(
      backupFromFlags("b", { ...defaults, selector: "app in (web, db),tier notin (cache),!legacy,release" })
        .spec.labelSelector,
      {
        matchExpressions: [
          { key: "app", operator: "In", values: ["web", "db"] },
          { key: "tier", operator: "NotIn", values: ["cache"] },
          { key: "legacy", operator: "DoesNotExist" },
          { key: "release", operator: "Exists" },
        ],
      },
    );
    // velero's --or-selector: one selector per alternative, separated by " or "
    assert.deepEqual(
      backupFromFlags("b", { ...defaults, orSelector: "app=web or tier in (db,cache)" }).spec
        .orLabelSelectors,
      [
        { matchLabels: { app: "web" } },
        { matchExpressions: [{ key: "tier", operator: "In", values: ["db", "cache"] }] },
      ],
    );
    // without --ttl velero sends 0s and its server applies --default-backup-ttl
    assert.deepEqual(backupFromFlags("b", { ...defaults, snapshotVolumes: "false" }).spec, {
      includedNamespaces: ["*"],
      snapshotVolumes: false,
      ttl: "0s",
      ...VELERO_ZEROES,
    });
    const placed = backupFromFlags("b", { ...defaults, storageLocation: "aws", labels: "team=db, env=prod" });
    assert.equal(placed.spec.storageLocation, "aws");
    assert.deepEqual(placed.metadata.labels, { team: "db", env: "prod" });
  });

  it("rejects bad input with a message naming the flag", () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ["Bad_Name", {}, /invalid backup name "Bad_Name": must be a lowercase RFC 1123 subdomain/],
      ["ok", { ttl: "forever" }, /--ttl: time: invalid duration "forever"/],
      ["ok", { ttl: "-1h" }, /--ttl must not be negative/],
      ["ok", { labels: "team" }, /--labels: expected key=value, got "team"/],
      ["ok", { snapshotVolumes: "maybe" }, /--snapshot-volumes: expected true or false, got "maybe"/],
      ["ok", { selector: "a in (b" }, /--selector: unbalanced parentheses in label selector "a in \(b"/],
      [
        "ok",
        { selector: "a in (b,)" },
        /--selector: label selector term "a in \(b,\)": empty value in the set/,
      ],
      [
        "ok",
        { selector: "a=b", orSelector: "c=d" },
        /either a 'selector' or an 'or-selector' can be specified, but not both/,
      ],
      ["ok", { orSelector: "a=b or c=(d" }, /--or-selector: /],
      // validated although --wait is not given
      ["ok", { waitTimeout: "2" }, /--wait-timeout: time: missing unit in duration "2"/],
      ["ok", { waitTimeout: "0s", wait: true }, /--wait-timeout must be positive/],
    ];
    for (const [name, extra, msg] of cases)
      assert.throws(() => backupFromFlags(name, { ...defaults, ...extra }), msg);
  });
});

describe("hookguard backup create (process)", () => {
  let api: ApiServerHandle;
  let kube: string[];
  before(async () => {
    api = await startApiServer();
    kube = ["--kubeconfig", api.kubeconfigPath];
  });
  after(async () => {
    await api.stop();
  });
  const stored = (name: string) => api.getObject("velero.io/v1", "Backup", "velero", name);

  it("creates the Backup in --namespace and says so", async () => {
    const r = await hookguard([
      "backup",
      "create",
      "nightly-1",
      ...kube,
      "--include-namespaces",
      "app,db",
      "--selector",
      "app=db",
      "--snapshot-volumes",
      "--ttl",
      "24h",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Backup request "nightly-1" submitted successfully\.\nRun `hookguard backup describe nightly-1` or `hookguard backup logs nightly-1` for more details\.\n$/,
    );
    assert.deepEqual(stored("nightly-1").spec, {
      includedNamespaces: ["app", "db"],
      labelSelector: { matchLabels: { app: "db" } },
      snapshotVolumes: true,
      ttl: "24h0m0s",
      ...VELERO_ZEROES,
    });
  });

  it("exits 2 on a usage error without creating anything, and 1 when the name is taken", async () => {
    const bad = await hookguard(["backup", "create", "ok-name", ...kube, "--snapshot-volumes=maybe"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--snapshot-volumes: expected true or false, got "maybe"/);
    assert.equal(stored("ok-name"), undefined);
    const dup = await hookguard(["backup", "create", "nightly-1", ...kube]);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /backups\.velero\.io "nightly-1" already exists/);
  });
});
