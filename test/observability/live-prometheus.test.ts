// End to end with real tools: the API-server double holding the chart's own webhook configurations and
// enforcing the chart's RBAC, `hookguard webhook` and `hookguard agent` started with the chart's own
// arguments as their ServiceAccounts, and a real Prometheus scraping both every second. Two rounds of
// admission requests and backups (the first creates the labelled series, the second moves them while
// Prometheus watches), then every dashboard query must return data, and promtool must accept both
// /metrics pages.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { get } from "node:https";
import { get as httpGet, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { renderChart } from "../chart/render.js";
import { deploymentArgs, policyFromChart, serviceAccountUser } from "../chart/rbac-policy.js";
import { dashboardQueries, expandGrafanaVariables, externalSeriesIn, seriesIn } from "./catalogue.js";
import {
  eventually,
  startAgentProcess,
  startPrometheus,
  startWebhookProcess,
  type PrometheusServer,
  type RunningAgentProcess,
  type RunningWebhookProcess,
} from "./live-harness.js";
import { promtool } from "./promtool.js";

let dir: string;
let api: ApiServerHandle;
let webhook: RunningWebhookProcess;
let agent: RunningAgentProcess;
let prom: PrometheusServer;
let core: CoreV1Api;
let custom: CustomObjectsApi;

/** A pod with a pre and a post hook; `failing` makes the pre hook exit 1 (on-error Continue). */
function hookedPod(name: string, failing: boolean): any {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "shop",
      labels: { app: "shop" },
      annotations: {
        "pre.hook.backup.velero.io/command": failing ? '["/bin/false"]' : '["/bin/sleep", "0.1"]',
        "pre.hook.backup.velero.io/on-error": "Continue",
        "post.hook.backup.velero.io/command": '["/bin/true"]',
        // "0" means the default: accepted with a warning (feeds the warnings panel)
        "post.hook.backup.velero.io/timeout": "0",
      },
    },
    spec: { containers: [{ name: "app", image: "busybox" }] },
  };
}

async function runBackup(name: string): Promise<string> {
  await custom.createNamespacedCustomObject({
    group: "velero.io",
    version: "v1",
    namespace: "velero",
    plural: "backups",
    body: {
      apiVersion: "velero.io/v1",
      kind: "Backup",
      metadata: { name, namespace: "velero" },
      spec: { includedNamespaces: ["shop"], snapshotVolumes: false },
    },
  });
  try {
    return await eventually(
      `backup ${name} to finish`,
      async () => {
        const phase = api.getObject("velero.io/v1", "Backup", "velero", name)?.status?.phase;
        return phase === "Completed" || phase === "PartiallyFailed" || phase === "Failed" ? phase : undefined;
      },
      90_000,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- agent output (tail):\n${agent.output().slice(-3000)}`);
  }
}

/** Waits until Prometheus has a sample of `expr` that satisfies `ok`; returns that value. */
async function scraped(expr: string, ok: (v: number) => boolean): Promise<number> {
  return eventually(
    `Prometheus to scrape ${expr}`,
    async () => (await prom.query(expr)).map((r) => Number(r.value[1])).find(ok),
    60_000,
  );
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "hookguard-live-"));
  api = await startApiServer();
  // standalone: the dashboard's hook and freeze-window panels get data from the agent's own Backups
  const docs = await renderChart({ agent: { mode: "standalone" } });
  api.createObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: "hookguard" } });
  api.createObject({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "shop", labels: { "hookguard.io/mutate": "enabled" } },
  });
  // from here on the double enforces the chart's RBAC: the components get nothing else
  const webhookUser = api.addUser(serviceAccountUser("hookguard", "hookguard-webhook"), [
    "system:serviceaccounts",
  ]);
  const agentUser = api.addUser(serviceAccountUser("hookguard", "hookguard-agent"), [
    "system:serviceaccounts",
  ]);
  api.setPolicy([{ groups: ["system:masters"], verbs: ["*"], resources: ["*"] }, ...policyFromChart(docs)]);
  // the chart's webhook configurations as rendered: no caBundle, the webhook (managed mode) patches it
  for (const cfg of docs.filter((d) => d.kind.endsWith("WebhookConfiguration"))) api.createObject(cfg);

  const certDir = join(dir, "certs");
  const webhookArgs = deploymentArgs(docs, "hookguard-webhook", {
    set: { "--host": "127.0.0.1", "--port": "0", "--metrics-port": "0", "--cert-dir": certDir },
    add: ["--kubeconfig", webhookUser.kubeconfigPath],
  });
  const agentArgs = deploymentArgs(docs, "hookguard-agent", {
    set: { "--metrics-port": "0", "--storage-dir": join(dir, "storage") },
    add: ["--kubeconfig", agentUser.kubeconfigPath, "--metrics-bind-address", "127.0.0.1"],
  });
  [webhook, agent] = await Promise.all([
    startWebhookProcess(webhookArgs, certDir),
    startAgentProcess(agentArgs),
  ]);
  api.routeService("hookguard", "hookguard-webhook", 443, `https://127.0.0.1:${webhook.port}`);
  prom = await startPrometheus(join(dir, "prometheus"), {
    webhook: `127.0.0.1:${webhook.metricsPort}`,
    agent: `127.0.0.1:${agent.metricsPort}`,
  });
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
});

after(async () => {
  await Promise.allSettled([prom?.stop(), webhook?.stop(), agent?.stop()]);
  await api?.stop();
  await rm(dir, { recursive: true, force: true });
});

test("managed certificates with only the chart's RBAC: the Secret is stored and both configurations carry its CA", async () => {
  const secret = api.getObject("v1", "Secret", "hookguard", "hookguard-webhook-tls");
  assert.ok(
    secret?.data?.["tls.crt"] && secret.data["tls.key"],
    "Secret hookguard/hookguard-webhook-tls holds the pair",
  );
  const caBundle = Buffer.from(webhook.caPem).toString("base64");
  const rendered = await renderChart();
  for (const kind of ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"]) {
    const cfg = api.getObject("admissionregistration.k8s.io/v1", kind, undefined, "hookguard");
    // every entry the chart renders, and each of them patched
    const entries = rendered.find((d) => d.kind === kind).webhooks.map((w: { name: string }) => w.name);
    assert.deepEqual(
      cfg.webhooks.map((w: { name: string }) => w.name),
      entries,
    );
    for (const w of cfg.webhooks) assert.equal(w.clientConfig.caBundle, caBundle, `${kind} ${w.name}`);
  }
});

test("the chart's probes answer on the ports and schemes it names: readiness over HTTPS with the managed certificate, liveness on the metrics port", async () => {
  const deployment = (await renderChart()).find(
    (d) => d.kind === "Deployment" && d.metadata.name === "hookguard-webhook",
  );
  const container = deployment.spec.template.spec.containers[0];
  // the chart's named container ports, mapped to where this process listens
  const listening: Record<string, number> = { https: webhook.port, metrics: webhook.metricsPort };
  for (const probe of [container.readinessProbe, container.livenessProbe]) {
    const { path, port, scheme } = probe.httpGet;
    assert.ok(listening[port], `the probe's port ${port} is one of the container's`);
    const probeStatus = () =>
      new Promise<number>((resolve, reject) => {
        const done = (res: IncomingMessage) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        };
        // the kubelet does not verify probe certificates; the API server does, so verify as it would
        const req =
          scheme === "HTTPS"
            ? get(
                {
                  host: "127.0.0.1",
                  port: listening[port],
                  path,
                  ca: webhook.caPem,
                  servername: "hookguard-webhook.hookguard.svc",
                },
                done,
              )
            : httpGet({ host: "127.0.0.1", port: listening[port], path }, done);
        req.on("error", reject);
      });
    // Readiness waits for the webhook's warm-up, and the kubelet retries it; liveness answers at once.
    const status =
      probe === container.readinessProbe
        ? await eventually("/readyz to answer 200 after the warm-up", async () =>
            (await probeStatus()) === 200 ? 200 : undefined,
          )
        : await probeStatus();
    assert.equal(status, 200, `GET ${scheme} ${port} ${path}`);
  }
  assert.equal(container.readinessProbe.httpGet.scheme, "HTTPS", "readiness proves TLS serving");
  // a connection flood at the cap fills the HTTPS port: liveness must not depend on it
  assert.equal(container.livenessProbe.httpGet.port, "metrics");
});

test("every dashboard query returns data from a real Prometheus scraping the running webhook and agent", async (t) => {
  await scraped('up{job="webhook"}', (v) => v === 1);
  await scraped('up{job="agent"}', (v) => v === 1);

  // round 1: creates the labelled series (a counter's first increment is not a rate yet)
  await core.createNamespacedPod({ namespace: "shop", body: hookedPod("good-1", false) });
  await core.createNamespacedPod({ namespace: "shop", body: hookedPod("bad-1", true) });
  await eventually("pods running", async () =>
    ["good-1", "bad-1"].every((n) => api.getObject("v1", "Pod", "shop", n)?.status?.phase === "Running"),
  );
  assert.equal(await runBackup("round-1"), "PartiallyFailed", "one pre hook exits 1");
  await scraped("hookguard_backups_total", (v) => v >= 1);
  const admitted = 'sum(hookguard_admission_requests_total{resource="pods"})';
  const afterRound1 = await scraped(admitted, (v) => v >= 2);

  // round 2: the same series move while Prometheus scrapes every second
  await core.createNamespacedPod({ namespace: "shop", body: hookedPod("good-2", false) });
  await core.createNamespacedPod({ namespace: "shop", body: hookedPod("bad-2", true) });
  await eventually("pods running", async () =>
    ["good-2", "bad-2"].every((n) => api.getObject("v1", "Pod", "shop", n)?.status?.phase === "Running"),
  );
  assert.equal(await runBackup("round-2"), "PartiallyFailed");
  await scraped('sum(hookguard_backups_total{phase="PartiallyFailed"})', (v) => v >= 2);
  // Relative to what was scraped after round 1: a fixed threshold could be met by that sample
  // already (every pod is reviewed by both webhooks), and then the query below ran before any
  // sample showed round 2's reviews, so their rate was 0.
  await scraped(admitted, (v) => v >= afterRound1 + 2);

  // a window that covers the whole test; Grafana's $__rate_interval and $__range expand to it
  const results: Record<string, number[]> = {};
  for (const q of dashboardQueries()) {
    // kube-state-metrics' and the kubelet's series do not exist here: promtool checks those queries
    if (seriesIn(q.expr).length === 0 && externalSeriesIn(q.expr).length > 0) {
      t.diagnostic(
        `${q.panel}/${q.refId}: other exporters only (${externalSeriesIn(q.expr).join(", ")}), not scraped here`,
      );
      continue;
    }
    const expr = expandGrafanaVariables(q.expr, "10m");
    const rows = await prom.query(expr);
    const values = rows.map((r) => Number(r.value[1])).filter((v) => Number.isFinite(v));
    assert.ok(
      values.length > 0,
      `panel "${q.panel}" (${q.refId}) has no data: ${expr} -> ${JSON.stringify(rows)}`,
    );
    results[`${q.panel}/${q.refId}`] = values;
    t.diagnostic(`${q.panel}/${q.refId}: ${values.map((v) => +v.toPrecision(3)).join(", ")}`);
  }
  const max = (k: string) => Math.max(...results[k]!);
  assert.ok(max("Hook executions by result/A") > 0);
  assert.ok(max("Hook failures by namespace and phase/A") > 0, "the failing pre hooks show up");
  assert.equal(max("Oldest running backup/A"), 0, "both backups ended: none running");
  assert.equal(max("Completed backups (25h)/A"), 0, "both backups ended PartiallyFailed");
  const ratio = max("Hook success ratio/A");
  assert.ok(ratio > 0 && ratio < 1, `success ratio ${ratio}: 2 of 8 hooks failed`);
  for (const k of [
    "Hook duration p50 / p95 / p99/A",
    "Freeze window p95/A",
    "Backups by phase/A",
    "Admission decisions per second/A",
    "Admission p99 latency/A",
    "Admission warnings per second/A",
  ]) {
    assert.ok(max(k) > 0, `${k} is ${max(k)}`);
  }
  assert.equal(max("Agent leader/A"), 1);
  assert.ok(
    max("Certificate days left/A") > 300,
    "the generated serving certificate is valid for about a year",
  );
});

/** hookguard_admission_requests_total summed over all labels, read from the webhook's /metrics. */
async function admissionRequests(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${webhook.metricsPort}/metrics`)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith("hookguard_admission_requests_total{"))
    .reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
}

test("through the chart's configurations: a broken hook is refused, a pod without hooks never reaches the webhook", async () => {
  const before = await admissionRequests();
  const bad = hookedPod("broken", false);
  bad.metadata.annotations["pre.hook.backup.velero.io/on-error"] = "continue";
  await assert.rejects(core.createNamespacedPod({ namespace: "shop", body: bad }), (err: any) => {
    assert.equal(err.code, 403);
    const status = JSON.parse(String(err.body));
    assert.match(
      status.message,
      /^admission webhook "pods\.validate\.hookguard\.io" denied the request: .*on-error "continue" is not valid/,
    );
    return true;
  });
  const afterDenial = await admissionRequests();
  assert.ok(afterDenial > before, "the denial went through the webhook");
  await core.createNamespacedPod({
    namespace: "shop",
    body: {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "plain", namespace: "shop", annotations: { team: "a" } },
      spec: { containers: [{ name: "app", image: "busybox" }] },
    },
  });
  assert.ok(api.getObject("v1", "Pod", "shop", "plain"), "created");
  assert.equal(await admissionRequests(), afterDenial, "matchConditions kept it away from the webhook");
});

test("promtool check metrics accepts the real /metrics of the webhook and the agent", async () => {
  for (const [what, port] of [
    ["webhook", webhook.metricsPort],
    ["agent", agent.metricsPort],
  ] as const) {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(
      text,
      /^hookguard_build_info\{version="0\.1\.0"\} 1$/m,
      `${what} exports hookguard_build_info`,
    );
    const r = await promtool(["check", "metrics"], { input: text });
    assert.equal(r.code, 0, `${what}: promtool check metrics:\n${r.stdout}${r.stderr}`);
  }
});
