// `npm run -s dev:webhook-configs` as the README's sandbox session runs it (its output piped into
// `kubectl apply -f -`; the e2e tests register the same YAML through webhookConfigurationsYaml).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateBundle } from "../../src/tls/generate.js";
import { parseManifests, repoRoot, run } from "../chart/render.js";

const script = join(repoRoot, "test/e2e/webhook-configs.ts");
const cli = (args: string[]) => run(process.execPath, ["--import", "tsx", script, ...args]);

test("prints the chart's webhook configurations pointed at the given URL with the given CA", async () => {
  const dir = await mkdtemp(join(tmpdir(), "hookguard-configs-"));
  try {
    const caPem = generateBundle({ dnsNames: [] }).ca.certPem;
    await writeFile(join(dir, "ca.crt"), caPem);
    const r = await cli(["--url", "https://127.0.0.1:9443", "--ca-file", join(dir, "ca.crt")]);
    assert.equal(r.code, 0, r.stderr);
    const docs = parseManifests(r.stdout);
    assert.deepEqual(docs.map((d) => d.kind).sort(), [
      "MutatingWebhookConfiguration",
      "ValidatingWebhookConfiguration",
    ]);
    for (const d of docs) {
      const path = d.kind === "MutatingWebhookConfiguration" ? "/mutate" : "/validate";
      for (const w of d.webhooks) {
        assert.deepEqual(
          w.clientConfig,
          { url: `https://127.0.0.1:9443${path}`, caBundle: Buffer.from(caPem).toString("base64") },
          w.name,
        );
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("bad arguments get the usage and exit 2, with nothing on stdout", async () => {
  const usage = [
    [],
    ["--url", "http://127.0.0.1:9443", "--ca-file", "x"],
    ["--url", "https://127.0.0.1:9443/validate", "--ca-file", "x"],
    ["--bogus"],
  ];
  const [missing, notPem, ...results] = await Promise.all([
    cli(["--url", "https://127.0.0.1:9443", "--ca-file", "/nonexistent/ca.crt"]),
    cli(["--url", "https://127.0.0.1:9443", "--ca-file", join(repoRoot, "package.json")]),
    ...usage.map((args) => cli(args)),
  ]);
  results.forEach((r, i) => {
    assert.equal(r.code, 2, `${usage[i]!.join(" ")}: ${r.stderr}`);
    assert.match(
      r.stderr,
      /usage: npm run -s dev:webhook-configs -- --url https:\/\/HOST:PORT --ca-file PATH/,
    );
    assert.equal(r.stdout, "");
  });
  assert.equal(missing!.code, 2);
  assert.match(missing!.stderr, /cannot read --ca-file \/nonexistent\/ca\.crt: ENOENT/);
  assert.equal(notPem!.code, 2);
  assert.match(notPem!.stderr, /holds no PEM certificate/);
  assert.equal(missing!.stdout + notPem!.stdout, "");
});
