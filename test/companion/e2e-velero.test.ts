// `hookguard agent --mode companion` beside the Velero-server double, both against the API-server
// double, all as real processes: Velero (1.18 text, 1.15 JSON, 1.14 text) runs a Backup created with
// kubectl; the companion, holding only the chart's companion RBAC, reads its log through a DownloadRequest and reports the hooks as metrics
// and Events, never writing the Backup; a restarted agent does not count a Backup twice.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { sample, scrape } from "./metrics-scrape.js";
import { startCompanion, type CompanionAgent } from "./companion-process.js";
import { join } from "node:path";
import { waitFor, ROOT } from "../agent/double.js";
import { findByKind } from "../apiserver/resources.js";
import { runProcess } from "../helpers/process.js";
import { renderChart } from "../chart/render.js";
import { policyFromChart, serviceAccountUser } from "../chart/rbac-policy.js";
import { Sandbox, bslCa, kubeConfig } from "../velero/harness.js";

const EVENTS = findByKind("v1", "Event")!;
/** the chart's agent ServiceAccount (release namespace hookguard), with exactly the chart's companion RBAC */
const AGENT_USER = serviceAccountUser("hookguard", "hookguard-agent");
/** Backups that finished before this started are not reported: wait for it */
const STARTED = ["companion: observing Velero's Backups"];

/** mysql-0's hooks succeed; web-0's pre hook fails (exit 3, no on-error: Velero carries on). */
function addFailingPod(sb: Sandbox): void {
  sb.api.createObject({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "web-0",
      namespace: "db",
      annotations: { "pre.hook.backup.velero.io/command": '["/bin/sh","-c","echo broken; exit 3"]' },
    },
    spec: { containers: [{ name: "web", image: "busybox" }] },
  });
}

async function createBackup(sb: Sandbox, name: string): Promise<void> {
  const r = await sb.kubectl.run(
    ["create", "-f", "-"],
    JSON.stringify({
      apiVersion: "velero.io/v1",
      kind: "Backup",
      metadata: { name, namespace: "velero" },
      spec: { includedNamespaces: ["db"] },
    }),
  );
  assert.equal(r.code, 0, r.stderr);
}

const TERMINAL = new Set(["Completed", "PartiallyFailed", "Failed", "FailedValidation"]);

for (const variant of [
  { version: "1.18", format: "text" },
  { version: "1.15", format: "json" },
  { version: "1.14", format: "text" },
]) {
  describe(`companion beside Velero ${variant.version} (${variant.format} log)`, () => {
    let sb: Sandbox;
    let agent: CompanionAgent;
    let caFile: string;
    let agentKubeconfig: string;

    before(async () => {
      sb = await Sandbox.start();
      addFailingPod(sb);
      await waitFor(
        "web-0 Running",
        () => sb.api.getObject("v1", "Pod", "db", "web-0")?.status?.phase === "Running" || undefined,
      );
      await sb.velero(["--version", variant.version, "--log-format", variant.format]).ready;
      caFile = join(sb.api.dir, "bsl-ca.pem");
      writeFileSync(caFile, await bslCa(kubeConfig(sb.api.kubeconfigPath)));
      agentKubeconfig = sb.api.addUser(AGENT_USER, ["system:serviceaccounts"]).kubeconfigPath;
      // from here on the double enforces the chart's default (companion) RBAC: a write to a Backup would be a 403
      sb.api.setPolicy([
        { groups: ["system:masters"], verbs: ["*"], resources: ["*"] },
        ...policyFromChart(await renderChart()),
      ]);
      agent = await startCompanion(agentKubeconfig, caFile, STARTED);
    });

    after(async () => {
      await agent?.kill();
      await sb?.stop();
    });

    test("Velero runs the Backup; the companion reports its hooks as metrics and Events, and never writes it", async () => {
      await createBackup(sb, "nightly-1");
      const backup = await waitFor(
        "Velero to finish nightly-1",
        () => (TERMINAL.has(sb.backup("nightly-1")?.status?.phase) ? sb.backup("nightly-1") : undefined),
        90_000,
        100,
      );
      const phase: string = backup.status.phase;
      const metrics = await waitFor(
        "the companion to count nightly-1",
        async () => {
          const m = await scrape(agent.metricsPort);
          return sample(m, `hookguard_backups_total{phase="${phase}"}`) === 1 ? m : undefined;
        },
        90_000,
        200,
      ).catch((e: Error) => assert.fail(`${e.message}\nagent log:\n${agent.stderr().slice(-4000)}`));

      // Velero's own counts, copied from status.hookStatus
      const hs = backup.status.hookStatus;
      assert.ok(hs.hooksAttempted >= 3, JSON.stringify(hs));
      assert.equal(hs.hooksFailed, 1);
      assert.equal(sample(metrics, "hookguard_velero_backup_hooks_attempted_total"), hs.hooksAttempted);
      assert.equal(sample(metrics, "hookguard_velero_backup_hooks_failed_total"), 1);
      // per hook, from the log: mysql-0's pre and post, web-0's failing pre, all attributed to db
      assert.equal(
        sample(
          metrics,
          'hookguard_hook_executions_total{namespace="db",phase="pre",source="annotation",result="succeeded"}',
        ),
        1,
        metrics,
      );
      assert.equal(
        sample(
          metrics,
          'hookguard_hook_executions_total{namespace="db",phase="pre",source="annotation",result="failed"}',
        ),
        1,
        metrics,
      );
      assert.equal(
        sample(
          metrics,
          'hookguard_hook_executions_total{namespace="db",phase="post",source="annotation",result="succeeded"}',
        ),
        1,
        metrics,
      );

      // the failed hook: an Event on the Backup and one on web-0, with the error
      const events = await waitFor("HookFailed Events", () => {
        const all = sb.api.store.list(EVENTS).filter((e: any) => e.reason === "HookFailed");
        return all.length >= 2 ? all : undefined;
      });
      const onBackup = events.find(
        (e: any) => e.involvedObject.kind === "Backup" && e.involvedObject.name === "nightly-1",
      );
      const onPod = events.find(
        (e: any) =>
          e.involvedObject.kind === "Pod" &&
          e.involvedObject.namespace === "db" &&
          e.involvedObject.name === "web-0",
      );
      assert.ok(onBackup, JSON.stringify(events));
      assert.ok(onPod, JSON.stringify(events));
      assert.match(onBackup.message, /pre hook .*web-0.* failed/);
      assert.equal(onBackup.type, "Warning");

      // hookguard's requests on Velero's kinds: reads of Backups, DownloadRequests create/get/delete, nothing else
      const mine = sb.api.requestLog.filter(
        (r) => r.user === AGENT_USER && r.url.includes("/apis/velero.io/"),
      );
      assert.ok(
        mine.some((r) => r.method === "POST" && r.url.includes("/downloadrequests")),
        JSON.stringify(mine),
      );
      for (const r of mine) {
        const ok = r.url.includes("/downloadrequests")
          ? ["POST", "GET", "DELETE"].includes(r.method)
          : r.method === "GET";
        assert.ok(ok, `the companion must not write Velero's objects: ${r.method} ${r.url}`);
      }
      assert.equal(backup.metadata.annotations?.["hookguard.io/claimed-by"], undefined);
      assert.ok(
        !Object.keys(sb.backup("nightly-1").metadata.annotations ?? {}).some((k) =>
          k.startsWith("hookguard.io/"),
        ),
      );
    });

    if (variant.version === "1.18") {
      test("a restarted agent counts each Backup once: the checkpoint ConfigMap remembers the reported ones", async () => {
        await agent.kill();
        agent = await startCompanion(agentKubeconfig, caFile, STARTED);
        await createBackup(sb, "nightly-2");
        await waitFor(
          "Velero to finish nightly-2",
          () => (TERMINAL.has(sb.backup("nightly-2")?.status?.phase) ? true : undefined),
          90_000,
          100,
        );
        const phase = sb.backup("nightly-2").status.phase;
        const metrics = await waitFor(
          "the new agent to count nightly-2",
          async () => {
            const m = await scrape(agent.metricsPort);
            // the series exists from the start (at 0): wait for the count itself
            return (sample(m, `hookguard_backups_total{phase="${phase}"}`) ?? 0) > 0 ? m : undefined;
          },
          90_000,
          200,
        );
        // the new process counted nightly-2 only: nightly-1 was reported by the first one
        const total = metrics
          .split("\n")
          .filter((l) => l.startsWith("hookguard_backups_total{"))
          .reduce((n, l) => n + Number(l.split(" ")[1]), 0);
        assert.equal(total, 1, metrics);
        const cm = sb.api.getObject("v1", "ConfigMap", "velero", "hookguard-agent-checkpoint");
        const text = JSON.stringify(cm?.data ?? {});
        for (const n of ["nightly-1", "nightly-2"])
          assert.ok(text.includes(sb.backup(n).metadata.uid), `${n} in the checkpoint: ${text}`);
      });

      test("companion mode deletes nothing of Velero's: an expired Backup, even one marked for deletion, stays; `backup delete` refuses it", async () => {
        const total = async (): Promise<number> =>
          (await scrape(agent.metricsPort))
            .split("\n")
            .filter((l) => l.startsWith("hookguard_backups_total{"))
            .reduce((n, l) => n + Number(l.split(" ")[1]), 0);
        const before = await total();
        const r = await sb.kubectl.run(
          ["create", "-f", "-"],
          JSON.stringify({
            apiVersion: "velero.io/v1",
            kind: "Backup",
            metadata: { name: "short-lived", namespace: "velero" },
            spec: { includedNamespaces: ["db"], ttl: "1s" },
          }),
        );
        assert.equal(r.code, 0, r.stderr);
        await waitFor(
          "Velero to finish short-lived",
          () => (TERMINAL.has(sb.backup("short-lived")?.status?.phase) ? true : undefined),
          90_000,
          100,
        );
        // the CLI refuses a Backup Velero ran, and says how to delete it
        const cli = await runProcess(
          process.execPath,
          [
            join(ROOT, "bin/hookguard.js"),
            "backup",
            "delete",
            "short-lived",
            "--confirm",
            "--kubeconfig",
            sb.api.kubeconfigPath,
          ],
          { cwd: ROOT, env: { ...process.env, KUBECONFIG: "" } },
        );
        assert.equal(cli.code, 1, cli.stderr);
        assert.match(cli.stderr, /not run by hookguard's standalone agent.*velero backup delete short-lived/);
        // someone sets hookguard's deletion marker by hand anyway
        const annotate = await sb.kubectl.run([
          "annotate",
          "backup",
          "short-lived",
          "-n",
          "velero",
          "hookguard.io/delete-requested=2026-01-01T00:00:00Z",
        ]);
        assert.equal(annotate.code, 0, annotate.stderr);
        // another Backup, run and counted after the marker and the expiration: the companion saw both
        await createBackup(sb, "nightly-3");
        await waitFor(
          "the companion to count short-lived and nightly-3",
          async () => ((await total()) >= before + 2 ? true : undefined),
          90_000,
          200,
        );
        assert.ok(Date.parse(sb.backup("short-lived").status.expiration) < Date.now());
        assert.ok(sb.backup("short-lived"), "the expired, marked Backup is still there");
        const deletes = sb.api.requestLog.filter(
          (q) => q.user === AGENT_USER && q.method === "DELETE" && !q.url.includes("/downloadrequests"),
        );
        assert.deepEqual(deletes, []);
      });
    }
  });
}
