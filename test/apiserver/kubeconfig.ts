// A kubeconfig for the double: one cluster (CA inline), one user per token, one context per user.
// Every context names a user: client-node ignores the cluster CA for a context without one.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";

export interface KubeconfigUser {
  name: string;
  token: string;
}

export function kubeconfigYaml(
  url: string,
  caPem: string,
  users: KubeconfigUser[],
  currentUser: string,
  namespace = "default",
): string {
  const cluster = "hookguard-double";
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: cluster,
        cluster: { server: url, "certificate-authority-data": Buffer.from(caPem).toString("base64") },
      },
    ],
    users: users.map((u) => ({ name: u.name, user: { token: u.token } })),
    contexts: users.map((u) => ({ name: u.name, context: { cluster, user: u.name, namespace } })),
    "current-context": currentUser,
    preferences: {},
  };
  return stringify(doc);
}

export function writeKubeconfig(dir: string, fileName: string, yamlText: string): string {
  const path = join(dir, fileName);
  writeFileSync(path, yamlText, { mode: 0o600 });
  return path;
}
