// `hookguard backup get` finds the cluster as kubectl does, as a real process against the API-server
// double: ~/.kube/config alone, a $KUBECONFIG list, --context, -v naming the context, broken files named.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { hookguard } from "./backup-create-spawn.js";

describe("hookguard finds the cluster like kubectl (process)", () => {
  let api: ApiServerHandle;
  let dir: string;
  let home: string;
  let twoContexts: string;
  before(async () => {
    api = await startApiServer();
    api.createObject({
      apiVersion: "velero.io/v1",
      kind: "Backup",
      metadata: { name: "nightly-1", namespace: "velero" },
      spec: { ttl: "24h0m0s" },
    });
    dir = mkdtempSync(join(tmpdir(), "hookguard-kubeconfig-cli-"));
    home = join(dir, "home");
    mkdirSync(join(home, ".kube"), { recursive: true });
    writeFileSync(join(home, ".kube", "config"), readFileSync(api.kubeconfigPath));
    // the double's admin context, plus a current context whose cluster listens nowhere
    const doc = parse(readFileSync(api.kubeconfigPath, "utf8"));
    doc.clusters.push({
      name: "gone",
      cluster: { server: "https://127.0.0.1:9", "insecure-skip-tls-verify": true },
    });
    doc.contexts.push({ name: "gone", context: { cluster: "gone", user: "admin" } });
    doc["current-context"] = "gone";
    twoContexts = join(dir, "two-contexts");
    writeFileSync(twoContexts, stringify(doc));
  });
  after(async () => {
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("with only $HOME/.kube/config (no KUBECONFIG), `backup get -v` lists the Backups and names the context", async () => {
    const r = await hookguard(["backup", "get", "-v"], undefined, { HOME: home, KUBECONFIG: undefined });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^nightly-1\s+New/m);
    assert.match(
      r.stderr,
      new RegExp(
        `^Using context "admin" \\(server https://127\\.0\\.0\\.1:\\d+, from ${join(home, ".kube", "config")}\\)$`,
        "m",
      ),
    );
  });

  it("--context picks another context; its current-context is used otherwise; an unknown context is exit 2", async () => {
    const picked = await hookguard(
      ["backup", "get", "--kubeconfig", twoContexts, "--context", "admin"],
      undefined,
      { HOME: dir },
    );
    assert.equal(picked.code, 0, picked.stderr);
    assert.match(picked.stdout, /^nightly-1\s/m);
    const current = await hookguard(["backup", "get", "-v"], undefined, {
      HOME: dir,
      KUBECONFIG: twoContexts,
    });
    assert.equal(current.code, 1);
    assert.match(current.stderr, /Using context "gone" \(server https:\/\/127\.0\.0\.1:9,/);
    const unknown = await hookguard(
      ["backup", "get", "--kubeconfig", twoContexts, "--context", "staging"],
      undefined,
      { HOME: dir },
    );
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      new RegExp(`context "staging" does not exist in ${twoContexts}; it has admin, gone`),
    );
  });

  it("cluster errors read as kubectl's, after the one `error: ` prefix: wrong token, wrong CA, nothing listening, forbidden", async () => {
    const doc = parse(readFileSync(api.kubeconfigPath, "utf8"));
    const variant = (name: string, change: (d: typeof doc) => void): string => {
      const d = structuredClone(doc);
      change(d);
      const p = join(dir, name);
      writeFileSync(p, stringify(d));
      return p;
    };
    const badToken = variant("bad-token", (d) => (d.users[0].user.token = "not-a-token"));
    // a CA that did not sign the double's certificate: the double's CA with one byte changed would not parse, so use another double's
    const other = await startApiServer();
    const otherCa = parse(readFileSync(other.kubeconfigPath, "utf8")).clusters[0].cluster[
      "certificate-authority-data"
    ];
    await other.stop();
    const wrongCa = variant(
      "wrong-ca",
      (d) => (d.clusters[0].cluster["certificate-authority-data"] = otherCa),
    );
    const bob = api.addUser("bob");
    api.setPolicy([{ groups: ["system:masters"], verbs: ["*"], resources: ["*"] }]);
    try {
      const cases: Array<[string[], string]> = [
        [
          ["backup", "get", "--kubeconfig", badToken],
          "error: You must be logged in to the server (Unauthorized)\n",
        ],
        [
          ["backup", "describe", "nightly-1", "--kubeconfig", badToken],
          "error: You must be logged in to the server (Unauthorized)\n",
        ],
        [
          ["backup", "get", "--kubeconfig", wrongCa],
          "error: Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by unknown authority\n",
        ],
        [
          ["backup", "create", "b", "--kubeconfig", twoContexts],
          "error: The connection to the server 127.0.0.1:9 was refused - did you specify the right host or port?\n",
        ],
        [
          ["backup", "get", "--kubeconfig", bob.kubeconfigPath],
          'error: listing backups in velero: backups.velero.io is forbidden: User "bob" cannot list resource "backups" in API group "velero.io" in the namespace "velero"\n',
        ],
      ];
      const results = await Promise.all(cases.map(([args]) => hookguard(args, undefined, { HOME: dir })));
      results.forEach((r, i) => {
        assert.equal(r.stderr, cases[i]![1], cases[i]![0].join(" "));
        assert.equal(r.code, 1);
      });
    } finally {
      api.setPolicy(undefined);
    }
  });

  it("a $KUBECONFIG list merges with the first file winning; a file that does not parse is named", async () => {
    // the list's first file sets current-context admin; the second (the broken one) comes later
    const merged = await hookguard(["backup", "get", "-v"], undefined, {
      HOME: dir,
      KUBECONFIG: `${join(dir, "missing")}:${api.kubeconfigPath}:${twoContexts}`,
    });
    assert.equal(merged.code, 0, merged.stderr);
    assert.match(merged.stderr, /Using context "admin"/);
    const bad = join(dir, "bad-config");
    writeFileSync(bad, "clusters:\n  - name: [unclosed\n");
    const broken = await hookguard(["backup", "get"], undefined, {
      HOME: dir,
      KUBECONFIG: `${api.kubeconfigPath}:${bad}`,
    });
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, new RegExp(`error loading config file "${bad}": `));
  });
});
