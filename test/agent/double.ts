// Shared set-up for agent tests against the API-server double: the nginx fsfreeze example from
// examples/ (its Deployment's pod template as a Pod, since the double runs no controller-manager),
// a bound PV, and helpers to wait for a Backup's phase and to read the fsfreeze stand-in's log.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { KubeConfig } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { startAgent, type RunningAgent } from "../../src/cli/agent-main.js";
import { buildAgentConfig } from "../../src/agent/runtime/config.js";
import { silentLogger } from "../../src/log.js";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";

export const ROOT = join(fileURLToPath(import.meta.url), "../../..");

export async function startDouble(opts: Parameters<typeof startApiServer>[0] = {}): Promise<ApiServerHandle> {
  return startApiServer({ namespaces: ["nginx-example"], ...opts });
}

/**
 * The agent in this process against the double, configured through the CLI's own flag parser:
 * 4 workers, a 1m freeze window, the double's snapshot class, no leader election, silent logs.
 */
export async function startTestAgent(
  api: ApiServerHandle,
  storageDir: string,
  identity: string,
): Promise<RunningAgent> {
  const cfg = buildAgentConfig(
    {
      mode: "standalone",
      namespace: "velero",
      metricsPort: "0",
      metricsBindAddress: "127.0.0.1",
      storageDir,
      workers: "4",
      maxFreezeWindow: "1m",
      snapshotTimeout: "30s",
      volumeSnapshotClass: "csi-snapclass",
      leaderElect: false,
      leaseName: "hookguard-agent",
      logLevel: "silent",
      identity,
    },
    {},
    false,
  );
  assert.ok(cfg.ok);
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  return startAgent(cfg.value, kc, silentLogger());
}

/** Creates the nginx fsfreeze example (PVC bound to a PV, pod from the Deployment template). */
export function applyNginxExample(api: ApiServerHandle, podName = "nginx-deployment-7d9c5-abcde"): void {
  const docs = parseAllDocuments(readFileSync(join(ROOT, "examples/nginx-fsfreeze.yaml"), "utf8")).map((d) =>
    d.toJSON(),
  );
  const pvc = docs.find((d) => d.kind === "PersistentVolumeClaim");
  const deploy = docs.find((d) => d.kind === "Deployment");
  api.createObject({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: "pv-nginx-logs" },
    spec: {
      capacity: { storage: "50Mi" },
      accessModes: ["ReadWriteOnce"],
      claimRef: { namespace: "nginx-example", name: "nginx-logs" },
    },
    status: { phase: "Bound" },
  });
  api.createObject({
    ...pvc,
    spec: { ...pvc.spec, volumeName: "pv-nginx-logs" },
    status: { phase: "Bound" },
  });
  const template = deploy.spec.template;
  api.createObject({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { ...template.metadata, name: podName, namespace: "nginx-example" },
    spec: template.spec,
  });
}

export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 60_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function backupPhase(api: ApiServerHandle, name: string): string | undefined {
  return api.getObject("velero.io/v1", "Backup", "velero", name)?.status?.phase;
}

export async function waitForPodRunning(
  api: ApiServerHandle,
  namespace: string,
  name: string,
): Promise<void> {
  await waitFor(
    `pod ${namespace}/${name} Running`,
    () => api.getObject("v1", "Pod", namespace, name)?.status?.phase === "Running" || undefined,
  );
}

export function newBackup(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: "velero.io/v1", kind: "Backup", metadata: { name, namespace: "velero" }, spec };
}
