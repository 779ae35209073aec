// Loading cluster access. The only place that decides where credentials come from, with kubectl's
// rules (client-go's loading rules), so `hookguard` reaches whatever cluster `kubectl` reaches:
//   1. `--kubeconfig PATH` (one file; it must exist);
//   2. $KUBECONFIG, a ':'-separated list of files, merged: files that do not exist are skipped, the
//      first file to define a cluster, user or context by name wins, and current-context comes from
//      the first file that sets one;
//   3. ~/.kube/config;
//   4. the pod's service account (in-cluster).
// `--context NAME` then picks a context other than current-context. client-node's own
// loadFromDefault differs (later files win current-context, duplicate names throw), hence this file.
import { KubeConfig, type Cluster, type Context, type User } from "@kubernetes/client-node";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";

export interface ClusterTarget {
  kubeconfig?: string;
  context?: string;
}

export interface ClusterAccess {
  kc: KubeConfig;
  /** "in-cluster" or the kubeconfig file(s) that were loaded */
  source: string;
  /** the context in use */
  context: string;
  /** the API server's URL */
  server: string;
}

/** A kubeconfig that cannot be used (unreadable, not YAML, unknown context): the message names the file. */
export class KubeconfigError extends Error {}

/**
 * Returns undefined when no kubeconfig and no service account is available (e.g. `npm start` on a
 * laptop), so callers can degrade clearly; throws KubeconfigError for a kubeconfig that is broken.
 */
export function loadClusterAccess(
  target: ClusterTarget = {},
  env: NodeJS.ProcessEnv = process.env,
): ClusterAccess | undefined {
  let files: string[];
  if (target.kubeconfig) {
    if (!existsSync(target.kubeconfig))
      throw new KubeconfigError(`stat ${target.kubeconfig}: no such file or directory`);
    files = [target.kubeconfig];
  } else if (env.KUBECONFIG) {
    files = env.KUBECONFIG.split(delimiter).filter((f) => f !== "" && existsSync(f));
  } else {
    const home = env.HOME || homedir();
    const file = join(home, ".kube", "config");
    files = existsSync(file) ? [file] : [];
  }
  let kc: KubeConfig;
  let source: string;
  if (files.length > 0) {
    kc = mergeKubeconfigs(files);
    source = files.join(delimiter);
  } else if (
    env.KUBERNETES_SERVICE_HOST &&
    existsSync("/var/run/secrets/kubernetes.io/serviceaccount/token")
  ) {
    kc = new KubeConfig();
    kc.loadFromCluster();
    source = "in-cluster";
  } else {
    return undefined;
  }
  const known = (): string =>
    kc
      .getContexts()
      .map((c) => c.name)
      .join(", ") || "no contexts";
  if (target.context !== undefined) {
    if (!kc.getContextObject(target.context))
      throw new KubeconfigError(`context "${target.context}" does not exist in ${source}; it has ${known()}`);
    kc.setCurrentContext(target.context);
  }
  const context = kc.getCurrentContext();
  if (!context)
    throw new KubeconfigError(`${source} sets no current-context; pass --context (it has ${known()})`);
  if (!kc.getContextObject(context))
    throw new KubeconfigError(`current-context "${context}" does not exist in ${source}; it has ${known()}`);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeconfigError(`context "${context}" names a cluster that is not in ${source}`);
  return { kc, source, context, server: cluster.server };
}

function loadFile(file: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file); // also resolves relative certificate paths against the file's directory
  } catch (err) {
    throw new KubeconfigError(`error loading config file "${file}": ${firstLine(err)}`);
  }
  return kc;
}

function mergeKubeconfigs(files: string[]): KubeConfig {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let currentContext = "";
  for (const file of files) {
    const one = loadFile(file);
    for (const c of one.getClusters()) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of one.getUsers()) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of one.getContexts()) if (!contexts.has(c.name)) contexts.set(c.name, c);
    if (!currentContext && one.getCurrentContext()) currentContext = one.getCurrentContext();
  }
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext,
  });
  return kc;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0]!.trim();
}

/** Whether the process runs inside a pod (used for in-cluster defaults such as leader election). */
export function runningInCluster(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.KUBERNETES_SERVICE_HOST);
}

/** One line for verbose output and startup logs: which context and API server a command talks to. */
export function describeAccess(access: ClusterAccess): string {
  return `context "${access.context}" (server ${access.server}, from ${access.source})`;
}
