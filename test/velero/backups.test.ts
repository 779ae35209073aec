// The Velero-server double processes Backups as Velero 1.18 and 1.14 do, seen only through the API:
// the phases each version writes, hook order per ItemBlock (1.18) or per pod (1.14), Velero's hook
// quirks (absent on-error acts like Continue, a spec `Fail` stops the pod's remaining hooks, a bare
// timeout is a warning), the tracker's counts per version, and the backup log and results read back
// through DownloadRequests in both log formats.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Kubectl } from "../apiserver-double/helpers.js";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { waitFor } from "../agent/double.js";
import { backupLog, backupResults, kubeConfig, spawnVelero, type VeleroProcess } from "./harness.js";

let api: ApiServerHandle;
let kubectl: Kubectl;
const phases = new Map<string, string[]>();

before(async () => {
  api = await startApiServer({ namespaces: ["shop"] });
  kubectl = new Kubectl(api.kubeconfigPath);
  // Every phase a Backup passes through, in write order (the double's store sees every write).
  api.store.subscribe((e) => {
    if (e.resource.kind !== "Backup") return;
    const seen = phases.get(e.object.metadata.name) ?? [];
    const phase = e.object.status?.phase ?? "";
    if (seen[seen.length - 1] !== phase) seen.push(phase);
    phases.set(e.object.metadata.name, seen);
  });
  api.createObject({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: "pv-data" },
    spec: {
      capacity: { storage: "1Gi" },
      accessModes: ["ReadWriteMany"],
      claimRef: { namespace: "shop", name: "data" },
    },
    status: { phase: "Bound" },
  });
  api.createObject({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "data", namespace: "shop" },
    spec: {
      accessModes: ["ReadWriteMany"],
      volumeName: "pv-data",
      resources: { requests: { storage: "1Gi" } },
    },
    status: { phase: "Bound" },
  });
  const pod = (
    name: string,
    annotations: Record<string, string>,
    labels: Record<string, string> = {},
    claim?: string,
  ): unknown => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "shop", annotations, labels },
    spec: {
      containers: [{ name: "app", image: "busybox" }],
      ...(claim ? { volumes: [{ name: "d", persistentVolumeClaim: { claimName: claim } }] } : {}),
    },
  });
  const sh = (text: string): string => JSON.stringify(["/bin/sh", "-c", `echo ${text}`]);
  // p1 and p2 share the PVC: one ItemBlock on 1.15+. p2's timeout has no unit: a warning, then 30s.
  // p2's post hook fails without on-error: Velero carries on as with Continue.
  const applied = await kubectl.run(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [
        pod(
          "p1",
          {
            "pre.hook.backup.velero.io/command": sh("pre-p1"),
            "post.hook.backup.velero.io/command": sh("post-p1"),
          },
          {},
          "data",
        ),
        pod(
          "p2",
          {
            "pre.hook.backup.velero.io/command": sh("pre-p2"),
            "pre.hook.backup.velero.io/timeout": "300",
            "post.hook.backup.velero.io/command": '["/bin/sh","-c","echo post-p2; exit 3"]',
          },
          {},
          "data",
        ),
        pod("solo", {}, { app: "solo" }),
      ],
    }),
  );
  assert.equal(applied.code, 0, applied.stderr);
  for (const p of ["p1", "p2", "solo"])
    await waitFor(
      `${p} Running`,
      () => api.getObject("v1", "Pod", "shop", p)?.status?.phase === "Running" || undefined,
    );
});

after(async () => {
  kubectl?.cleanup();
  await api?.stop();
});

/** Spec hooks for `solo`: ok, then a failing Fail (stops the rest), then one that must never run. */
function backupManifest(name: string): string {
  return JSON.stringify({
    apiVersion: "velero.io/v1",
    kind: "Backup",
    metadata: { name, namespace: "velero" },
    spec: {
      includedNamespaces: ["shop"],
      hooks: {
        resources: [
          {
            name: "q",
            labelSelector: { matchLabels: { app: "solo" } },
            pre: [
              { exec: { command: ["/bin/true"] } },
              { exec: { command: ["/bin/false"], onError: "Fail" } },
              { exec: { command: ["/bin/sh", "-c", "echo never"] } },
            ],
            post: [{ exec: { command: ["/bin/sh", "-c", "echo post-solo"] } }],
          },
        ],
      },
    },
  });
}

async function runBackup(velero: VeleroProcess, name: string): Promise<any> {
  await velero.ready;
  const created = await kubectl.run(["create", "-f", "-"], backupManifest(name));
  assert.equal(created.code, 0, created.stderr);
  return waitFor(
    `backup ${name} terminal`,
    () => {
      const b = api.getObject("velero.io/v1", "Backup", "velero", name);
      return ["Completed", "PartiallyFailed", "Failed", "FailedValidation"].includes(b?.status?.phase)
        ? b
        : undefined;
    },
    120_000,
    100,
  );
}

/** The order the echo hooks ran in, from their `stdout: <text>` lines. */
function echoOrder<T>(lines: T[], field: (l: T) => string): string[] {
  return lines
    .map(field)
    .filter((m) => /^stdout: (pre|post)-/.test(m))
    .map((m) => m.slice("stdout: ".length).trim());
}

test("Velero 1.18, text log: Queued/ReadyToStart phases, ItemBlock hook order, quirks, counts, log and results", async () => {
  const velero = spawnVelero(api.kubeconfigPath, ["--version", "1.18", "--store-dir", `${api.dir}/bucket`]);
  try {
    const b = await runBackup(velero, "nightly");
    assert.deepEqual(phases.get("nightly"), [
      "",
      "Queued",
      "ReadyToStart",
      "InProgress",
      "FinalizingPartiallyFailed",
      "PartiallyFailed",
    ]);
    assert.equal(b.status.version, 1);
    assert.equal(b.status.formatVersion, "1.1.0");
    assert.equal(b.status.queuePosition, undefined);
    assert.match(b.status.startTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Date.parse(b.status.completionTimestamp) >= Date.parse(b.status.startTimestamp));
    // p1 pre+post, p2 pre+post, solo's three pre hooks (index in the key since 1.17); solo's post
    // hook is neither run nor counted because its pre hook failed with Fail.
    assert.deepEqual(b.status.hookStatus, { hooksAttempted: 7, hooksFailed: 2 });
    assert.equal(b.status.errors, 3, "two Error executing hook lines and Error running pre hooks for pod");
    assert.equal(b.status.warnings, 1, "the unparsable timeout");
    assert.equal(b.metadata.labels["velero.io/storage-location"], "default");
    assert.equal(b.spec.ttl, "720h0m0s");

    const kc = kubeConfig(api.kubeconfigPath);
    const log = (await backupLog(kc, "nightly")).trimEnd().split("\n");
    assert.ok(
      log.every((l) => l.startsWith('time="') && l.includes(" backup=velero/nightly")),
      "text format, backup= on every line",
    );
    assert.deepEqual(
      echoOrder(log, (l) => /msg="([^"]*)"/.exec(l)?.[1]?.replace(/\\n/g, "\n") ?? ""),
      ["pre-p1", "pre-p2", "post-p1", "post-p2"],
      "one ItemBlock: both pre hooks, then both post hooks",
    );
    const running = log.filter((l) => l.includes('msg="running exec hook"'));
    assert.equal(running.length, 6, "p1 x2, p2 x2, solo's first two pre hooks");
    for (const l of running)
      assert.doesNotMatch(l, / (name|namespace|resource)=/, "1.15+ hook lines carry no pod");
    const preP1 = log.find((l) => l.includes('msg="running exec hook"') && l.includes("pre-p1"))!;
    assert.equal(
      preP1.replace(/^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" /, ""),
      'level=info msg="running exec hook" backup=velero/nightly hookCommand="[/bin/sh -c echo pre-p1]" hookContainer=app hookName="<from-annotation>" hookOnError=Fail hookPhase=pre hookSource=annotation hookTimeout="{30s}" hookType=exec logSource="pkg/podexec/pod_command_executor.go:133"',
    );
    assert.ok(
      log.some((l) =>
        / level=warning msg="Unable to parse provided timeout 300, using default: time: missing unit in duration \\"300\\"" backup=velero\/nightly logSource="internal\/hook\/item_hook_handler.go:354"$/.test(
          l,
        ),
      ),
    );
    assert.ok(
      log.some((l) =>
        l.includes(
          'level=error msg="Error executing hook" backup=velero/nightly error="command terminated with exit code 3" hookPhase=post hookSource=annotation hookType=exec logSource="internal/hook/item_hook_handler.go:239"',
        ),
      ),
    );
    assert.ok(
      log.some(
        (l) =>
          l.includes('msg="running exec hook"') &&
          l.includes(
            'hookCommand="[/bin/false]" hookContainer=app hookName=q hookOnError=Fail hookPhase=pre hookSource=spec',
          ),
      ),
    );
    assert.ok(
      log.some(
        (l) =>
          l.includes('msg="running exec hook"') &&
          l.includes('hookCommand="[/bin/true]"') &&
          l.includes("hookOnError=Fail"),
        "absent on-error is logged as Fail",
      ),
    );
    assert.ok(
      log.some((l) =>
        l.includes(
          'level=error msg="Error running pre hooks for pod" backup=velero/nightly error="command terminated with exit code 1" logSource="pkg/backup/backup.go:806" name=solo',
        ),
      ),
    );
    assert.ok(
      !log.some((l) => l.includes("never") || l.includes("post-solo")),
      "after Fail nothing more runs for solo",
    );

    const results = await backupResults(kc, "nightly");
    assert.deepEqual(results.warnings, {
      velero: [
        ' message: /Unable to parse provided timeout 300, using default: time: missing unit in duration "300"',
      ],
    });
    assert.deepEqual(results.errors.namespaces, undefined, "1.15+ hook errors carry no namespace");
    assert.ok(
      results.errors.velero.includes(
        " message: /Error executing hook error: /command terminated with exit code 3",
      ),
    );
    assert.ok(
      results.errors.velero.includes(
        " name: /solo message: /Error running pre hooks for pod error: /command terminated with exit code 1",
      ),
    );

    const got = await kubectl.run([
      "get",
      "backups.velero.io",
      "-n",
      "velero",
      "nightly",
      "-o",
      "jsonpath={.status.phase}",
    ]);
    assert.equal(got.stdout, "PartiallyFailed");
  } finally {
    await velero.kill();
  }
});

test("Velero 1.14, JSON log: no queue, hooks per pod, hook lines with the pod, tracker without the hook index", async () => {
  const velero = spawnVelero(api.kubeconfigPath, [
    "--version",
    "1.14",
    "--log-format",
    "json",
    "--store-dir",
    `${api.dir}/bucket`,
  ]);
  try {
    const b = await runBackup(velero, "legacy");
    assert.deepEqual(phases.get("legacy"), [
      "",
      "InProgress",
      "FinalizingPartiallyFailed",
      "PartiallyFailed",
    ]);
    // Before 1.17 solo's three pre hooks share one tracker key (same entry, same container as
    // written): counted once, and only its first result (the successful /bin/true) is kept.
    assert.deepEqual(b.status.hookStatus, { hooksAttempted: 5, hooksFailed: 1 });

    const kc = kubeConfig(api.kubeconfigPath);
    const log = (await backupLog(kc, "legacy"))
      .trimEnd()
      .split("\n")
      .map((l): any => JSON.parse(l));
    assert.ok(
      log.every(
        (l) => l.backup === "velero/legacy" && typeof l.time === "string" && typeof l.logSource === "string",
      ),
    );
    assert.deepEqual(
      echoOrder(log, (l) => String(l.msg)),
      ["pre-p1", "post-p1", "pre-p2", "post-p2"],
      "hooks inside each pod's item backup",
    );
    const first = log.find((l) => l.msg === "running exec hook" && l.hookCommand?.[2] === "echo pre-p1");
    assert.deepEqual(
      { ...first, time: undefined },
      {
        time: undefined,
        level: "info",
        msg: "running exec hook",
        backup: "velero/legacy",
        hookCommand: ["/bin/sh", "-c", "echo pre-p1"],
        hookContainer: "app",
        hookName: "<from-annotation>",
        hookOnError: "Fail",
        hookPhase: "pre",
        hookSource: "annotation",
        hookTimeout: "30s",
        hookType: "exec",
        logSource: "pkg/podexec/pod_command_executor.go:133",
        name: "p1",
        namespace: "shop",
        resource: "pods",
      },
    );
    const failed = log.find((l) => l.msg === "Error executing hook" && l.hookPhase === "post");
    assert.equal(failed["error.message"], "command terminated with exit code 3");
    assert.equal(failed.name, "p2");
    assert.ok(
      log.some(
        (l) =>
          l.msg === "Error backing up item" &&
          l.name === "solo" &&
          l["error.message"] === "command terminated with exit code 1",
      ),
    );
    const raw = await backupLog(kc, "legacy");
    assert.ok(
      !raw.includes("<") && raw.includes('"hookName":"\\u003cfrom-annotation\\u003e"'),
      "Go's JSON encoder escapes < and >",
    );

    const results = await backupResults(kc, "legacy");
    assert.ok(
      results.errors.namespaces.shop.includes(
        " resource: /pods name: /p2 message: /Error executing hook error: /command terminated with exit code 3",
      ),
    );
  } finally {
    await velero.kill();
  }
});
