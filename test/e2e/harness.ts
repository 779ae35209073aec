// The end-to-end setup shared by test/e2e: the API-server double, the real `hookguard webhook` process
// (spawned from bin/hookguard.js, dev certificates, cluster access through the double as the chart's
// webhook ServiceAccount, so its exec-permission check is on), the chart's own webhook configurations
// re-pointed at that process and registered with the real kubectl, and kubectl users that share one
// kubeconfig so tests can say `kubectl --user alice ...` like a person would.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { Kubectl, type KubectlResult } from "../apiserver-double/helpers.js";
import { kubeconfigYaml, writeKubeconfig } from "../apiserver/kubeconfig.js";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { serviceAccountUser } from "../chart/rbac-policy.js";
import { startWebhookProcess, type RunningWebhookProcess } from "../observability/live-harness.js";
import { webhookConfigurationsYaml } from "./webhook-configs.js";

export { eventually } from "../observability/live-harness.js";

export type { KubectlResult };

/** The identity the webhook talks to the API server with: the chart's webhook ServiceAccount. */
export const WEBHOOK_USER = serviceAccountUser("hookguard", "hookguard-webhook");

export interface E2eOptions {
  /** Namespaces created at start (besides default, kube-system, kube-public and velero). */
  namespaces?: string[];
  /** Extra users (name → groups) added to the shared kubeconfig, for `kubectl --user NAME`. */
  users?: Record<string, string[]>;
  /** Extra `hookguard webhook` flags. */
  webhookArgs?: string[];
  /** Run the double's Deployment and ReplicaSet controllers (test/apiserver/workload-controllers.ts). */
  workloadControllers?: boolean;
  /** Chart values the registered webhook configurations are rendered with (e.g. webhook.exemptUsers). */
  chartValues?: object;
}

export interface E2e {
  api: ApiServerHandle;
  webhook: RunningWebhookProcess;
  /**
   * Runs the real kubectl (async, own cache dir and HOME) with a kubeconfig holding admin (the current
   * context) and the extra users; `args` exactly as typed after `kubectl`.
   */
  run(...args: string[]): Promise<KubectlResult>;
  /** Writes a manifest file for `kubectl apply -f` (kubectl's messages name the file). */
  manifest(name: string, text: string): string;
  /** `kubectl get KIND NAME -o json`, parsed; throws with kubectl's stderr when it fails. */
  getJson(kind: string, name: string, namespace?: string): Promise<any>;
  /** Sum of the samples of `metric` whose labels include all of `labels` (0 when none). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** The webhook's structured "admission request" log records so far (no object bodies in them). */
  admissionLogs(): any[];
  stop(): Promise<void>;
}

export async function startE2e(opts: E2eOptions = {}): Promise<E2e> {
  const dir = await mkdtemp(join(tmpdir(), "hookguard-e2e-"));
  const api = await startApiServer({
    namespaces: ["hookguard", ...(opts.namespaces ?? [])],
    workloadControllers: opts.workloadControllers === true,
  });
  let webhook: RunningWebhookProcess | undefined;
  let kubectl: Kubectl | undefined;
  try {
    const webhookAccount = api.addUser(WEBHOOK_USER, [
      "system:serviceaccounts",
      "system:serviceaccounts:hookguard",
    ]);
    const users = [{ name: "admin", token: api.adminToken }];
    for (const [name, groups] of Object.entries(opts.users ?? {}))
      users.push({ name, token: api.addUser(name, groups).token });
    const kubeconfig = writeKubeconfig(dir, "kubeconfig", kubeconfigYaml(api.url, api.caPem, users, "admin"));

    const certDir = join(dir, "certs");
    webhook = await startWebhookProcess(
      [
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--metrics-port",
        "0",
        "--cert-dir",
        certDir,
        "--kubeconfig",
        webhookAccount.kubeconfigPath,
        ...(opts.webhookArgs ?? []),
      ],
      certDir,
    );
    kubectl = new Kubectl(kubeconfig);
    const k = kubectl;
    // Registered the way a person would: the chart's configurations, applied with kubectl.
    const configs = await webhookConfigurationsYaml(
      { url: `https://127.0.0.1:${webhook.port}`, caPem: webhook.caPem },
      opts.chartValues,
    );
    const registered = await k.run(["apply", "-f", k.manifest("webhook-configurations.yaml", configs)]);
    if (registered.code !== 0)
      throw new Error(`registering the chart's webhook configurations failed: ${registered.stderr}`);

    const wh = webhook;
    const run = (...args: string[]) => k.run(args);
    return {
      api,
      webhook: wh,
      run,
      manifest: (name, text) => k.manifest(name, text),
      async getJson(kind, name, namespace) {
        const r = await run("get", kind, name, "-o", "json", ...(namespace ? ["-n", namespace] : []));
        if (r.code !== 0) throw new Error(`kubectl get ${kind} ${name} failed (${r.code}): ${r.stderr}`);
        return JSON.parse(r.stdout);
      },
      async metric(name, labels = {}) {
        const res = await fetch(`http://127.0.0.1:${wh.metricsPort}/metrics`);
        return sumSamples(await res.text(), name, labels);
      },
      admissionLogs: () => parseLogs(wh.output()).filter((r) => r.msg === "admission request"),
      async stop() {
        await wh.stop();
        await api.stop();
        k.cleanup();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await webhook?.stop();
    await api.stop();
    kubectl?.cleanup();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Sums the Prometheus text-format samples of `name` whose labels include `labels`. */
export function sumSamples(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map<string, string>();
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) have.set(l[1]!, l[2]!);
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}

function parseLogs(output: string): any[] {
  const out: any[] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // a line cut at the end of the buffer; the next call sees it whole
    }
  }
  return out;
}

/** A Pod manifest (YAML) in `namespace` with the given annotations and containers. */
export function podYaml(
  name: string,
  annotations: Record<string, string>,
  opts: { namespace?: string; containers?: string[]; image?: string } = {},
): string {
  return stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: {
      containers: (opts.containers ?? ["app"]).map((c) => ({ name: c, image: opts.image ?? "busybox:1.36" })),
    },
  });
}

/** A Deployment manifest (YAML) whose pod template carries `annotations`. */
export function deploymentYaml(
  name: string,
  annotations: Record<string, string>,
  namespace?: string,
): string {
  return stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, ...(namespace ? { namespace } : {}) },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
        spec: { containers: [{ name: "app", image: "busybox:1.36" }] },
      },
    },
  });
}
