// The webhook and agent Deployments, Services, PDB and storage: what a user relies on at install time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { findOne, renderChart } from "./render.js";
import { caBundle } from "./cases.js";

const webhookName = "hookguard-webhook";
const agentName = "hookguard-agent";

/** The value following `flag` in args, or undefined; asserts a flag appears at most once. */
function flagValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  assert.ok(args.indexOf(flag, i + 1) < 0, `${flag} passed twice`);
  return i < 0 ? undefined : args[i + 1];
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

test("webhook: two replicas spread by preferred anti-affinity, readiness over HTTPS, liveness on the metrics port", async () => {
  const docs = await renderChart();
  const dep = findOne(docs, "Deployment", webhookName);
  assert.equal(dep.spec.replicas, 2);
  const pod = dep.spec.template.spec;
  const term =
    pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
  assert.equal(term.topologyKey, "kubernetes.io/hostname");
  assert.ok(
    matches(term.labelSelector.matchLabels, dep.spec.template.metadata.labels),
    "anti-affinity selects the webhook's own pods",
  );
  assert.equal(
    pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution,
    undefined,
    "preferred, not required",
  );
  const c = pod.containers[0];
  const httpsPort = c.ports.find((p: any) => p.name === "https");
  assert.equal(httpsPort.containerPort, 9443);
  assert.deepEqual(c.readinessProbe.httpGet, { path: "/readyz", port: "https", scheme: "HTTPS" });
  // a connection flood at the cap must not fail liveness and get a healthy pod restarted
  assert.deepEqual(c.livenessProbe.httpGet, { path: "/healthz", port: "metrics", scheme: "HTTP" });
  assert.equal(c.ports.find((p: any) => p.name === "metrics").containerPort, 8080);
  assert.equal(dep.spec.strategy.rollingUpdate.maxUnavailable, 0);

  const args: string[] = c.args;
  assert.equal(args[0], "webhook");
  assert.equal(flagValue(args, "--port"), "9443");
  assert.equal(flagValue(args, "--metrics-port"), "8080");
  assert.equal(flagValue(args, "--max-connections"), "1000");
  assert.equal(flagValue(args, "--cert-dir"), "/certs");
  assert.equal(flagValue(args, "--host"), "0.0.0.0");
  assert.equal(flagValue(args, "--dns-name"), "hookguard-webhook.hookguard.svc");
  assert.equal(flagValue(args, "--log-level"), "info");
  assert.equal(flagValue(args, "--enforcement"), "deny");
  assert.ok(!args.includes("--no-require-exec-permission"), "exec-permission check on by default");
  assert.ok(!args.includes("--mutate-all"), "mutation is per namespace by default");

  const pdb = findOne(docs, "PodDisruptionBudget", webhookName);
  assert.equal(pdb.spec.minAvailable, 1);
  assert.ok(matches(pdb.spec.selector.matchLabels, dep.spec.template.metadata.labels));
  assert.ok(
    !matches(
      pdb.spec.selector.matchLabels,
      findOne(docs, "Deployment", agentName).spec.template.metadata.labels,
    ),
    "PDB does not cover the agent",
  );

  const svc = findOne(docs, "Service", webhookName);
  assert.ok(matches(svc.spec.selector, dep.spec.template.metadata.labels));
  assert.deepEqual(
    svc.spec.ports.find((p: any) => p.name === "https"),
    { name: "https", port: 443, targetPort: "https", protocol: "TCP" },
  );
  assert.equal(svc.spec.ports.find((p: any) => p.name === "metrics").targetPort, "metrics");
  assert.equal(dep.spec.template.spec.serviceAccountName, "hookguard-webhook");
});

test("webhook flags and cert volume follow the certificate mode", async () => {
  const managed = findOne(await renderChart(), "Deployment", webhookName).spec.template.spec;
  let args: string[] = managed.containers[0].args;
  assert.ok(args.includes("--manage-certs"));
  assert.equal(flagValue(args, "--secret"), "hookguard-webhook-tls");
  assert.equal(flagValue(args, "--secret-namespace"), "hookguard");
  assert.equal(flagValue(args, "--webhook-config"), "hookguard", "names the chart's webhook configurations");
  assert.ok(
    managed.volumes.find((v: any) => v.name === "certs").emptyDir,
    "managed: the webhook writes its pair to a writable emptyDir",
  );
  assert.equal(managed.containers[0].volumeMounts.find((m: any) => m.name === "certs").readOnly, false);

  const cmDocs = await renderChart({ certificates: { mode: "certManager" } });
  const cm = findOne(cmDocs, "Deployment", webhookName).spec.template.spec;
  args = cm.containers[0].args;
  assert.ok(!args.includes("--manage-certs") && !args.includes("--secret"));
  const cert = findOne(cmDocs, "Certificate");
  assert.equal(cm.volumes.find((v: any) => v.name === "certs").secret.secretName, cert.spec.secretName);
  assert.ok(cert.spec.dnsNames.includes("hookguard-webhook.hookguard.svc"));
  assert.equal(cert.spec.privateKey.algorithm, "RSA", "node-forge reads the certificate: RSA only");
  const issuer = findOne(cmDocs, "Issuer");
  assert.deepEqual(issuer.spec, { selfSigned: {} });
  assert.deepEqual(cert.spec.issuerRef, {
    group: "cert-manager.io",
    kind: "Issuer",
    name: issuer.metadata.name,
  });

  const ci = await renderChart({
    certificates: {
      mode: "certManager",
      certManager: { issuerRef: { kind: "ClusterIssuer", name: "corp-ca" } },
    },
  });
  assert.equal(
    ci.filter((d) => d.kind === "Issuer").length,
    0,
    "an existing issuer replaces the self-signed one",
  );
  assert.deepEqual(findOne(ci, "Certificate").spec.issuerRef, {
    group: "cert-manager.io",
    kind: "ClusterIssuer",
    name: "corp-ca",
  });

  const pr = findOne(
    await renderChart({ certificates: { mode: "provided", secretName: "mine", provided: { caBundle } } }),
    "Deployment",
    webhookName,
  ).spec.template.spec;
  assert.equal(pr.volumes.find((v: any) => v.name === "certs").secret.secretName, "mine");
  assert.ok(!pr.containers[0].args.includes("--manage-certs"));
  assert.equal(pr.containers[0].volumeMounts.find((m: any) => m.name === "certs").readOnly, true);
});

test("webhook toggles map to their flags", async () => {
  const args: string[] = findOne(
    await renderChart({
      webhook: {
        requireExecPermission: false,
        mutating: { global: true },
        port: 10443,
        metricsPort: 9090,
        maxConnections: 250,
        extraArgs: ["--x"],
      },
      logLevel: "debug",
    }),
    "Deployment",
    webhookName,
  ).spec.template.spec.containers[0].args;
  assert.ok(args.includes("--no-require-exec-permission"));
  assert.ok(args.includes("--mutate-all"));
  assert.equal(flagValue(args, "--port"), "10443");
  assert.equal(flagValue(args, "--metrics-port"), "9090");
  assert.equal(flagValue(args, "--max-connections"), "250");
  assert.equal(flagValue(args, "--log-level"), "debug");
  const warn: string[] = findOne(
    await renderChart({ webhook: { enforcement: "warn" } }),
    "Deployment",
    webhookName,
  ).spec.template.spec.containers[0].args;
  assert.equal(flagValue(warn, "--enforcement"), "warn");
  assert.equal(args.at(-1), "--x");
});

test("agent (companion, the default): no storage volume, no PVC, no --storage-dir", async () => {
  for (const storage of [{}, { type: "existingClaim", existingClaim: "backups" }, { type: "emptyDir" }]) {
    const docs = await renderChart({ agent: { storage } });
    const pod = findOne(docs, "Deployment", agentName).spec.template.spec;
    assert.ok(!docs.some((d) => d.kind === "PersistentVolumeClaim"), JSON.stringify(storage));
    assert.deepEqual(
      pod.volumes.map((v: any) => v.name),
      ["tmp"],
    );
    assert.deepEqual(
      pod.containers[0].volumeMounts.map((m: any) => m.mountPath),
      ["/tmp"],
    );
    assert.ok(!pod.containers[0].args.includes("--storage-dir"));
    assert.ok(!pod.containers[0].args.includes("--results-port"));
    assert.ok(!docs.some((d) => d.kind === "Service" && d.metadata.name === `${agentName}-results`));
    assert.deepEqual(
      pod.containers[0].ports.map((p: any) => p.name),
      ["metrics"],
    );
    assert.equal(findOne(docs, "Deployment", agentName).spec.strategy, undefined, "no volume to hand over");
  }
});

test("agent (standalone): two replicas with leader election, metrics Service, storage mounted at --storage-dir", async () => {
  const docs = await renderChart({ agent: { mode: "standalone" } });
  const dep = findOne(docs, "Deployment", agentName);
  assert.equal(dep.spec.replicas, 2);
  const pod = dep.spec.template.spec;
  const c = pod.containers[0];
  const args: string[] = c.args;
  assert.equal(args[0], "agent");
  assert.ok(args.includes("--leader-elect") && !args.includes("--no-leader-elect"));
  assert.equal(flagValue(args, "--lease-name"), "hookguard-agent");
  assert.equal(flagValue(args, "--namespace"), "velero");
  assert.equal(flagValue(args, "--metrics-port"), "8081");
  assert.equal(flagValue(args, "--workers"), "4");
  assert.equal(flagValue(args, "--max-freeze-window"), "10m");
  assert.equal(flagValue(args, "--snapshot-timeout"), "5m");
  assert.equal(flagValue(args, "--volume-snapshot-class"), undefined);
  assert.ok(!args.includes("--parallel-hooks"));
  const storageDir = flagValue(args, "--storage-dir");
  assert.equal(storageDir, "/var/lib/hookguard");
  const mount = c.volumeMounts.find((m: any) => m.mountPath === storageDir);
  const vol = pod.volumes.find((v: any) => v.name === mount.name);
  const pvc = findOne(docs, "PersistentVolumeClaim");
  assert.equal(vol.persistentVolumeClaim.claimName, pvc.metadata.name);
  // shared storage: a new leader on another node reads what the old one wrote
  assert.deepEqual(pvc.spec.accessModes, ["ReadWriteMany"]);
  assert.equal(pvc.spec.resources.requests.storage, "10Gi");
  assert.equal(pvc.metadata.annotations["helm.sh/resource-policy"], "keep", "archives outlive an uninstall");

  // the stored files, for the CLI through the API server's service proxy: found by this label
  const results = findOne(docs, "Service", `${agentName}-results`);
  assert.equal(results.metadata.labels["app.kubernetes.io/component"], "agent-results");
  assert.ok(matches(results.spec.selector, dep.spec.template.metadata.labels));
  assert.deepEqual(results.spec.ports, [
    { name: "https-results", port: 8443, targetPort: "results", protocol: "TCP" },
  ]);
  assert.equal(flagValue(args, "--results-port"), "8443");
  assert.deepEqual(
    c.ports.find((p: any) => p.name === "results"),
    { name: "results", containerPort: 8443, protocol: "TCP" },
  );

  const svc = findOne(docs, "Service", `${agentName}-metrics`);
  assert.ok(matches(svc.spec.selector, dep.spec.template.metadata.labels));
  assert.deepEqual(svc.spec.ports, [{ name: "metrics", port: 8081, targetPort: "metrics", protocol: "TCP" }]);
  assert.equal(c.ports[0].containerPort, 8081);
  assert.equal(pod.serviceAccountName, "hookguard-agent");
  assert.notEqual(
    pod.serviceAccountName,
    findOne(docs, "Deployment", webhookName).spec.template.spec.serviceAccountName,
    "separate ServiceAccounts",
  );
});

test("agent toggles: snapshots, parallel hooks, selector, no leader election, other storage", async () => {
  const docs = await renderChart({
    agent: {
      mode: "standalone",
      replicas: 1,
      volumeSnapshotClass: "csi",
      parallelHooks: true,
      backupSelector: "team=payments",
      workers: 16,
      leaderElection: { enabled: false },
      storage: { type: "emptyDir", mountPath: "/data" },
    },
  });
  const pod = findOne(docs, "Deployment", agentName).spec.template.spec;
  const args: string[] = pod.containers[0].args;
  assert.equal(flagValue(args, "--volume-snapshot-class"), "csi");
  assert.ok(args.includes("--parallel-hooks"));
  assert.equal(flagValue(args, "--backup-selector"), "team=payments");
  assert.equal(flagValue(args, "--workers"), "16");
  assert.ok(args.includes("--no-leader-elect") && !args.includes("--leader-elect"));
  assert.equal(flagValue(args, "--lease-name"), undefined);
  assert.equal(flagValue(args, "--storage-dir"), "/data");
  const mount = pod.containers[0].volumeMounts.find((m: any) => m.mountPath === "/data");
  assert.ok(pod.volumes.find((v: any) => v.name === mount.name).emptyDir);
  assert.ok(pod.affinity.podAntiAffinity, "no shared volume: spread the replicas");
  assert.ok(
    !docs
      .filter((d) => d.kind === "Role")
      .some((r) => r.rules.some((x: any) => x.resources.includes("leases"))),
    "no Lease rights without leader election",
  );

  const ex = findOne(
    await renderChart({
      agent: {
        mode: "standalone",
        storage: { type: "existingClaim", existingClaim: "backups", accessModes: ["ReadWriteMany"] },
      },
    }),
    "Deployment",
    agentName,
  ).spec.template.spec;
  assert.equal(ex.volumes.find((v: any) => v.name === "storage").persistentVolumeClaim.claimName, "backups");
  assert.ok(
    ex.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution,
    "RWX: replicas spread over nodes",
  );
});

test("NetworkPolicy admits the API server to the webhook port and only Prometheus to metrics ports", async () => {
  const docs = await renderChart({ networkPolicy: { enabled: true, apiServerCidrs: ["10.0.0.0/24"] } });
  const wh = findOne(docs, "NetworkPolicy", webhookName);
  assert.deepEqual(wh.spec.policyTypes, ["Ingress"]);
  const [api, metrics] = wh.spec.ingress;
  assert.deepEqual(api.ports, [{ port: 9443, protocol: "TCP" }]);
  assert.deepEqual(api.from, [{ ipBlock: { cidr: "10.0.0.0/24" } }]);
  assert.deepEqual(metrics.ports, [{ port: 8080, protocol: "TCP" }]);
  assert.deepEqual(metrics.from[0].podSelector, { matchLabels: { "app.kubernetes.io/name": "prometheus" } });
  const ag = findOne(docs, "NetworkPolicy", agentName);
  assert.equal(ag.spec.ingress.length, 1);
  assert.deepEqual(ag.spec.ingress[0].ports, [{ port: 8081, protocol: "TCP" }]);
  assert.ok(ag.spec.ingress[0].from[0].podSelector);

  // standalone: the stored-files port admits the API server (its service proxy) and nothing else
  const standalone = await renderChart({
    agent: { mode: "standalone" },
    networkPolicy: { enabled: true, apiServerCidrs: ["10.0.0.0/24"] },
  });
  const sag = findOne(standalone, "NetworkPolicy", agentName);
  assert.equal(sag.spec.ingress.length, 2);
  assert.deepEqual(sag.spec.ingress[1].ports, [{ port: 8443, protocol: "TCP" }]);
  assert.deepEqual(sag.spec.ingress[1].from, [{ ipBlock: { cidr: "10.0.0.0/24" } }]);
});

test("ServiceMonitor scrapes both metrics ports and keeps the hooked pod's namespace label", async () => {
  const docs = await renderChart({
    metrics: { serviceMonitor: { enabled: true, labels: { release: "kps" } } },
  });
  const sm = findOne(docs, "ServiceMonitor");
  assert.equal(sm.metadata.labels.release, "kps");
  assert.deepEqual(
    sm.spec.endpoints.map((e: any) => [e.port, e.path, e.honorLabels]),
    [["metrics", "/metrics", true]],
  );
  const comps = sm.spec.selector.matchExpressions.find(
    (e: any) => e.key === "app.kubernetes.io/component",
  ).values;
  for (const svc of docs.filter((d) => d.kind === "Service")) {
    assert.ok(
      comps.includes(svc.metadata.labels["app.kubernetes.io/component"]),
      `${svc.metadata.name} selected`,
    );
    assert.ok(
      svc.spec.ports.some((p: any) => p.name === "metrics"),
      `${svc.metadata.name} has a metrics port`,
    );
  }
});

test("the webhook gets a service-account token only when it calls the API server", async () => {
  const token = async (values: object) =>
    findOne(await renderChart(values), "Deployment", webhookName).spec.template.spec
      .automountServiceAccountToken;
  assert.equal(await token({}), true);
  assert.equal(await token({ certificates: { mode: "certManager" } }), true, "SubjectAccessReviews");
  assert.equal(await token({ webhook: { requireExecPermission: false } }), true, "managed certificates");
  assert.equal(
    await token({ certificates: { mode: "certManager" }, webhook: { requireExecPermission: false } }),
    false,
  );
});
