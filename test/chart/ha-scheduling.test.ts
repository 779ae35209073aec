// What an SRE checks before `helm install`: the agent survives a node (replicas never required on one
// node, storage every replica mounts, PodDisruptionBudgets), the webhook's priority and host network,
// `agent.enabled=false`, and the `helm test` Pod.
import { test } from "node:test";
import assert from "node:assert/strict";
import { findOne, helmTemplate, renderChart } from "./render.js";
import { caBundle, caPem } from "./cases.js";

const agentName = "hookguard-agent";
const webhookName = "hookguard-webhook";

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Every required (anti-)affinity term of a pod spec that selects the pod's own labels on one host. */
function requiredSameNode(pod: any, labels: Record<string, string>): any[] {
  const terms = pod.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  return terms.filter(
    (t: any) =>
      t.topologyKey === "kubernetes.io/hostname" && matches(t.labelSelector?.matchLabels ?? {}, labels),
  );
}

test("agent: the two replicas no longer require the same node, prefer different ones, and have a PDB", async () => {
  for (const values of [
    {},
    { agent: { storage: { type: "emptyDir" } } },
    {
      agent: { storage: { type: "existingClaim", existingClaim: "backups", accessModes: ["ReadWriteMany"] } },
    },
  ]) {
    const docs = await renderChart(values);
    const dep = findOne(docs, "Deployment", agentName);
    const pod = dep.spec.template.spec;
    const labels = dep.spec.template.metadata.labels;
    assert.equal(dep.spec.replicas, 2);
    assert.deepEqual(
      requiredSameNode(pod, labels),
      [],
      `no required co-location (${JSON.stringify(values)})`,
    );
    const spread =
      pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
    assert.equal(spread.topologyKey, "kubernetes.io/hostname");
    assert.ok(matches(spread.labelSelector.matchLabels, labels));
    assert.equal(
      pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution,
      undefined,
      "preferred: a one-node cluster still runs both",
    );
    assert.notEqual(dep.spec.strategy?.type, "Recreate", "two replicas roll one at a time");
    const pdb = findOne(docs, "PodDisruptionBudget", agentName);
    assert.equal(pdb.spec.minAvailable, 1);
    assert.ok(matches(pdb.spec.selector.matchLabels, labels), "the PDB covers the agent");
    assert.ok(
      !matches(
        pdb.spec.selector.matchLabels,
        findOne(docs, "Deployment", webhookName).spec.template.metadata.labels,
      ),
      "and not the webhook",
    );
  }
});

test("agent (standalone): ReadWriteOnce storage with two replicas is refused with what to change; one replica is allowed, recreated, without a PDB", async () => {
  const refused = await helmTemplate({
    agent: { mode: "standalone", storage: { accessModes: ["ReadWriteOnce"] } },
  });
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /agent\.replicas=2 needs storage every replica can mount/);
  assert.match(refused.stderr, /ReadWriteMany/);
  assert.match(refused.stderr, /agent\.replicas=1/);
  const existingRwo = await helmTemplate({
    agent: {
      mode: "standalone",
      storage: { type: "existingClaim", existingClaim: "b", accessModes: ["ReadWriteOnce"] },
    },
  });
  assert.notEqual(existingRwo.code, 0, "an existing ReadWriteOnce claim too");
  // companion mode stores nothing: its storage values do not matter
  const companion = await helmTemplate({ agent: { storage: { accessModes: ["ReadWriteOnce"] } } });
  assert.equal(companion.code, 0, companion.stderr);

  const docs = await renderChart({
    agent: { mode: "standalone", replicas: 1, storage: { accessModes: ["ReadWriteOnce"] } },
  });
  const dep = findOne(docs, "Deployment", agentName);
  assert.equal(
    dep.spec.strategy.type,
    "Recreate",
    "the old pod releases the volume before the new one mounts it",
  );
  assert.deepEqual(requiredSameNode(dep.spec.template.spec, dep.spec.template.metadata.labels), []);
  assert.ok(
    !docs.some((d) => d.kind === "PodDisruptionBudget" && d.metadata.name === agentName),
    "1 of 1 would block every drain",
  );
  assert.deepEqual(findOne(docs, "PersistentVolumeClaim").spec.accessModes, ["ReadWriteOnce"]);

  const off = await renderChart({ agent: { podDisruptionBudget: { enabled: false } } });
  assert.ok(!off.some((d) => d.kind === "PodDisruptionBudget" && d.metadata.name === agentName));
  const oneWebhook = await renderChart({ webhook: { replicas: 1 } });
  assert.ok(
    !oneWebhook.some((d) => d.kind === "PodDisruptionBudget" && d.metadata.name === webhookName),
    "no webhook PDB that blocks drains",
  );
});

test("webhook: system-cluster-critical by default; hostNetwork brings ClusterFirstWithHostNet and the configured ports", async () => {
  const pod = findOne(await renderChart(), "Deployment", webhookName).spec.template.spec;
  assert.equal(pod.priorityClassName, "system-cluster-critical");
  assert.equal(pod.hostNetwork, undefined);
  assert.equal(pod.dnsPolicy, undefined);
  assert.equal(
    findOne(await renderChart(), "Deployment", agentName).spec.template.spec.priorityClassName,
    undefined,
    "the agent is not cluster-critical",
  );
  assert.equal(
    findOne(await renderChart({ webhook: { priorityClassName: "" } }), "Deployment", webhookName).spec
      .template.spec.priorityClassName,
    undefined,
  );

  const docs = await renderChart({ webhook: { hostNetwork: true, port: 10250 + 13, metricsPort: 10280 } });
  const host = findOne(docs, "Deployment", webhookName).spec.template.spec;
  assert.equal(host.hostNetwork, true);
  assert.equal(host.dnsPolicy, "ClusterFirstWithHostNet", "cluster names still resolve");
  const c = host.containers[0];
  assert.equal(c.args[c.args.indexOf("--port") + 1], "10263");
  assert.equal(c.args[c.args.indexOf("--metrics-port") + 1], "10280");
  assert.equal(c.args[c.args.indexOf("--host") + 1], "0.0.0.0", "the chart binds every interface explicitly");
  assert.equal(c.ports.find((p: any) => p.name === "https").containerPort, 10263);
  assert.equal(
    findOne(docs, "Service", webhookName).spec.ports.find((p: any) => p.name === "https").targetPort,
    "https",
  );
  assert.equal(
    findOne(
      await renderChart({ webhook: { hostNetwork: true, dnsPolicy: "Default" } }),
      "Deployment",
      webhookName,
    ).spec.template.spec.dnsPolicy,
    "Default",
  );
  const bad = await helmTemplate({ webhook: { dnsPolicy: "ClusterFirstish" } });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /dnsPolicy/);
});

test("agent.enabled=false installs only the webhook: no agent workload, storage, RBAC, Service or metrics target", async () => {
  const docs = await renderChart({
    agent: { enabled: false },
    networkPolicy: { enabled: true },
    metrics: { serviceMonitor: { enabled: true } },
  });
  const agentish = docs.filter(
    (d) =>
      d.metadata?.labels?.["app.kubernetes.io/component"] === "agent" || /agent/.test(d.metadata?.name ?? ""),
  );
  assert.deepEqual(
    agentish.map((d) => `${d.kind}/${d.metadata.name}`),
    [],
  );
  assert.ok(findOne(docs, "Deployment", webhookName));
  assert.ok(docs.some((d) => d.kind === "ValidatingWebhookConfiguration"));
  const sm = findOne(docs, "ServiceMonitor");
  assert.deepEqual(
    sm.spec.selector.matchExpressions.find((e: any) => e.key === "app.kubernetes.io/component").values,
    ["webhook"],
  );
  const full = await renderChart({ metrics: { serviceMonitor: { enabled: true } } });
  assert.deepEqual(
    findOne(full, "ServiceMonitor").spec.selector.matchExpressions.find(
      (e: any) => e.key === "app.kubernetes.io/component",
    ).values,
    ["webhook", "agent"],
  );
});

test("helm test: the hookguard image probes the webhook's Service, verifies its CA, as non-root without a token", async () => {
  const docs = await renderChart();
  const pod = findOne(docs, "Pod", `${webhookName}-test`);
  assert.equal(pod.metadata.annotations["helm.sh/hook"], "test");
  assert.equal(pod.spec.restartPolicy, "Never");
  assert.equal(pod.spec.automountServiceAccountToken, false);
  const c = pod.spec.containers[0];
  const webhook = findOne(docs, "Deployment", webhookName).spec.template.spec.containers[0];
  assert.equal(c.image, webhook.image, "the chart's own image");
  assert.equal(c.command, undefined, "the image's entrypoint (hookguard), no shell");
  assert.deepEqual(c.args, [
    "probe",
    "--url",
    "https://hookguard-webhook.hookguard.svc:443",
    "--ca-file",
    "/ca/ca.crt",
  ]);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext.runAsNonRoot, true);
  assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"]);
  assert.equal(
    pod.spec.volumes.find((v: any) => v.name === "ca").secret.secretName,
    "hookguard-webhook-tls",
    "managed mode: the CA the webhook stores",
  );

  const provided = await renderChart({
    certificates: { mode: "provided", secretName: "mine", provided: { caBundle } },
  });
  const cm = findOne(provided, "ConfigMap", `${webhookName}-test`);
  assert.equal(cm.data["ca.crt"], caPem, "the caBundle the API server is given");
  assert.equal(
    findOne(provided, "Pod", `${webhookName}-test`).spec.volumes.find((v: any) => v.name === "ca").configMap
      .name,
    cm.metadata.name,
  );
  assert.ok(!(await renderChart({ test: { enabled: false } })).some((d) => d.kind === "Pod"));
});
