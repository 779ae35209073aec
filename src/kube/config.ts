// Loading cluster access. The only place that decides where credentials come from.
import { KubeConfig } from "@kubernetes/client-node";
import { existsSync } from "node:fs";

export interface ClusterAccess {
  kc: KubeConfig;
  /** "in-cluster" or the kubeconfig path that was loaded */
  source: string;
}

/**
 * Explicit `--kubeconfig` wins, then $KUBECONFIG, then the in-cluster service account. Returns
 * undefined when none is available (e.g. `npm start` on a laptop), so callers can degrade clearly.
 */
export function loadClusterAccess(kubeconfigPath?: string, env: NodeJS.ProcessEnv = process.env): ClusterAccess | undefined {
  const kc = new KubeConfig();
  const path = kubeconfigPath ?? env.KUBECONFIG;
  if (path) {
    if (!existsSync(path)) throw new Error(`kubeconfig ${path} does not exist`);
    kc.loadFromFile(path);
    if (!kc.getCurrentCluster()) throw new Error(`kubeconfig ${path} has no current cluster`);
    return { kc, source: path };
  }
  if (env.KUBERNETES_SERVICE_HOST && existsSync("/var/run/secrets/kubernetes.io/serviceaccount/token")) {
    kc.loadFromCluster();
    return { kc, source: "in-cluster" };
  }
  return undefined;
}

/** Whether the process runs inside a pod (used for in-cluster defaults such as leader election). */
export function runningInCluster(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.KUBERNETES_SERVICE_HOST);
}
