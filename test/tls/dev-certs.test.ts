// Dev certificates: what `npm start` generates into an empty cert dir, and the TLS floor.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import { connect } from "node:tls";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDevCerts, loadPair } from "../../src/tls/cert-dir.js";
import { startTestWebhook } from "../admission/helpers.js";

describe("dev certificates", () => {
  it("fills an empty dir with a CA and a serving certificate for localhost, 127.0.0.1 and --dns-name values", () => {
    const dir = mkdtempSync(join(tmpdir(), "hookguard-dev-"));
    const made = ensureDevCerts(dir, ["hookguard.hookguard.svc", "hookguard.hookguard.svc.cluster.local"]);
    assert.deepEqual(made, { ok: true, value: { generated: true } });
    assert.deepEqual(readdirSync(dir).sort(), ["ca.crt", "ca.key", "tls.crt", "tls.key"]);
    assert.equal(statSync(join(dir, "tls.key")).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "ca.key")).mode & 0o777, 0o600);
    const ca = new X509Certificate(readFileSync(join(dir, "ca.crt")));
    const leaf = new X509Certificate(readFileSync(join(dir, "tls.crt")));
    assert.equal(ca.ca, true);
    assert.equal(leaf.ca, false);
    assert.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
    assert.equal(
      leaf.subjectAltName,
      "DNS:localhost, DNS:hookguard.hookguard.svc, DNS:hookguard.hookguard.svc.cluster.local, IP Address:127.0.0.1",
    );
    assert.notEqual(leaf.serialNumber, ca.serialNumber);
    assert.ok(leaf.serialNumber.length >= 30, leaf.serialNumber);
    const years = (c: X509Certificate) => (new Date(c.validTo).getTime() - Date.now()) / (365 * 86_400_000);
    assert.ok(years(ca) > 9.9 && years(leaf) > 0.99 && years(leaf) < 1.01);
    // Two generations never share serials.
    const dir2 = mkdtempSync(join(tmpdir(), "hookguard-dev-"));
    ensureDevCerts(dir2);
    assert.notEqual(new X509Certificate(readFileSync(join(dir2, "tls.crt"))).serialNumber, leaf.serialNumber);
  });

  it("leaves an existing pair alone and refuses half a pair", () => {
    const dir = mkdtempSync(join(tmpdir(), "hookguard-dev-"));
    ensureDevCerts(dir);
    const before = readFileSync(join(dir, "tls.crt"), "utf8");
    assert.deepEqual(ensureDevCerts(dir), { ok: true, value: { generated: false } });
    assert.equal(readFileSync(join(dir, "tls.crt"), "utf8"), before);
    const half = mkdtempSync(join(tmpdir(), "hookguard-dev-"));
    writeFileSync(join(half, "tls.crt"), before);
    assert.deepEqual(ensureDevCerts(half), { ok: false, error: `${half} holds tls.crt but no tls.key` });
  });

  it("rejects a key that does not belong to the certificate", () => {
    const a = mkdtempSync(join(tmpdir(), "hookguard-dev-"));
    const b = mkdtempSync(join(tmpdir(), "hookguard-dev-"));
    ensureDevCerts(a);
    ensureDevCerts(b);
    writeFileSync(join(a, "tls.key"), readFileSync(join(b, "tls.key")));
    assert.deepEqual(loadPair(a), { ok: false, error: `tls.key in ${a} does not belong to tls.crt` });
  });

  it("serves TLS 1.2 and 1.3 but refuses TLS 1.1 (checked against a control server that allows it)", async () => {
    const wh = await startTestWebhook();
    const control = createServer({
      cert: readFileSync(join(wh.certDir, "tls.crt")),
      key: readFileSync(join(wh.certDir, "tls.key")),
      minVersion: "TLSv1",
      ciphers: "DEFAULT@SECLEVEL=0",
    });
    await new Promise<void>((r) => control.listen(0, "127.0.0.1", r));
    const handshake = (port: number, version: "TLSv1.1" | "TLSv1.2" | "TLSv1.3") =>
      new Promise<string>((resolve) => {
        const s = connect({
          host: "127.0.0.1",
          port,
          ca: wh.ca,
          servername: "localhost",
          minVersion: version,
          maxVersion: version,
          ciphers: "DEFAULT@SECLEVEL=0",
        });
        s.once("secureConnect", () => {
          resolve(s.getProtocol() ?? "?");
          s.destroy();
        });
        s.once("error", () => resolve("refused"));
      });
    try {
      const controlPort = (control.address() as AddressInfo).port;
      assert.equal(
        await handshake(controlPort, "TLSv1.1"),
        "TLSv1.1",
        "control: this client can speak TLS 1.1",
      );
      assert.equal(await handshake(wh.port, "TLSv1.1"), "refused");
      assert.equal(await handshake(wh.port, "TLSv1.2"), "TLSv1.2");
      assert.equal(await handshake(wh.port, "TLSv1.3"), "TLSv1.3");
    } finally {
      control.close();
      await wh.stop();
    }
  });
});
