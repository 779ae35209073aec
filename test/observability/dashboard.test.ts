// The Grafana dashboard: the panels of the issue, its variables, and every PromQL expression checked
// by promtool (wrapped as recording rules after expanding Grafana's variables).
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { findOne, renderChart } from "../chart/render.js";
import {
  dashboardPath,
  dashboardQueries,
  externalSeriesIn,
  knownSeries,
  loadDashboard,
  queriesAsRecordingRules,
  seriesIn,
} from "./catalogue.js";
import { promtool, withTempDir } from "./promtool.js";

const requiredPanels = [
  "Hook success ratio",
  "Hook failures by namespace and phase",
  "Hook duration p50 / p95 / p99",
  "Freeze window p95",
  "Pods awaiting post hooks",
  "Backups by phase",
  "Admission decisions per second",
  "Admission p99 latency",
  "Admission warnings per second",
  "Certificate days left",
  "Completed backups (25h)",
  "Oldest running backup",
  "Webhook ready endpoints",
  "Agent storage free",
  "Forced post hooks",
  "Thaw guard: pods left frozen (companion)",
];

test("the dashboard has the panels of the issue, a datasource and a namespace variable", () => {
  const d = loadDashboard();
  const titles = (d.panels as any[]).map((p) => p.title);
  for (const t of requiredPanels) assert.ok(titles.includes(t), `panel "${t}" missing`);
  assert.equal(d.uid, "hookguard");
  const vars = Object.fromEntries(d.templating.list.map((v: any) => [v.name, v]));
  assert.equal(vars.datasource.type, "datasource");
  assert.equal(vars.datasource.query, "prometheus");
  assert.equal(vars.namespace.type, "query");
  assert.equal(vars.namespace.includeAll, true);
  assert.equal(vars.namespace.allValue, ".*", "All must also match series without the label");
  assert.match(vars.namespace.definition, /^label_values\(hookguard_hook_executions_total, namespace\)$/);
  for (const p of d.panels.filter((x: any) => x.type !== "row")) {
    assert.equal(p.datasource.uid, "${datasource}", `${p.title} uses the datasource variable`);
    assert.ok(p.targets.length > 0, `${p.title} has no query`);
    assert.ok(p.description.length > 10, `${p.title} has no description`);
  }
  const ids = d.panels.map((p: any) => p.id);
  assert.equal(new Set(ids).size, ids.length, "panel ids are unique");
  const failures = dashboardQueries().find((q) => q.panel === "Hook failures by namespace and phase")!;
  assert.match(failures.expr, /sum by \(namespace, phase\)/);
  assert.match(failures.expr, /namespace=~"\$namespace"/);
});

test("every dashboard query uses only metrics the webhook and the agent export", () => {
  const known = knownSeries();
  for (const q of dashboardQueries()) {
    const used = seriesIn(q.expr);
    assert.ok(
      used.length > 0 || externalSeriesIn(q.expr).length > 0,
      `${q.panel}: neither a hookguard metric nor a known exporter's`,
    );
    for (const s of used) assert.ok(known.has(s), `${q.panel} uses ${s}`);
  }
});

test("promtool accepts every dashboard expression (wrapped as recording rules)", async () => {
  const rules = queriesAsRecordingRules();
  assert.equal(rules.groups[0].rules.length, dashboardQueries().length);
  assert.ok(rules.groups[0].rules.length >= 12);
  for (const r of rules.groups[0].rules)
    assert.doesNotMatch(r.expr, /\$/, "a Grafana variable was left unexpanded");
  await withTempDir(async (dir) => {
    await writeFile(join(dir, "dashboard-rules.yaml"), stringify(rules));
    const r = await promtool(["check", "rules", join(dir, "dashboard-rules.yaml")]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`SUCCESS: ${rules.groups[0].rules.length} rules found`));
    // and the check is real: a typo in one expression fails it
    rules.groups[0].rules[0].expr = rules.groups[0].rules[0].expr.replace("sum(", "sum((");
    await writeFile(join(dir, "broken.yaml"), stringify(rules));
    assert.notEqual((await promtool(["check", "rules", join(dir, "broken.yaml")])).code, 0);
  });
});

test("the chart's dashboard ConfigMap carries the file for the Grafana sidecar", async () => {
  const docs = await renderChart({
    metrics: {
      grafanaDashboard: {
        enabled: true,
        namespace: "monitoring",
        annotations: { grafana_folder: "Backups" },
      },
    },
  });
  const cm = findOne(docs, "ConfigMap");
  assert.equal(cm.metadata.labels.grafana_dashboard, "1");
  assert.equal(cm.metadata.namespace, "monitoring");
  assert.equal(cm.metadata.annotations.grafana_folder, "Backups");
  assert.equal(cm.data["hookguard.json"], readFileSync(dashboardPath, "utf8").trimEnd());
  assert.deepEqual(JSON.parse(cm.data["hookguard.json"]), loadDashboard());
});
