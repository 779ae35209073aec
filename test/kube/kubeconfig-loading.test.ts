// loadClusterAccess follows kubectl's loading rules: --kubeconfig, else $KUBECONFIG as a list of files
// merged (first definition of a name wins, current-context from the first file that sets one, missing
// files skipped), else ~/.kube/config; --context picks another context; broken files are named.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadClusterAccess } from "../../src/kube/config.js";

const dir = mkdtempSync(join(tmpdir(), "hookguard-kubeconfig-"));
function file(name: string, doc: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof doc === "string" ? doc : stringify(doc));
  return p;
}
const cluster = (name: string, server: string) => ({
  name,
  cluster: { server, "insecure-skip-tls-verify": true },
});
const user = (name: string) => ({ name, user: { token: `${name}-token` } });
const context = (name: string, c: string, u: string) => ({ name, context: { cluster: c, user: u } });
const noHome = { HOME: join(dir, "nohome") };

describe("kubeconfig loading (kubectl's rules)", () => {
  const first = file("first", {
    apiVersion: "v1",
    kind: "Config",
    clusters: [cluster("shared", "https://first.example:6443")],
    users: [],
    contexts: [context("dev", "shared", "alice")],
    "current-context": "dev",
  });
  const second = file("second", {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      cluster("shared", "https://second.example:6443"),
      cluster("other", "https://other.example:6443"),
    ],
    users: [user("alice"), user("bob")],
    contexts: [context("dev", "other", "bob"), context("prod", "other", "bob")],
    "current-context": "prod",
  });

  test("$KUBECONFIG is a list: the first file to define a name wins, current-context comes from the first that sets one, missing files are skipped", () => {
    const a = loadClusterAccess(
      {},
      { ...noHome, KUBECONFIG: [join(dir, "missing"), first, second].join(":") },
    )!;
    assert.equal(a.context, "dev");
    assert.equal(a.server, "https://first.example:6443");
    assert.equal(a.kc.getCurrentUser()?.name, "alice");
    assert.equal(a.kc.getCurrentUser()?.token, "alice-token"); // users from the second file merge in
    assert.equal(a.source, `${first}:${second}`);
    const reversed = loadClusterAccess({}, { ...noHome, KUBECONFIG: `${second}:${first}` })!;
    assert.deepEqual([reversed.context, reversed.server], ["prod", "https://other.example:6443"]);
  });

  test("--context picks another context of the merged config; an unknown one is an error naming the files", () => {
    const a = loadClusterAccess({ context: "prod" }, { ...noHome, KUBECONFIG: `${first}:${second}` })!;
    assert.deepEqual(
      [a.context, a.server, a.kc.getCurrentUser()?.name],
      ["prod", "https://other.example:6443", "bob"],
    );
    assert.throws(() => loadClusterAccess({ context: "staging" }, { ...noHome, KUBECONFIG: first }), {
      message: `context "staging" does not exist in ${first}; it has dev`,
    });
  });

  test("--kubeconfig beats $KUBECONFIG, which beats ~/.kube/config; nothing at all is undefined", () => {
    const home = join(dir, "home");
    mkdirSync(join(home, ".kube"), { recursive: true });
    writeFileSync(
      join(home, ".kube", "config"),
      stringify({
        clusters: [cluster("h", "https://home.example")],
        users: [user("u")],
        contexts: [context("home", "h", "u")],
        "current-context": "home",
      }),
    );
    assert.equal(loadClusterAccess({}, { HOME: home })!.context, "home");
    assert.equal(loadClusterAccess({}, { HOME: home, KUBECONFIG: second })!.context, "prod");
    assert.equal(
      loadClusterAccess({ kubeconfig: first }, { HOME: home, KUBECONFIG: second })!.context,
      "dev",
    );
    assert.equal(loadClusterAccess({}, noHome), undefined);
    assert.throws(
      () => loadClusterAccess({ kubeconfig: join(dir, "nope") }, noHome),
      /nope: no such file or directory/,
    );
  });

  test("a file that does not parse is named in the error", () => {
    const bad = file("broken", "clusters: [\n  - name: x\n");
    assert.throws(
      () => loadClusterAccess({}, { ...noHome, KUBECONFIG: `${first}:${bad}` }),
      (err: Error) => err.message.startsWith(`error loading config file "${bad}": `),
    );
    const noServer = file("no-server", { clusters: [{ name: "c", cluster: {} }], contexts: [], users: [] });
    assert.throws(
      () => loadClusterAccess({ kubeconfig: noServer }, noHome),
      (err: Error) => err.message.startsWith(`error loading config file "${noServer}": `),
    );
  });
});
