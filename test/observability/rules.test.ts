// The alert rules: promtool check rules, promtool unit tests of every alert, and the chart's
// PrometheusRule carrying exactly the rule file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { findOne, renderChart } from "../chart/render.js";
import { knownSeries, loadRules, rulesPath, seriesIn } from "./catalogue.js";
import { promtool, withTempDir } from "./promtool.js";

const unitTests = fileURLToPath(new URL("./alerts.promtool.yaml", import.meta.url));

const requiredAlerts = [
  "HookguardHookFailures",
  "HookguardPodsAwaitingPostHooks",
  "HookguardForcedPostHooks",
  "HookguardThawGuardNotEligible",
  "HookguardNoAgentLeader",
  "HookguardWebhookErrors",
  "HookguardWebhookSlow",
  "HookguardCertificateExpiringSoon",
  "HookguardNoSuccessfulBackup",
  "HookguardBackupStuckInProgress",
  "HookguardAgentStorageNearlyFull",
  "HookguardWebhookNoReadyEndpoints",
  "HookguardStandaloneBesideVelero",
  "HookguardVeleroHookFailures",
  "HookguardBackupDeletionsFailing",
];

test("promtool check rules accepts the rule file (expressions and annotation templates)", async () => {
  const r = await promtool(["check", "rules", rulesPath]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`SUCCESS: ${requiredAlerts.length} rules found`));
});

test("promtool check rules rejects a broken expression (the check is real)", async () => {
  await withTempDir(async (dir) => {
    const rules = loadRules();
    rules.groups[0].rules[0].expr = "sum by (namespace (rate(hookguard_hook_executions_total[5m]))";
    await writeFile(join(dir, "broken.yaml"), stringify(rules));
    const r = await promtool(["check", "rules", join(dir, "broken.yaml")]);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /parse error/);
  });
});

test("every alert of the issue exists, with severity, summary, description and runbook text", () => {
  const alerts = loadRules().groups.flatMap((g: any) => g.rules);
  assert.deepEqual(alerts.map((a: any) => a.alert).sort(), [...requiredAlerts].sort());
  const known = knownSeries();
  for (const a of alerts) {
    assert.match(a.labels.severity, /^(warning|critical)$/, a.alert);
    for (const k of ["summary", "description", "runbook"])
      assert.ok((a.annotations[k] ?? "").length > 20, `${a.alert}: ${k}`);
    for (const s of seriesIn(a.expr))
      assert.ok(known.has(s), `${a.alert} uses ${s}, which neither component exports`);
  }
  const byName = Object.fromEntries(alerts.map((a: any) => [a.alert, a]));
  assert.equal(byName.HookguardPodsAwaitingPostHooks.for, "15m");
  assert.match(byName.HookguardPodsAwaitingPostHooks.annotations.summary, /frozen/);
  assert.match(
    byName.HookguardHookFailures.expr,
    /rate\(hookguard_hook_executions_total\{result!="succeeded"/,
  );
  assert.match(byName.HookguardCertificateExpiringSoon.expr, /< 21 \* 24 \* 3600/);
});

test("promtool test rules: each alert fires when it should and stays quiet otherwise", async () => {
  await withTempDir(async (dir) => {
    // the alert logic (expr, for, labels) is under test; annotations would have to be repeated verbatim
    const rules = loadRules();
    for (const g of rules.groups) for (const r of g.rules) delete r.annotations;
    await writeFile(join(dir, "rules-under-test.yaml"), stringify(rules));
    await copyFile(unitTests, join(dir, "alerts.promtool.yaml"));
    const r = await promtool(["test", "rules", "alerts.promtool.yaml"], { cwd: dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS/);
    // every alert has at least one case where it fires
    const cases = await readFile(unitTests, "utf8");
    for (const a of requiredAlerts)
      assert.match(
        cases,
        new RegExp(`alertname: ${a}\\n\\s+exp_alerts:\\n\\s+- exp_labels`),
        `${a} never fires in the unit tests`,
      );
  });
});

test("the unit tests catch a wrong threshold", async () => {
  await withTempDir(async (dir) => {
    const rules = loadRules();
    for (const g of rules.groups)
      for (const r of g.rules) {
        delete r.annotations;
        if (r.alert === "HookguardPodsAwaitingPostHooks") r.for = "30m";
      }
    await writeFile(join(dir, "rules-under-test.yaml"), stringify(rules));
    await copyFile(unitTests, join(dir, "alerts.promtool.yaml"));
    const r = await promtool(["test", "rules", "alerts.promtool.yaml"], { cwd: dir });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /alertname: HookguardPodsAwaitingPostHooks/);
  });
});

test("the chart's PrometheusRule carries exactly the rule file, and promtool accepts what it renders", async () => {
  const docs = await renderChart({
    metrics: { prometheusRule: { enabled: true, labels: { release: "kps" } } },
  });
  const pr = findOne(docs, "PrometheusRule");
  assert.equal(pr.apiVersion, "monitoring.coreos.com/v1");
  assert.equal(pr.metadata.labels.release, "kps");
  assert.deepEqual(pr.spec, loadRules());
  await withTempDir(async (dir) => {
    await writeFile(join(dir, "rendered.yaml"), stringify(pr.spec));
    const r = await promtool(["check", "rules", join(dir, "rendered.yaml")]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
});
