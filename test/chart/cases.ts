// Named value sets covering each certificate mode and each feature toggle of the chart.
export const caPem = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUY2E=\n-----END CERTIFICATE-----\n";
export const caBundle = Buffer.from(caPem).toString("base64");

export const valueCases: Record<string, object> = {
  defaults: {},
  certManager: { certificates: { mode: "certManager" } },
  certManagerClusterIssuer: {
    certificates: {
      mode: "certManager",
      certManager: { issuerRef: { kind: "ClusterIssuer", name: "corp-ca" } },
    },
  },
  provided: { certificates: { mode: "provided", secretName: "my-webhook-tls", provided: { caBundle } } },
  allFeatures: {
    networkPolicy: { enabled: true, apiServerCidrs: ["10.0.0.0/24"] },
    metrics: {
      serviceMonitor: { enabled: true, labels: { release: "kube-prometheus" } },
      prometheusRule: { enabled: true },
      grafanaDashboard: { enabled: true, namespace: "monitoring" },
    },
    webhook: { mutating: { global: true }, requireExecPermission: false },
    agent: { volumeSnapshotClass: "csi-snapclass", parallelHooks: true, backupSelector: "team=payments" },
  },
  mutatingOff: { webhook: { mutating: { enabled: false } } },
  noLeaderElection: { agent: { replicas: 1, leaderElection: { enabled: false } } },
  standalone: { agent: { mode: "standalone" } },
  emptyDirStorage: { agent: { mode: "standalone", storage: { type: "emptyDir" } } },
  existingClaim: {
    agent: {
      mode: "standalone",
      storage: { type: "existingClaim", existingClaim: "backups", accessModes: ["ReadWriteMany"] },
    },
  },
  digestImage: { image: { digest: "sha256:" + "a".repeat(64) } },
  webhookOnly: {
    agent: { enabled: false },
    networkPolicy: { enabled: true },
    metrics: { serviceMonitor: { enabled: true } },
  },
  hostNetwork: { webhook: { hostNetwork: true, port: 10263, metricsPort: 10280, priorityClassName: "" } },
  whoIsValidated: {
    webhook: {
      exemptUsers: ["system:serviceaccount:velero:velero", "oidc:ci-bot@example.com"],
      exemptGroups: ["system:serviceaccounts:velero"],
      namespaceSelector: {
        matchLabels: { "hookguard.io/validate": "enabled" },
        matchExpressions: [{ key: "tier", operator: "NotIn", values: ["sandbox"] }],
      },
      objectSelector: { matchExpressions: [{ key: "hookguard.io/skip", operator: "DoesNotExist" }] },
      failOpen: true,
    },
  },
  singleAgentReadWriteOnce: {
    agent: { mode: "standalone", replicas: 1, storage: { accessModes: ["ReadWriteOnce"] } },
  },
};
