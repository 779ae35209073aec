// Managed certificates against a fake API server over real TLS with the real client-node: creation,
// caBundle patching, convergence of several replicas (409 → re-read and adopt), serving rotation 90
// days before expiry, and CA rotation with the old CA kept in the bundle during the overlap.
import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubeCertStore } from "../../src/kube/cert-store.js";
import { silentLogger } from "../../src/log.js";
import { reconcileCerts } from "../../src/server/managed-certs.js";
import { planCerts, splitPem, toSecretData } from "../../src/tls/rotation.js";
import { startFakeApi, webhookConfig, type FakeApi } from "../admission/fake-apiserver.js";

const DAY = 86_400_000;
const b64 = (s: string) => Buffer.from(s).toString("base64");
const unb64 = (s: string) => Buffer.from(s, "base64").toString("utf8");

describe("managed certificates (--manage-certs)", () => {
  let api: FakeApi;
  const t0 = new Date("2026-11-27T00:00:00Z");
  before(async () => {
    api = await startFakeApi();
  });
  after(async () => api.stop());
  beforeEach(() => {
    api.secrets.clear();
    api.configs.clear();
    api.configs.set(
      "hookguard-validate",
      webhookConfig("validating", "hookguard-validate", [
        "validate.hookguard.io",
        "validate-backups.hookguard.io",
      ]),
    );
    api.configs.set(
      "hookguard-mutate",
      webhookConfig("mutating", "hookguard-mutate", ["mutate.hookguard.io"]),
    );
    api.interceptWrite = undefined;
    api.requests.length = 0;
  });
  const store = () => kubeCertStore(api.kc, "hookguard", "hookguard-certs");
  const reconcile = (dir: string, now: Date) =>
    reconcileCerts(store(), {
      certDir: dir,
      dnsNames: ["hookguard.hookguard.svc"],
      webhookConfigs: ["hookguard-validate", "hookguard-mutate"],
      log: silentLogger(),
      now: () => now,
    });
  const stored = () =>
    Object.fromEntries(
      Object.entries(api.secrets.get("hookguard-certs")!.data).map(([k, v]) => [k, unb64(v)]),
    );
  const bundles = () =>
    [...api.configs.values()].flatMap((c) => c.obj.webhooks.map((w: any) => w.clientConfig.caBundle));

  it("creates the Secret (CA 10 y, serving 1 y, distinct serials), patches every caBundle, writes the cert dir", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookguard-managed-"));
    const r = await reconcile(dir, t0);
    assert.ok(r.ok, r.ok ? "" : r.error);
    const data = stored();
    assert.deepEqual(Object.keys(data).sort(), ["ca.crt", "ca.key", "tls.crt", "tls.key"]);
    const ca = new X509Certificate(data["ca.crt"]!);
    const leaf = new X509Certificate(data["tls.crt"]!);
    assert.notEqual(ca.serialNumber, leaf.serialNumber);
    assert.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
    assert.equal(Math.round((new Date(ca.validTo).getTime() - t0.getTime()) / DAY), 3650);
    assert.equal(Math.round((new Date(leaf.validTo).getTime() - t0.getTime()) / DAY), 365);
    assert.match(leaf.subjectAltName ?? "", /DNS:hookguard\.hookguard\.svc/);
    assert.deepEqual(bundles(), [b64(data["ca.crt"]!), b64(data["ca.crt"]!), b64(data["ca.crt"]!)]);
    assert.equal(readFileSync(join(dir, "tls.crt"), "utf8"), data["tls.crt"]);
    assert.equal(readFileSync(join(dir, "tls.key"), "utf8"), data["tls.key"]);
    // A second pass changes nothing.
    api.requests.length = 0;
    const again = await reconcile(dir, new Date(t0.getTime() + DAY));
    assert.ok(again.ok && again.value.action === "adopted");
    assert.deepEqual(
      api.requests.filter((q) => q.method !== "GET"),
      [],
    );
  });

  it("several replicas converge on one Secret: a conflicting write is re-read and adopted", async () => {
    // Replica B wins the race: its create lands just before ours, which then gets 409 AlreadyExists.
    const theirs = planCerts(undefined, { now: t0, dnsNames: ["hookguard.hookguard.svc"] }).certs;
    let raced = false;
    api.interceptWrite = (method, name) => {
      if (raced || method !== "POST") return false;
      raced = true;
      api.secrets.set(name, {
        data: Object.fromEntries(Object.entries(toSecretData(theirs)).map(([k, v]) => [k, b64(v)])),
        resourceVersion: "7",
      });
      return true;
    };
    const dir = mkdtempSync(join(tmpdir(), "hookguard-managed-"));
    const r = await reconcile(dir, t0);
    assert.ok(r.ok, r.ok ? "" : r.error);
    assert.ok(raced);
    assert.equal(readFileSync(join(dir, "tls.crt"), "utf8"), theirs.tlsCert);
    assert.equal(stored()["tls.crt"], theirs.tlsCert);
    // And three replicas started at once end up serving the same pair.
    api.interceptWrite = undefined;
    api.secrets.clear();
    const dirs = [1, 2, 3].map(() => mkdtempSync(join(tmpdir(), "hookguard-managed-")));
    const results = await Promise.all(dirs.map((d) => reconcile(d, t0)));
    for (const res of results) assert.ok(res.ok, res.ok ? "" : res.error);
    const certs = dirs.map((d) => readFileSync(join(d, "tls.crt"), "utf8"));
    assert.equal(new Set(certs).size, 1);
    assert.equal(certs[0], stored()["tls.crt"]);
  });

  it("renews the serving certificate 90 days before expiry, keeping the CA", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookguard-managed-"));
    await reconcile(dir, t0);
    const first = stored();
    const early = await reconcile(dir, new Date(t0.getTime() + 270 * DAY)); // 95 days left: keep
    assert.ok(early.ok && early.value.action === "adopted");
    const r = await reconcile(dir, new Date(t0.getTime() + 280 * DAY)); // 85 days left: renew
    assert.ok(
      r.ok && r.value.action === "serving certificate renewed 90 days before expiry",
      JSON.stringify(r),
    );
    const second = stored();
    assert.equal(second["ca.crt"], first["ca.crt"]);
    assert.notEqual(second["tls.crt"], first["tls.crt"]);
    assert.equal(readFileSync(join(dir, "tls.crt"), "utf8"), second["tls.crt"]);
    assert.notEqual(
      new X509Certificate(second["tls.crt"]!).serialNumber,
      new X509Certificate(first["tls.crt"]!).serialNumber,
    );
  });

  it("renews the CA before its expiry, keeping the old CA in the bundle until it expires", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookguard-managed-"));
    await reconcile(dir, t0);
    const oldCa = stored()["ca.crt"]!;
    const later = new Date(t0.getTime() + (3650 - 400) * DAY); // under 1 year + 90 days left
    const r = await reconcile(dir, later);
    assert.ok(
      r.ok && r.value.action === "CA renewed before expiry (old CA kept in the bundle)",
      JSON.stringify(r),
    );
    const data = stored();
    const cas = splitPem(data["ca.crt"]!);
    assert.equal(cas.length, 2);
    assert.equal(cas[1], oldCa);
    const leaf = new X509Certificate(data["tls.crt"]!);
    assert.ok(leaf.checkIssued(new X509Certificate(cas[0]!)), "serving certificate signed by the new CA");
    assert.deepEqual(new Set(bundles()), new Set([b64(data["ca.crt"]!)]));
    // Once the old CA has expired it leaves the bundle.
    const afterExpiry = await reconcile(dir, new Date(t0.getTime() + 3651 * DAY));
    assert.ok(afterExpiry.ok);
    assert.deepEqual(splitPem(stored()["ca.crt"]!), [cas[0]]);
  });

  it("reports a webhook configuration that does not exist", async () => {
    const r = await reconcileCerts(store(), {
      certDir: mkdtempSync(join(tmpdir(), "hookguard-managed-")),
      dnsNames: [],
      webhookConfigs: ["nope"],
      log: silentLogger(),
      now: () => t0,
    });
    assert.deepEqual(r, {
      ok: false,
      error: "no ValidatingWebhookConfiguration or MutatingWebhookConfiguration named nope",
    });
  });
});
