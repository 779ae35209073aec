// The thaw guard end to end, all real processes: the API-server double (with its Deployment →
// ReplicaSet → Pod controllers), the Velero-server double (1.18, `--hold-items` keeps a block between
// its pre and post hooks) and `hookguard agent --mode companion` holding exactly the chart's RBAC.
// The pods run the `ubuntu` test image, whose /sbin/fsfreeze stand-in records every freeze and
// unfreeze inside the container. Velero is SIGKILLed as a Velero pod dies.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../agent/double.js";
import { readContainerFile } from "../apiserver/exec/index.js";
import { findByKind } from "../apiserver/resources.js";
import { renderChart } from "../chart/render.js";
import { policyFromChart, serviceAccountUser } from "../chart/rbac-policy.js";
import { Sandbox, bslCa, kubeConfig, type VeleroProcess } from "../velero/harness.js";
import { sample, scrape } from "./metrics-scrape.js";
import { startCompanion, type CompanionAgent } from "./companion-process.js";

const EVENTS = findByKind("v1", "Event")!;
const PODS = findByKind("v1", "Pod")!;
const AGENT_USER = serviceAccountUser("hookguard", "hookguard-agent");
/** the thaw guard judges Backups against the server pods it has seen: wait until it watches */
const STARTED = ["thaw guard: watching Velero's Backups"];
const NS = "apps";
const FREEZE = '["/sbin/fsfreeze","--freeze","/tmp"]';
const THAW = '["/sbin/fsfreeze","--unfreeze","/tmp"]';
const TERMINAL = new Set(["Completed", "PartiallyFailed", "Failed", "FailedValidation"]);

describe("thaw guard: post hooks run when Velero dies or overstays mid-backup", () => {
  let sb: Sandbox;
  let agent: CompanionAgent;
  let velero: VeleroProcess;
  let caFile: string;
  let agentKubeconfig: string;

  const pods = (app: string): any[] =>
    sb.api.store.list(PODS, NS).filter((p: any) => p.metadata.labels?.app === app);
  /** what the fsfreeze stand-in recorded in the pod's container: ["freeze /tmp", "unfreeze /tmp", ...] */
  const fsLog = async (pod: any): Promise<string[]> => {
    const text = await readContainerFile(
      join(sb.api.dir, "exec"),
      pod.metadata.uid,
      pod.spec.containers[0].name,
      "/var/lib/fsfreeze-standin/log",
    );
    return (text ?? "")
      .trim()
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.split(" ").slice(2).join(" "));
  };
  const frozen = async (pod: any): Promise<boolean> => {
    const log = await fsLog(pod);
    return log.at(-1) === "freeze /tmp";
  };
  const events = (prefix: string): any[] =>
    sb.api.store.list(EVENTS).filter((e: any) => String(e.reason).startsWith(prefix));
  const createBackup = async (name: string, app: string): Promise<void> => {
    const r = await sb.kubectl.run(
      ["create", "-f", "-"],
      JSON.stringify({
        apiVersion: "velero.io/v1",
        kind: "Backup",
        metadata: { name, namespace: "velero" },
        spec: { includedNamespaces: [NS], labelSelector: { matchLabels: { app } } },
      }),
    );
    assert.equal(r.code, 0, r.stderr);
  };
  const agentLog = (): string => `\nagent log:\n${agent.stderr().slice(-6000)}`;
  const forced = async (reason: string): Promise<number | undefined> =>
    sample(await scrape(agent.metricsPort), `hookguard_forced_post_hooks_total{reason="${reason}"}`);

  before(async () => {
    sb = await Sandbox.start({ namespaces: ["db", NS], workloadControllers: true });
    const container = (name: string) => ({
      name,
      image: "ubuntu:24.04",
      securityContext: { privileged: true },
    });
    // web: two replicas of one Deployment (applied with kubectl, pods made by the controllers) that
    // share a PVC, so Velero puts both in one ItemBlock: both frozen while the block is held
    const applied = await sb.kubectl.run(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [
          {
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: { name: "web-data", namespace: NS },
            spec: { accessModes: ["ReadWriteMany"], resources: { requests: { storage: "1Gi" } } },
          },
          {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "web", namespace: NS },
            spec: {
              replicas: 2,
              selector: { matchLabels: { app: "web" } },
              template: {
                metadata: {
                  labels: { app: "web" },
                  annotations: {
                    "pre.hook.backup.velero.io/command": FREEZE,
                    "post.hook.backup.velero.io/command": THAW,
                  },
                },
                spec: {
                  containers: [container("web")],
                  volumes: [{ name: "data", persistentVolumeClaim: { claimName: "web-data" } }],
                },
              },
            },
          },
        ],
      }),
    );
    assert.equal(applied.code, 0, applied.stderr);
    // notes-0: a post hook that thaws through a shell, no opt-in: not eligible.
    // opted-0: a post hook that is no bare fsfreeze, with the opt-in: eligible. One block (shared PVC).
    sb.api.createObject({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "notes-data", namespace: NS },
      spec: { accessModes: ["ReadWriteMany"], resources: { requests: { storage: "1Gi" } } },
    });
    for (const [name, annotations] of [
      ["notes-0", { "post.hook.backup.velero.io/command": '["/bin/sh","-c","/sbin/fsfreeze -u /tmp"]' }],
      [
        "opted-0",
        {
          "post.hook.backup.velero.io/command": '["/bin/sh","-c","/sbin/fsfreeze -u /tmp; echo resumed"]',
          "hookguard.io/thaw-guard": "enabled",
        },
      ],
    ] as const) {
      sb.api.createObject({
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name,
          namespace: NS,
          labels: { app: "notes" },
          annotations: { "pre.hook.backup.velero.io/command": FREEZE, ...annotations },
        },
        spec: {
          containers: [container(name.replace("-0", ""))],
          volumes: [{ name: "data", persistentVolumeClaim: { claimName: "notes-data" } }],
        },
      });
    }
    await waitFor(
      "web's two replicas and the notes pods Running",
      () =>
        pods("web").filter((p) => p.status?.phase === "Running").length === 2 &&
        pods("notes").filter((p) => p.status?.phase === "Running").length === 2
          ? true
          : undefined,
      60_000,
      100,
    );
    velero = sb.velero([]);
    await velero.ready;
    caFile = join(sb.api.dir, "bsl-ca.pem");
    writeFileSync(caFile, await bslCa(kubeConfig(sb.api.kubeconfigPath)));
    agentKubeconfig = sb.api.addUser(AGENT_USER, ["system:serviceaccounts"]).kubeconfigPath;
    // the chart's default companion RBAC (thaw guard on) from here on
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

  test("a normal Backup triggers nothing: Velero freezes and thaws, the guard stays clear", async () => {
    await createBackup("normal", "web");
    await waitFor(
      "Velero to finish normal",
      () => (TERMINAL.has(sb.backup("normal")?.status?.phase) ? true : undefined),
      90_000,
      100,
    );
    assert.equal(sb.backup("normal").status.phase, "Completed");
    // the observer counted it: the companion saw the whole Backup go by
    await waitFor(
      "the companion to report normal",
      async () =>
        (sample(await scrape(agent.metricsPort), 'hookguard_backups_total{phase="Completed"}') ?? 0) > 0
          ? true
          : undefined,
      90_000,
      200,
    );
    for (const p of pods("web")) assert.deepEqual(await fsLog(p), ["freeze /tmp", "unfreeze /tmp"]);
    assert.deepEqual(events("ThawGuard"), []);
    assert.equal(await forced("velero_died"), 0);
  });

  test("Velero SIGKILLed between freeze and thaw: both replicas are thawed without a Velero restart; a restart then fails the Backup and nothing runs twice", async (t) => {
    await velero.kill();
    velero = sb.velero(["--hold-items", "10m"]);
    await velero.ready;
    await createBackup("crash", "web");
    await waitFor(
      "both web replicas frozen by Velero",
      async () => ((await Promise.all(pods("web").map(frozen))).every(Boolean) ? true : undefined),
      60_000,
      100,
    );
    await velero.kill("SIGKILL");
    const killedAt = Date.now();
    assert.equal(sb.backup("crash").status.phase, "InProgress");

    await waitFor(
      "the thaw guard to unfreeze both replicas",
      async () => ((await Promise.all(pods("web").map(frozen))).some(Boolean) ? undefined : true),
      30_000,
      100,
    ).catch((e: Error) => assert.fail(e.message + agentLog()));
    t.diagnostic(
      `both replicas thawed ${Date.now() - killedAt} ms after the SIGKILL (observed, not asserted)`,
    );
    // no Velero server ran meanwhile: the Backup is still InProgress
    assert.equal(sb.backup("crash").status.phase, "InProgress");
    for (const p of pods("web"))
      assert.deepEqual((await fsLog(p)).slice(2), ["freeze /tmp", "unfreeze /tmp"], p.metadata.name);
    await waitFor("the Backup's ThawGuard Event", () =>
      events("ThawGuard").find(
        (e) => e.involvedObject.kind === "Backup" && e.involvedObject.name === "crash",
      ),
    );
    const onPods = events("ThawGuardPostHooks").filter((e) => e.involvedObject.kind === "Pod");
    assert.deepEqual(
      onPods.map((e) => e.involvedObject.name).sort(),
      pods("web")
        .map((p) => p.metadata.name)
        .sort(),
    );
    for (const e of onPods) {
      assert.match(
        e.message,
        /^post hooks run by hookguard after Velero was interrupted during backup velero\/crash \(the Velero server died/,
      );
      assert.match(e.message, /succeeded/);
    }
    const onBackup = events("ThawGuard").find(
      (e) => e.involvedObject.kind === "Backup" && e.involvedObject.name === "crash",
    );
    assert.match(onBackup.message, /Post hooks run on 2 pod\(s\)/);
    assert.equal(await forced("velero_died"), 2);

    // Velero comes back: it marks the Backup Failed with its reason; the guard does not act again
    velero = sb.velero([]);
    await velero.ready;
    assert.equal(sb.backup("crash").status.phase, "Failed");
    assert.match(sb.backup("crash").status.failureReason, /during the server starting/);
    // the guard saw the Failed Backup (it recognises the reason) and left it alone: give it the time a
    // Backup update takes to arrive, by waiting for a later Backup of its own to be reported
    await createBackup("after-crash", "web");
    await waitFor(
      "Velero to finish after-crash",
      () => (TERMINAL.has(sb.backup("after-crash")?.status?.phase) ? true : undefined),
      90_000,
      100,
    );
    await waitFor(
      "the companion to report after-crash",
      async () =>
        (sample(await scrape(agent.metricsPort), 'hookguard_backups_total{phase="Completed"}') ?? 0) > 1
          ? true
          : undefined,
      90_000,
      200,
    ).catch((e: Error) => assert.fail(e.message + agentLog()));
    assert.equal(await forced("velero_died"), 2);
    assert.equal(await forced("velero_failed"), 0);
    for (const p of pods("web"))
      assert.deepEqual(
        (await fsLog(p)).slice(2),
        ["freeze /tmp", "unfreeze /tmp", "freeze /tmp", "unfreeze /tmp"],
        p.metadata.name,
      );
    assert.equal(events("ThawGuardPostHooks").length, 2);
  });

  test("--max-freeze-window 5s: the opted-in pod is thawed while Velero still holds the Backup; the pod that is not eligible is not, and an Event names its post hook", async () => {
    await agent.kill();
    agent = await startCompanion(agentKubeconfig, caFile, STARTED, ["--max-freeze-window", "5s"]);
    await velero.kill();
    velero = sb.velero(["--hold-items", "10m"]);
    await velero.ready;
    await createBackup("overstay", "notes");
    const [notes, opted] = ["notes-0", "opted-0"].map((n) => sb.api.getObject("v1", "Pod", NS, n));
    await waitFor(
      "both notes pods frozen",
      async () => ((await frozen(notes)) && (await frozen(opted)) ? true : undefined),
      60_000,
      100,
    );
    const notEligible = await waitFor(
      "the not-eligible Event",
      () => events("ThawGuardNotEligible").find((e) => e.involvedObject.name === "notes-0"),
      30_000,
      100,
    ).catch((e: Error) => assert.fail(e.message + agentLog()));
    await waitFor("opted-0 thawed", async () => ((await frozen(opted)) ? undefined : true), 30_000, 100);
    // Velero still holds the Backup: the thaw came from the freeze window, not from Velero
    assert.equal(sb.backup("overstay").status.phase, "InProgress");
    assert.ok(await frozen(notes), "a post hook that is not eligible is never run");
    assert.match(notEligible.message, /not a recognised thaw/);
    assert.match(
      notEligible.message,
      /run by hand: <from-annotation> \["\/bin\/sh","-c","\/sbin\/fsfreeze -u \/tmp"\] in container notes/,
    );
    const onBackup = await waitFor("the Backup's Event", () =>
      events("ThawGuard").find(
        (e) => e.involvedObject.kind === "Backup" && e.involvedObject.name === "overstay",
      ),
    );
    assert.match(onBackup.message, /longer than --max-freeze-window/);
    assert.match(onBackup.message, /may be inconsistent/);
    assert.equal(await forced("freeze_window"), 1);
    assert.equal(
      sample(
        await scrape(agent.metricsPort),
        'hookguard_thaw_guard_not_eligible_total{reason="freeze_window"}',
      ),
      1,
    );
    // the test thaws notes-0 itself, as the Event tells a person to
    await velero.kill("SIGKILL");
  });

  test("hookguard down when Velero dies: once both are back, the Backup Velero failed at startup is thawed (trigger 2)", async () => {
    await agent.kill();
    velero = sb.velero(["--hold-items", "10m"]);
    await velero.ready;
    await createBackup("while-down", "web");
    await waitFor(
      "both web replicas frozen by Velero",
      async () => ((await Promise.all(pods("web").map(frozen))).every(Boolean) ? true : undefined),
      60_000,
      100,
    );
    await velero.kill("SIGKILL");
    velero = sb.velero([]);
    await velero.ready;
    assert.equal(sb.backup("while-down").status.phase, "Failed");
    assert.ok(await frozen(pods("web")[0]), "Velero runs no post hook for a Backup it failed at startup");

    agent = await startCompanion(agentKubeconfig, caFile, STARTED);
    await waitFor(
      "the thaw guard to unfreeze both replicas",
      async () => ((await Promise.all(pods("web").map(frozen))).some(Boolean) ? undefined : true),
      30_000,
      100,
    ).catch((e: Error) => assert.fail(e.message + agentLog()));
    await waitFor(
      "velero_failed counted",
      async () => ((await forced("velero_failed")) === 2 ? true : undefined),
      30_000,
      100,
    );
    // the earlier interrupted Backups (crash, overstay) are Failed with Velero's reason too: already handled, not again
    assert.equal(sb.backup("crash").status.phase, "Failed");
    assert.equal(await forced("velero_died"), 0);
    const byBackup = events("ThawGuardPostHooks").filter((e) =>
      e.message.includes("backup velero/while-down"),
    );
    assert.equal(byBackup.length, 2);
    assert.match(byBackup[0].message, /Velero failed it when its server started again/);
    const thaw = sb.api.getObject("v1", "ConfigMap", "velero", "hookguard-agent-thaw-guard");
    const records = JSON.parse(thaw.data.backups);
    assert.deepEqual(
      Object.values(records)
        .map((r: any) => `${r.name} ${r.reason} ${r.done}`)
        .sort(),
      ["crash velero_died true", "overstay freeze_window true", "while-down velero_failed true"],
    );
    // the guard wrote no Velero object: its requests on velero.io were reads and DownloadRequests
    for (const r of sb.api.requestLog.filter(
      (x) => x.user === AGENT_USER && x.url.includes("/apis/velero.io/"),
    )) {
      const ok = r.url.includes("/downloadrequests")
        ? ["POST", "GET", "DELETE"].includes(r.method)
        : r.method === "GET";
      assert.ok(ok, `the companion must not write Velero's objects: ${r.method} ${r.url}`);
    }
  });
});
