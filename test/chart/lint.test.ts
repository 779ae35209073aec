// `helm lint --strict` and `helm template` with the real helm binary, for every value set in cases.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chartDir, helm, renderChart } from "./render.js";
import { valueCases } from "./cases.js";

for (const [name, values] of Object.entries(valueCases)) {
  test(`helm lint --strict passes with ${name} values`, async () => {
    const dir = await mkdtemp(join(tmpdir(), "hookguard-lint-"));
    try {
      const file = join(dir, "values.json");
      await writeFile(file, JSON.stringify(values));
      const r = await helm(["lint", "--strict", chartDir, "--namespace", "hookguard", "--values", file]);
      assert.equal(r.code, 0, `helm lint failed:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      assert.doesNotMatch(r.stdout, /\[(WARNING|ERROR)\]/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test(`helm template renders ${name} values into well-formed, uniquely named objects`, async () => {
    const docs = await renderChart(values);
    assert.ok(docs.length >= 12, `only ${docs.length} objects rendered`);
    const seen = new Set<string>();
    for (const d of docs) {
      assert.equal(typeof d.apiVersion, "string");
      assert.equal(typeof d.kind, "string");
      assert.match(d.metadata?.name ?? "", /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, `${d.kind} name`);
      assert.ok(d.metadata.name.length <= 63, `${d.kind} ${d.metadata.name} is longer than 63 characters`);
      const key = `${d.apiVersion}/${d.kind}/${d.metadata.namespace ?? ""}/${d.metadata.name}`;
      assert.ok(!seen.has(key), `${key} rendered twice`);
      seen.add(key);
      assert.equal(
        d.metadata.labels?.["app.kubernetes.io/managed-by"],
        "Helm",
        `${key} lacks the standard labels`,
      );
    }
  });
}

test("optional objects appear only when their toggle is on", async () => {
  const kinds = (docs: any[]) => docs.map((d) => d.kind).sort();
  const defaults = kinds(await renderChart());
  for (const k of [
    "NetworkPolicy",
    "ServiceMonitor",
    "PrometheusRule",
    "ConfigMap",
    "Certificate",
    "Issuer",
  ]) {
    assert.ok(!defaults.includes(k), `${k} rendered by default`);
  }
  for (const k of [
    "Deployment",
    "Service",
    "PodDisruptionBudget",
    "ServiceAccount",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
  ]) {
    assert.ok(defaults.includes(k), `${k} missing by default`);
  }
  // the default agent is a companion: it stores no archives, so no PVC
  assert.ok(!defaults.includes("PersistentVolumeClaim"), "a PVC rendered for the companion agent");
  assert.ok(kinds(await renderChart(valueCases.standalone!)).includes("PersistentVolumeClaim"));
  const all = await renderChart(valueCases.allFeatures!);
  assert.equal(all.filter((d) => d.kind === "NetworkPolicy").length, 2);
  for (const k of ["ServiceMonitor", "PrometheusRule", "ConfigMap"])
    assert.ok(kinds(all).includes(k), `${k} missing with allFeatures`);
  assert.ok(!kinds(await renderChart(valueCases.mutatingOff!)).includes("MutatingWebhookConfiguration"));
  assert.ok(!kinds(await renderChart(valueCases.emptyDirStorage!)).includes("PersistentVolumeClaim"));
  assert.ok(!kinds(await renderChart(valueCases.existingClaim!)).includes("PersistentVolumeClaim"));
});

test("the packaged chart carries the rule file and the dashboard its templates read with .Files.Get", async () => {
  const dir = await mkdtemp(join(tmpdir(), "hookguard-package-"));
  try {
    const pkg = await helm(["package", chartDir, "--destination", dir]);
    assert.equal(pkg.code, 0, pkg.stderr);
    const tgz = join(dir, "hookguard-0.1.0.tgz");
    const r = await helm([
      "template",
      "hookguard",
      tgz,
      "--namespace",
      "hookguard",
      "--set",
      "metrics.prometheusRule.enabled=true",
      "--set",
      "metrics.grafanaDashboard.enabled=true",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /alert: HookguardPodsAwaitingPostHooks/);
    assert.match(r.stdout, /"title": "hookguard"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("clusters older than 1.28 (no webhook matchConditions) are refused", async () => {
  const old = await helm(["template", "hookguard", chartDir, "--kube-version", "1.27.9"]);
  assert.notEqual(old.code, 0);
  assert.match(old.stderr, /kubeVersion >=1\.28\.0-0 is incompatible with Kubernetes v1\.27\.9|incompatible/);
  const ok = await helm(["template", "hookguard", chartDir, "--kube-version", "1.28.0"]);
  assert.equal(ok.code, 0, ok.stderr);
});
