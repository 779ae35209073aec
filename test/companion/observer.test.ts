// CompanionObserver against an in-memory fake of its own port: which Backups it reports, what a
// user then sees (Events, metrics), how it reads the log (DownloadRequest), and "once" across
// restarts, checkpoint failures and a Velero that does not answer.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { silentLogger } from "../../src/log.js";
import type { PodLike } from "../../src/domain/types.js";
import type { BackupObject } from "../../src/velero/types.js";
import { AgentMetrics } from "../../src/agent/runtime/metrics.js";
import { BackupCheckpoint } from "../../src/agent/companion/checkpoint.js";
import { companionMetrics } from "../../src/agent/companion/metrics.js";
import { CompanionObserver, type ObserverOptions } from "../../src/agent/companion/observer.js";
import { FakeCompanionCluster } from "./fakes.js";
import { V115_TEXT } from "../velero-log/fixtures.js";

const INSTALLED = "2026-01-01T00:00:00Z";

function backup(
  name: string,
  phase: string | undefined,
  opts: { hooksAttempted?: number; hooksFailed?: number; completed?: string; namespaces?: string[] } = {},
): BackupObject {
  return {
    apiVersion: "velero.io/v1",
    kind: "Backup",
    metadata: { name, namespace: "velero", uid: `uid-${name}`, creationTimestamp: "2026-02-01T00:00:00Z" },
    spec: { includedNamespaces: opts.namespaces ?? ["nginx-example"] },
    status: {
      ...(phase ? { phase } : {}),
      startTimestamp: "2026-02-01T00:00:00Z",
      ...(phase && phase !== "InProgress"
        ? { completionTimestamp: opts.completed ?? "2026-02-01T00:01:30Z" }
        : {}),
      ...(opts.hooksAttempted !== undefined
        ? { hookStatus: { hooksAttempted: opts.hooksAttempted, hooksFailed: opts.hooksFailed ?? 0 } }
        : {}),
    },
  };
}

const nginx: PodLike = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "nginx-7d9c",
    namespace: "nginx-example",
    uid: "pod-uid",
    annotations: {
      "pre.hook.backup.velero.io/container": "fsfreeze",
      "pre.hook.backup.velero.io/command": '["/sbin/fsfreeze", "--freeze", "/var/log/nginx"]',
      "post.hook.backup.velero.io/container": "fsfreeze",
      "post.hook.backup.velero.io/command": '["/sbin/fsfreeze", "--unfreeze", "/var/log/nginx"]',
    },
  },
  spec: { containers: [{ name: "fsfreeze" }, { name: "nginx" }] },
  status: { phase: "Running" },
};

interface Agent {
  observer: CompanionObserver;
  registry: Registry;
}

function agent(cluster: FakeCompanionCluster, options: Partial<ObserverOptions> = {}): Agent {
  const registry = new Registry();
  const checkpoint = new BackupCheckpoint(cluster, {
    namespace: "hookguard",
    name: "hookguard-companion",
    now: () => new Date(INSTALLED),
    backoffMs: 1,
  });
  const observer = new CompanionObserver({
    cluster,
    checkpoint,
    metrics: companionMetrics(new AgentMetrics(registry)),
    logger: silentLogger(),
    options: {
      veleroNamespace: "velero",
      downloadPollMs: 1,
      downloadTimeoutMs: 200,
      retryDelayMs: 5,
      ...options,
    },
  });
  return { observer, registry };
}

/** Sample values of a metric as "labels=value" lines (histograms: the _count sample). */
async function samples(registry: Registry, name: string): Promise<string[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  const data = await metric.get();
  return data.values
    .filter((v) => {
      const metricName = (v as { metricName?: string }).metricName;
      return metricName === undefined || metricName.endsWith("_count");
    })
    .filter((v) => v.value !== 0)
    .map(
      (v) =>
        `${Object.entries(v.labels)
          .map(([k, x]) => `${k}=${x}`)
          .join(",")}=${v.value}`,
    )
    .sort();
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000; // hang guard only
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function veleroCluster(): FakeCompanionCluster {
  const cluster = new FakeCompanionCluster();
  cluster.namespaces = ["velero", "nginx-example"];
  cluster.pods = [nginx];
  cluster.logs.set("b115", V115_TEXT);
  return cluster;
}

describe("CompanionObserver", () => {
  it("reports a PartiallyFailed Backup: per-hook metrics, Velero's counts, Events on the Backup and the pod", async () => {
    const cluster = veleroCluster();
    cluster.putBackup(backup("b115", "PartiallyFailed", { hooksAttempted: 2, hooksFailed: 1 }));
    const before = JSON.stringify([...cluster.backups.values()]);
    const { observer, registry } = agent(cluster);
    assert.deepEqual(await observer.start(), { ok: true, value: undefined });
    await observer.idle();

    assert.deepEqual(await samples(registry, "hookguard_hook_executions_total"), [
      "namespace=nginx-example,phase=post,source=annotation,result=failed=1",
      "namespace=nginx-example,phase=pre,source=annotation,result=succeeded=1",
    ]);
    assert.deepEqual(await samples(registry, "hookguard_backups_total"), ["phase=PartiallyFailed=1"]);
    assert.deepEqual(await samples(registry, "hookguard_backup_duration_seconds"), ["=1"]);
    const sum = (await registry.getSingleMetric("hookguard_backup_duration_seconds")!.get()).values.find(
      (v) => (v as { metricName?: string }).metricName?.endsWith("_sum"),
    );
    assert.equal(sum?.value, 90);
    assert.deepEqual(await samples(registry, "hookguard_velero_backup_hooks_attempted_total"), ["=2"]);
    assert.deepEqual(await samples(registry, "hookguard_velero_backup_hooks_failed_total"), ["=1"]);

    assert.deepEqual(
      cluster.events.map((e) => `${e.kind} ${e.namespace}/${e.name} ${e.type} ${e.reason}: ${e.message}`),
      [
        "Backup velero/b115 Warning HookFailed: post hook <from-annotation> (annotation) in container fsfreeze on pod nginx-example/nginx-7d9c failed: command terminated with exit code 1",
        "Pod nginx-example/nginx-7d9c Warning HookFailed: post hook <from-annotation> (annotation) in container fsfreeze of Velero backup velero/b115 failed: command terminated with exit code 1",
      ],
    );
    // the log was read through one DownloadRequest of kind BackupLog, deleted afterwards
    assert.equal(cluster.createdDownloadRequests.length, 1);
    const dr = cluster.createdDownloadRequests[0]!;
    assert.deepEqual(dr.spec.target, { kind: "BackupLog", name: "b115" });
    assert.match(dr.metadata.name, /^b115-[0-9a-f-]{36}$/);
    assert.equal(dr.metadata.namespace, "velero");
    assert.equal(cluster.downloadRequests.size, 0);
    // and Velero's Backup was not touched
    assert.equal(JSON.stringify([...cluster.backups.values()]), before);
    await observer.stop();
  });

  it("waits for a terminal phase, then reports once however many updates follow", async () => {
    const cluster = veleroCluster();
    const { observer, registry } = agent(cluster);
    assert.ok((await observer.start()).ok);
    for (const phase of [
      undefined,
      "New",
      "Queued",
      "ReadyToStart",
      "InProgress",
      "WaitingForPluginOperations",
      "Finalizing",
    ]) {
      cluster.putBackup(backup("b115", phase));
      await observer.idle();
    }
    assert.equal(cluster.createdDownloadRequests.length, 0);
    cluster.putBackup(backup("b115", "Completed", { hooksAttempted: 2 }));
    await observer.idle();
    cluster.putBackup(backup("b115", "Completed", { hooksAttempted: 2 })); // e.g. a label change, a resync
    cluster.putBackup(backup("b115", "Completed", { hooksAttempted: 2 }));
    await observer.idle();
    assert.equal(cluster.createdDownloadRequests.length, 1);
    assert.deepEqual(await samples(registry, "hookguard_backups_total"), ["phase=Completed=1"]);
    await observer.stop();
  });

  it("counts each Backup once across a restart: the new process counts only what is new", async () => {
    const cluster = veleroCluster();
    cluster.putBackup(backup("b115", "PartiallyFailed", { hooksAttempted: 2, hooksFailed: 1 }));
    const first = agent(cluster);
    assert.ok((await first.observer.start()).ok);
    await first.observer.idle();
    await first.observer.stop();
    const eventsBefore = cluster.events.length;

    const second = agent(cluster); // a restarted agent, or the new leader: fresh registry, same cluster
    assert.ok((await second.observer.start()).ok);
    await second.observer.idle();
    assert.deepEqual(await samples(second.registry, "hookguard_backups_total"), []);
    assert.deepEqual(await samples(second.registry, "hookguard_hook_executions_total"), []);
    assert.equal(cluster.events.length, eventsBefore);
    assert.equal(cluster.createdDownloadRequests.length, 1);

    cluster.putBackup(backup("next", "Completed", { hooksAttempted: 0 }));
    await second.observer.idle();
    assert.deepEqual(await samples(second.registry, "hookguard_backups_total"), ["phase=Completed=1"]);
    await second.observer.stop();
  });

  it("never reports Backups that finished before the companion was first installed", async () => {
    const cluster = veleroCluster();
    cluster.putBackup(backup("ancient", "Completed", { completed: "2025-12-31T23:00:00Z" }));
    const { observer, registry } = agent(cluster);
    assert.ok((await observer.start()).ok);
    await observer.idle();
    assert.deepEqual(await samples(registry, "hookguard_backups_total"), []);
    assert.equal(cluster.createdDownloadRequests.length, 0);
    await observer.stop();
  });

  it("ignores Backups Velero's backup-sync re-created from object storage (created after they completed)", async () => {
    const cluster = veleroCluster();
    const synced = backup("from-other-cluster", "Completed", {
      hooksAttempted: 3,
      completed: "2026-02-01T00:01:30Z",
    });
    synced.metadata.creationTimestamp = "2026-02-03T08:00:00Z";
    cluster.putBackup(synced);
    cluster.putBackup(backup("ran-here", "Completed", { hooksAttempted: 1 }));
    const { observer, registry } = agent(cluster);
    assert.ok((await observer.start()).ok);
    await observer.idle();
    assert.deepEqual(
      observer.reports.map((r) => r.backup),
      ["ran-here"],
    );
    assert.deepEqual(await samples(registry, "hookguard_velero_backup_hooks_attempted_total"), ["=1"]);
    await observer.stop();
  });

  it('a hook it cannot attribute is counted with namespace="" and gets an Event on the Backup only', async () => {
    const cluster = veleroCluster();
    const twin: PodLike = { ...nginx, metadata: { ...nginx.metadata!, name: "nginx-twin", uid: "twin" } };
    cluster.pods = [nginx, twin];
    cluster.logs.set(
      "b115",
      V115_TEXT.split("\n")
        .filter((l) => !l.includes("Error running post"))
        .join("\n"),
    );
    cluster.putBackup(backup("b115", "PartiallyFailed", { hooksAttempted: 2, hooksFailed: 1 }));
    const { observer, registry } = agent(cluster);
    assert.ok((await observer.start()).ok);
    await observer.idle();
    assert.deepEqual(await samples(registry, "hookguard_hook_executions_total"), [
      "namespace=,phase=post,source=annotation,result=failed=1",
      "namespace=,phase=pre,source=annotation,result=succeeded=1",
    ]);
    assert.deepEqual(
      cluster.events.map((e) => `${e.kind} ${e.reason}: ${e.message}`),
      [
        "Backup HookFailed: post hook <from-annotation> (annotation) in container fsfreeze on an unattributed pod (2 pods in scope hold this hook) failed: command terminated with exit code 1",
      ],
    );
    await observer.stop();
  });

  it("FailedValidation: counted, no log asked for (Velero wrote none)", async () => {
    const cluster = veleroCluster();
    cluster.putBackup(backup("invalid", "FailedValidation"));
    const { observer, registry } = agent(cluster);
    assert.ok((await observer.start()).ok);
    await observer.idle();
    assert.equal(cluster.createdDownloadRequests.length, 0);
    assert.deepEqual(await samples(registry, "hookguard_backups_total"), ["phase=FailedValidation=1"]);
    assert.equal(observer.reports[0]?.logProblem, "no backup log: the Backup failed validation");
    await observer.stop();
  });

  it("a log that does not exist (failed at server start) is not retried; Velero's counts still reported", async () => {
    const cluster = veleroCluster();
    cluster.putBackup(backup("restarted", "Failed", { hooksAttempted: 1, hooksFailed: 1 }));
    const { observer, registry } = agent(cluster);
    assert.ok((await observer.start()).ok);
    await observer.idle();
    assert.equal(cluster.createdDownloadRequests.length, 1);
    assert.deepEqual(await samples(registry, "hookguard_backups_total"), ["phase=Failed=1"]);
    assert.deepEqual(await samples(registry, "hookguard_velero_backup_hooks_failed_total"), ["=1"]);
    assert.deepEqual(
      cluster.events.map((e) => `${e.reason}: ${e.message}`),
      [
        "HookResultsUnavailable: Velero counts 1 failed hook(s), but hookguard cannot say which: backup restarted has no BackupLog in object storage",
      ],
    );
    await observer.stop();
  });

  it("Velero not answering DownloadRequests: retried, then reported without hook records, with a clear reason", async () => {
    const cluster = veleroCluster();
    cluster.answerAfterGets = Infinity;
    cluster.putBackup(backup("b115", "PartiallyFailed", { hooksAttempted: 2, hooksFailed: 1 }));
    const { observer, registry } = agent(cluster, { logAttempts: 3, downloadTimeoutMs: 20 });
    assert.ok((await observer.start()).ok);
    await until(() => observer.reports.length === 1, "the report");
    assert.equal(cluster.createdDownloadRequests.length, 3);
    assert.equal(cluster.downloadRequests.size, 0, "every DownloadRequest deleted");
    assert.match(
      observer.reports[0]!.logProblem ?? "",
      /^Velero did not answer DownloadRequest velero\/b115-[0-9a-f-]+ for BackupLog of backup b115 within 20ms: is the Velero server running/,
    );
    assert.deepEqual(await samples(registry, "hookguard_backups_total"), ["phase=PartiallyFailed=1"]);
    assert.deepEqual(await samples(registry, "hookguard_hook_executions_total"), []);
    await observer.stop();
  });

  it("a checkpoint it cannot write: nothing counted yet, retried, then counted once and Events sent once", async () => {
    const cluster = veleroCluster();
    cluster.putBackup(backup("b115", "PartiallyFailed", { hooksAttempted: 2, hooksFailed: 1 }));
    const { observer, registry } = agent(cluster);
    // load() creates the ConfigMap; every replace of the first commit then fails (8 attempts)
    cluster.failReplaces = Array.from({ length: 8 }, () => 500);
    assert.ok((await observer.start()).ok);
    await observer.idle();
    assert.deepEqual(await samples(registry, "hookguard_backups_total"), []);
    await until(() => observer.reports.length === 1, "the retry");
    assert.deepEqual(await samples(registry, "hookguard_backups_total"), ["phase=PartiallyFailed=1"]);
    assert.equal(cluster.events.filter((e) => e.kind === "Backup").length, 1);
    await observer.stop();
  });

  it("two agents at once (a leader change mid-flight): one counts, the other does not", async () => {
    const cluster = veleroCluster();
    cluster.putBackup(backup("b115", "PartiallyFailed", { hooksAttempted: 2, hooksFailed: 1 }));
    const a = agent(cluster);
    const b = agent(cluster);
    assert.ok((await a.observer.start()).ok && (await b.observer.start()).ok);
    await Promise.all([a.observer.idle(), b.observer.idle()]);
    const counted = [
      ...(await samples(a.registry, "hookguard_backups_total")),
      ...(await samples(b.registry, "hookguard_backups_total")),
    ];
    assert.deepEqual(counted, ["phase=PartiallyFailed=1"]);
    assert.deepEqual([a.observer.reports[0]?.counted, b.observer.reports[0]?.counted].sort(), [false, true]);
    await Promise.all([a.observer.stop(), b.observer.stop()]);
  });
});
