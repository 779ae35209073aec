// A realistic AdmissionReview: a CREATE of a ~3 KB database Pod with pre and post backup hooks, as
// kube-apiserver sends it (managed fields trimmed, service-account volume included).
export function benchReview(): string {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "orders-db-0",
      generateName: "orders-db-",
      namespace: "shop",
      uid: "6c1f4a57-3f0e-4c59-9d1e-5b0f3b1a2c01",
      labels: {
        app: "orders-db",
        "app.kubernetes.io/part-of": "shop",
        "controller-revision-hash": "orders-db-7d9c5b6f8",
        "statefulset.kubernetes.io/pod-name": "orders-db-0",
      },
      annotations: {
        "pre.hook.backup.velero.io/container": "postgres",
        "pre.hook.backup.velero.io/command":
          '["/bin/bash","-c","psql -U postgres -c \\"CHECKPOINT;\\" && sync"]',
        "pre.hook.backup.velero.io/on-error": "Fail",
        "pre.hook.backup.velero.io/timeout": "2m",
        "post.hook.backup.velero.io/container": "postgres",
        "post.hook.backup.velero.io/command": '["/bin/true"]',
        "post.hook.backup.velero.io/timeout": "30s",
        "kubectl.kubernetes.io/default-container": "postgres",
      },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "StatefulSet",
          name: "orders-db",
          uid: "0e3b6a2c-1f4d-4b8e-9a7c-2d5e6f7a8b9c",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      containers: [
        {
          name: "postgres",
          image: "docker.io/library/postgres:16.4",
          ports: [{ name: "pg", containerPort: 5432, protocol: "TCP" }],
          env: [
            { name: "POSTGRES_DB", value: "orders" },
            { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
            {
              name: "POSTGRES_PASSWORD",
              valueFrom: { secretKeyRef: { name: "orders-db", key: "password" } },
            },
          ],
          resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "2Gi" } },
          volumeMounts: [
            { name: "data", mountPath: "/var/lib/postgresql/data" },
            {
              name: "kube-api-access-x7k2p",
              readOnly: true,
              mountPath: "/var/run/secrets/kubernetes.io/serviceaccount",
            },
          ],
          readinessProbe: {
            exec: { command: ["pg_isready", "-U", "postgres"] },
            periodSeconds: 10,
            timeoutSeconds: 1,
            successThreshold: 1,
            failureThreshold: 3,
          },
          terminationMessagePath: "/dev/termination-log",
          terminationMessagePolicy: "File",
          imagePullPolicy: "IfNotPresent",
          securityContext: { runAsUser: 999, runAsNonRoot: true, allowPrivilegeEscalation: false },
        },
      ],
      volumes: [
        { name: "data", persistentVolumeClaim: { claimName: "data-orders-db-0" } },
        {
          name: "kube-api-access-x7k2p",
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
              { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
              {
                downwardAPI: {
                  items: [
                    { path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } },
                  ],
                },
              },
            ],
            defaultMode: 420,
          },
        },
      ],
      restartPolicy: "Always",
      terminationGracePeriodSeconds: 30,
      dnsPolicy: "ClusterFirst",
      serviceAccountName: "default",
      hostname: "orders-db-0",
      subdomain: "orders-db",
      securityContext: { fsGroup: 999 },
      schedulerName: "default-scheduler",
      tolerations: [
        {
          key: "node.kubernetes.io/not-ready",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 300,
        },
        {
          key: "node.kubernetes.io/unreachable",
          operator: "Exists",
          effect: "NoExecute",
          tolerationSeconds: 300,
        },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: "PreemptLowerPriority",
    },
    status: { phase: "Pending", qosClass: "Burstable" },
  };
  return JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "f0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      requestKind: { group: "", version: "v1", kind: "Pod" },
      requestResource: { group: "", version: "v1", resource: "pods" },
      name: "orders-db-0",
      namespace: "shop",
      operation: "CREATE",
      userInfo: {
        username: "system:serviceaccount:kube-system:statefulset-controller",
        uid: "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
        groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
      },
      object: pod,
      oldObject: null,
      dryRun: false,
      options: { kind: "CreateOptions", apiVersion: "meta.k8s.io/v1" },
    },
  });
}
