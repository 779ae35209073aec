// Hot reload under load: a client keeps sending admission requests (over kept-alive connections and
// over fresh ones) while the serving pair is swapped the way Kubernetes Secret volumes do it (atomic
// `..data` symlink swap) and the way a careless copy does it (key, then certificate, in place).
// Zero requests may fail, and new connections must present the new certificate.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { Agent } from "node:https";
import { connect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateCa, generateServing, type PemPair } from "../../src/tls/generate.js";
import { loadPair, parsePair, type PairBytes } from "../../src/tls/cert-dir.js";
import { CertReloader } from "../../src/tls/reloader.js";
import { pod, post, review, startTestWebhook, type TestWebhook } from "../admission/helpers.js";

function peerSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
      resolve(s.getPeerCertificate().serialNumber.toUpperCase());
      s.destroy();
    });
    s.once("error", reject);
  });
}
const serialOf = (pem: string) => new X509Certificate(pem).serialNumber.toUpperCase();

/** Sends requests until stopped: two kept-alive lanes and one lane opening a new connection each time. */
function loadGenerator(wh: TestWebhook, ca: string) {
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const keepAlive = new Agent({ keepAlive: true, ca, maxSockets: 2 });
  const fresh = new Agent({ keepAlive: false, ca });
  const body = JSON.stringify(review({ kind: "Pod", operation: "CREATE", object: pod() }));
  const lane = async (agent: Agent) => {
    while (!stop) {
      try {
        const res = await post({ port: wh.port, agent, path: "/validate", body });
        if (res.status === 200 && res.json?.response?.allowed === true) ok++;
        else failures.push(`HTTP ${res.status}: ${res.text.slice(0, 100)}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  const lanes = [lane(keepAlive), lane(keepAlive), lane(fresh)];
  return {
    get ok() {
      return ok;
    },
    failures,
    async stop() {
      stop = true;
      await Promise.all(lanes);
      keepAlive.destroy();
      fresh.destroy();
    },
  };
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function writePairDir(dir: string, pair: PemPair, ca: PemPair): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "tls.crt"), pair.certPem);
  writeFileSync(join(dir, "tls.key"), pair.keyPem);
  writeFileSync(join(dir, "ca.crt"), ca.certPem);
}

describe("certificate hot reload", () => {
  it("follows an atomic ..data symlink swap (Secret volume) with zero failed requests", async () => {
    const ca = generateCa();
    const first = generateServing(ca);
    const second = generateServing(ca);
    const dir = mkdtempSync(join(tmpdir(), "hookguard-secretvol-"));
    // kubelet's AtomicWriter layout: a timestamped dir, `..data` pointing at it, files linking through it.
    writePairDir(join(dir, "..2026_11_27_06_00_00.000000001"), first, ca);
    symlinkSync("..2026_11_27_06_00_00.000000001", join(dir, "..data"));
    for (const f of ["tls.crt", "tls.key", "ca.crt"]) symlinkSync(join("..data", f), join(dir, f));
    const wh = await startTestWebhook({ certDir: dir });
    const load = loadGenerator(wh, ca.certPem);
    try {
      assert.equal(await peerSerial(wh.port, ca.certPem), serialOf(first.certPem));
      await waitFor("some traffic", async () => load.ok > 20);
      writePairDir(join(dir, "..2026_11_27_07_00_00.000000002"), second, ca);
      symlinkSync("..2026_11_27_07_00_00.000000002", join(dir, "..data_tmp"));
      renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
      rmSync(join(dir, "..2026_11_27_06_00_00.000000001"), { recursive: true });
      await waitFor(
        "new connections to present the new certificate",
        async () => (await peerSerial(wh.port, ca.certPem)) === serialOf(second.certPem),
      );
      const after = load.ok;
      await waitFor("traffic after the swap", async () => load.ok > after + 20);
    } finally {
      await load.stop();
      await wh.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(load.failures, []);
    assert.ok(load.ok > 40);
  });

  it("skips a torn pair during a non-atomic rewrite and adopts the complete one, with zero failed requests", async () => {
    const ca = generateCa();
    const first = generateServing(ca);
    const second = generateServing(ca);
    const dir = mkdtempSync(join(tmpdir(), "hookguard-plain-"));
    writePairDir(dir, first, ca);
    const wh = await startTestWebhook({ certDir: dir });
    const load = loadGenerator(wh, ca.certPem);
    try {
      await waitFor("some traffic", async () => load.ok > 20);
      writeFileSync(join(dir, "tls.key"), second.keyPem); // torn: new key, old certificate
      await new Promise((r) => setTimeout(r, 300)); // let the watcher see (and skip) the torn pair
      assert.equal(
        await peerSerial(wh.port, ca.certPem),
        serialOf(first.certPem),
        "the old pair keeps serving while torn",
      );
      writeFileSync(join(dir, "tls.crt"), second.certPem);
      await waitFor(
        "the new certificate",
        async () => (await peerSerial(wh.port, ca.certPem)) === serialOf(second.certPem),
      );
      assert.equal(wh.server.pair?.serial.toUpperCase(), serialOf(second.certPem));
      const gauge = (await wh.metrics.certExpiry.get()).values.find(
        (v) => v.labels.certificate === "serving",
      )?.value;
      assert.equal(gauge, Math.floor(new Date(new X509Certificate(second.certPem).validTo).getTime() / 1000));
      const after = load.ok;
      await waitFor("traffic after the swap", async () => load.ok > after + 20);
    } finally {
      await load.stop();
      await wh.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(load.failures, []);
  });

  it("re-reads compare bytes first: an unchanged pair is not parsed again, nor is the same broken pair", () => {
    const ca = generateCa();
    const first = generateServing(ca);
    const second = generateServing(ca);
    const dir = mkdtempSync(join(tmpdir(), "hookguard-reparse-"));
    try {
      writePairDir(dir, first, ca);
      const initial = loadPair(dir);
      assert.ok(initial.ok);
      const parsed: PairBytes[] = [];
      const reloads: string[] = [];
      const reloader = new CertReloader(dir, initial.value, {
        pollMs: 0,
        onReload: (pair) => reloads.push(pair.serial),
        parse: (d, bytes) => {
          parsed.push(bytes);
          return parsePair(d, bytes);
        },
      });
      for (let i = 0; i < 5; i++) assert.equal(reloader.check(), false);
      assert.equal(parsed.length, 0, "unchanged files are compared, not parsed");
      writeFileSync(join(dir, "tls.key"), second.keyPem); // torn: new key, old certificate
      for (let i = 0; i < 3; i++) assert.equal(reloader.check(), false);
      assert.equal(parsed.length, 1, "the torn pair is parsed once, then recognised");
      writeFileSync(join(dir, "tls.crt"), second.certPem);
      assert.equal(reloader.check(), true);
      assert.equal(reloader.check(), false);
      assert.equal(parsed.length, 2);
      assert.deepEqual(reloads, [new X509Certificate(second.certPem).serialNumber]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
