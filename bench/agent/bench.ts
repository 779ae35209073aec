// `npm run bench:agent`: the agent's own costs on this machine, against the API-server double.
// (a) per-hook overhead: a no-op hook (/bin/true) through the agent's exec path (runHook -> client-
//     node WebSocket exec -> the double -> the confined process) vs spawning the same confined
//     process directly (same unshare/chroot confinement, same root); p50/p99 of the difference.
// (b) a Backup of N pods, each with pre and post `sleep 0.05` hooks, run by the agent as a real
//     process with --workers 16, vs the ideal ceil(N/16) x 100 ms; plus the agent's peak RSS. The
//     agent runs from a compiled build (tsc, through bench/build.ts, made by the bench first), as the
//     image runs it, not through tsx (which compiles TypeScript in-process and adds ~80 MB RSS).
// (c) ItemBlock grouping of 10,000 pods / 5,000 PVCs (pairs of pods share a PVC).
// The last line of output is one JSON object.
import { mkdtempSync, readFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { performance } from "node:perf_hooks";
import { KubeConfig } from "@kubernetes/client-node";
import { buildItemBlocks, type PodLike, type PvcLike, type PvLike } from "../../src/domain/index.js";
import { silentLogger } from "../../src/log.js";
import { createAgentCluster } from "../../src/kube/agent-cluster.js";
import { createPodExecutor } from "../../src/kube/exec.js";
import { BackupLog } from "../../src/agent/store/backup-log.js";
import type { RunContext } from "../../src/agent/runtime/run-context.js";
import { runHook } from "../../src/agent/hooks/exec-hook.js";
import { AgentMetrics } from "../../src/agent/runtime/metrics.js";
import { KeyedMutex } from "../../src/agent/runtime/pod-lock.js";
import { HookTracker } from "../../src/agent/hooks/tracker.js";
import type { ExecHook } from "../../src/domain/types.js";
import { startApiServer, type ApiServerHandle } from "../../test/apiserver/server.js";
import { containerRootPath } from "../../test/apiserver/exec/rootfs.js";
import { startConfined } from "../../test/apiserver/exec/runner.js";
import { spawnAgent, kill } from "../../test/agent/spawn.js";
import { compileForBench, compiledPath } from "../build.js";
import { cpuTimes } from "../proc.js";
import { ROOT, waitFor } from "../../test/agent/double.js";

const HOOK_RUNS = Number(process.env.BENCH_HOOK_RUNS ?? 200);
const PODS = Number(process.env.BENCH_PODS ?? 200);
const WORKERS = 16;
const AGENT_ENTRY = "src/cli/main.ts";

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

function podManifest(name: string, annotations: Record<string, string> = {}): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "bench", annotations },
    spec: { containers: [{ name: "main", image: "busybox", command: ["/bin/sleep", "infinity"] }] },
  };
}

async function waitRunning(api: ApiServerHandle, names: string[]): Promise<void> {
  await waitFor(
    "pods Running",
    () =>
      names.every((n) => api.getObject("v1", "Pod", "bench", n)?.status?.phase === "Running")
        ? true
        : undefined,
    120_000,
  );
}

function directRun(root: string, argv = ["/bin/true"]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = startConfined({
      root,
      workingDir: "/",
      argv,
      env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root" },
      stdin: false,
    });
    child.stdout?.resume();
    child.stderr?.resume();
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`direct /bin/true exited ${code}`)),
    );
  });
}

async function benchOverhead(
  api: ApiServerHandle,
  kc: KubeConfig,
): Promise<{ p50: number; p99: number; execP50: number; directP50: number }> {
  api.createObject(podManifest("noop"));
  await waitRunning(api, ["noop"]);
  const pod = api.getObject("v1", "Pod", "bench", "noop");
  const cluster = createAgentCluster(kc, silentLogger());
  const executor = createPodExecutor(kc);
  const ctx: RunContext = {
    backup: {
      apiVersion: "velero.io/v1",
      kind: "Backup",
      metadata: { name: "bench", namespace: "velero" },
      spec: {},
    },
    cluster,
    executor,
    podLocks: new KeyedMutex(),
    tracker: new HookTracker(),
    backupLog: new BackupLog("velero/bench"),
    metrics: new AgentMetrics(),
    records: [],
    signal: new AbortController().signal,
    logger: silentLogger(),
  };
  const hook: ExecHook = {
    phase: "pre",
    source: "annotation",
    name: "",
    index: 0,
    resourceIndex: -1,
    containerAsWritten: "main",
    container: "main",
    argv: ["/bin/true"],
    onError: "Fail",
    onErrorExplicit: true,
    timeoutMs: 30_000,
    legacy: false,
    blockers: [],
    warnings: [],
  };
  const ref = { namespace: "bench", name: "noop" };
  const root = containerRootPath(join(api.dir, "exec"), pod.metadata.uid, "main");
  // warm-up: creates the container's root and JITs both paths
  for (let i = 0; i < 10; i++) {
    const r = await runHook(ctx, ref, pod, hook);
    if (r.result !== "succeeded") throw new Error(`warm-up hook failed: ${r.error}`);
    await directRun(root);
  }
  const viaAgent: number[] = [];
  const direct: number[] = [];
  // interleaved so machine noise hits both series alike
  for (let i = 0; i < HOOK_RUNS; i++) {
    let t = performance.now();
    const r = await runHook(ctx, ref, pod, hook);
    viaAgent.push(performance.now() - t);
    if (r.result !== "succeeded") throw new Error(`hook failed: ${r.error}`);
    t = performance.now();
    await directRun(root);
    direct.push(performance.now() - t);
  }
  const diffs = viaAgent.map((v, i) => v - direct[i]!);
  return {
    p50: pct(viaAgent, 50) - pct(direct, 50),
    p99: pct(diffs, 99),
    execP50: pct(viaAgent, 50),
    directP50: pct(direct, 50),
  };
}

/** Busy and total CPU time of the whole machine so far (/proc/stat, all cores, clock ticks). */
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  // idle + iowait
  return { busy: total - f[3]! - (f[4] ?? 0), total };
}

/** The machine's floor for (b): the same 2N confined `sleep 0.05` spawned directly, 16 at a time. */
async function directFloor(api: ApiServerHandle, names: string[]): Promise<number> {
  const roots = names.map((n) =>
    containerRootPath(join(api.dir, "exec"), api.getObject("v1", "Pod", "bench", n).metadata.uid, "main"),
  );
  const jobs = [...roots, ...roots];
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (next < jobs.length) await directRun(jobs[next++]!, ["/bin/sleep", "0.05"]);
    }),
  );
  return (performance.now() - t) / 1000;
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function benchBackup(
  api: ApiServerHandle,
  kc: KubeConfig,
  agentEntry: string,
): Promise<{
  seconds: number;
  ideal: number;
  ratio: number;
  rssMb: number;
  hooks: number;
  floor: number;
  agentCpu: number;
  agentSys: number;
  doubleCpu: number;
  machineBusy: number;
}> {
  const names = Array.from({ length: PODS }, (_, i) => `p${String(i).padStart(4, "0")}`);
  const sleep = '["/bin/sleep", "0.05"]';
  for (const n of names)
    api.createObject(
      podManifest(n, {
        "pre.hook.backup.velero.io/command": sleep,
        "post.hook.backup.velero.io/command": sleep,
      }),
    );
  await waitRunning(api, names);
  // containers' filesystems exist before a real backup; create them now so the run measures hooks
  const executor = createPodExecutor(kc);
  for (let i = 0; i < names.length; i += 8) {
    await Promise.all(
      names.slice(i, i + 8).map((n) =>
        executor.exec({
          namespace: "bench",
          pod: n,
          container: "main",
          argv: ["/bin/true"],
          timeoutMs: 60_000,
        }),
      ),
    );
  }
  const floor = await directFloor(api, names);
  const storageDir = mkdtempSync(join(tmpdir(), "hookguard-bench-"));
  const agent = spawnAgent(
    [
      "--kubeconfig",
      api.kubeconfigPath,
      "--storage-dir",
      storageDir,
      "--metrics-port",
      "0",
      "--metrics-bind-address",
      "127.0.0.1",
      "--no-leader-elect",
      "--workers",
      String(WORKERS),
      "--log-level",
      "warn",
    ],
    agentEntry,
  );
  try {
    await Promise.race([
      agent.ready,
      new Promise((_, rej) => setTimeout(() => rej(new Error("agent did not start")), 60_000)),
    ]);
  } catch {
    // --log-level warn hides the "started" line: give it a moment instead
  }
  await new Promise((r) => setTimeout(r, 1500));
  const cpuBefore = cpuTimes(agent.child.pid!);
  const selfBefore = cpuTimes("self");
  const machineBefore = machineTicks();
  api.createObject({
    apiVersion: "velero.io/v1",
    kind: "Backup",
    metadata: { name: "bench-200", namespace: "velero" },
    spec: { includedNamespaces: ["bench"] },
  });
  const done = await waitFor(
    "bench backup",
    () => {
      const b = api.getObject("velero.io/v1", "Backup", "velero", "bench-200");
      return ["Completed", "PartiallyFailed", "Failed"].includes(b?.status?.phase) ? b : undefined;
    },
    300_000,
    20,
  );
  const rssMb = peakRssMb(agent.child.pid!);
  const cpuAfter = cpuTimes(agent.child.pid!);
  const selfAfter = cpuTimes("self");
  const machineAfter = machineTicks();
  const agentCpu = cpuAfter.user + cpuAfter.sys - cpuBefore.user - cpuBefore.sys;
  const agentSys = cpuAfter.sys - cpuBefore.sys;
  const doubleCpu = selfAfter.user + selfAfter.sys - selfBefore.user - selfBefore.sys;
  const machineBusy =
    (machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total);
  await kill(agent, "SIGTERM");
  if (done.status.phase !== "Completed")
    throw new Error(`bench backup ended ${done.status.phase}: ${JSON.stringify(done.status)}`);
  const seconds =
    (Date.parse(done.status.completionTimestamp) - Date.parse(done.status.startTimestamp)) / 1000;
  const ideal = Math.ceil(PODS / WORKERS) * 0.1;
  return {
    seconds,
    ideal,
    ratio: seconds / ideal,
    rssMb,
    hooks: done.status.hookStatus.hooksAttempted,
    floor,
    agentCpu,
    agentSys,
    doubleCpu,
    machineBusy,
  };
}

function benchGrouping(): number {
  const pods: PodLike[] = [];
  const pvcs: PvcLike[] = [];
  const pvs: PvLike[] = [];
  for (let i = 0; i < 5000; i++) {
    const ns = `ns-${i % 50}`;
    pvcs.push({
      metadata: { name: `data-${i}`, namespace: ns },
      spec: { volumeName: `pv-${i}` },
      status: { phase: "Bound" },
    });
    pvs.push({ metadata: { name: `pv-${i}` }, spec: { claimRef: { namespace: ns, name: `data-${i}` } } });
    for (const s of ["a", "b"]) {
      pods.push({
        metadata: { name: `pod-${i}-${s}`, namespace: ns },
        spec: {
          containers: [{ name: "c" }],
          volumes: [{ name: "d", persistentVolumeClaim: { claimName: `data-${i}` } }],
        },
        status: { phase: "Running" },
      });
    }
  }
  buildItemBlocks({ pods: pods.slice(0, 1000), pvcs, pvs }); // warm-up
  const t = performance.now();
  const blocks = buildItemBlocks({ pods, pvcs, pvs });
  const ms = performance.now() - t;
  if (blocks.length !== 5000) throw new Error(`expected 5000 blocks, got ${blocks.length}`);
  return ms;
}

const agentEntry = compiledPath(await compileForBench("agent", [AGENT_ENTRY]), AGENT_ENTRY);
console.log(
  `compiled the agent with tsc, as the image does: (b) runs node ${relative(ROOT, agentEntry)} agent`,
);
const groupingMs = benchGrouping();
console.log(`(c) ItemBlock grouping, 10,000 pods / 5,000 PVCs: ${round(groupingMs)} ms (target < 200 ms)`);
const api = await startApiServer({ namespaces: ["bench"] });
try {
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  const o = await benchOverhead(api, kc);
  console.log(
    `(a) no-op hook, ${HOOK_RUNS} runs: agent exec path p50 ${round(o.execP50)} ms, direct confined spawn p50 ${round(o.directP50)} ms -> overhead p50 ${round(o.p50)} ms, p99 ${round(o.p99)} ms (target p50 <= 5 ms)`,
  );
  const b = await benchBackup(api, kc, agentEntry);
  console.log(
    `(b) backup of ${PODS} pods x (pre+post sleep 0.05) at --workers ${WORKERS}: ${round(b.seconds)} s vs ideal ${round(b.ideal)} s = ${round(b.ratio)}x (target <= 1.3x); ${b.hooks} hooks; agent peak RSS ${round(b.rssMb, 1)} MB (target < 200 MB)`,
  );
  console.log(
    `    the same ${2 * PODS} confined sleeps spawned directly, ${WORKERS} at a time: ${round(b.floor)} s (this machine's floor: ${round(b.seconds / b.floor)}x of it)`,
  );
  console.log(
    `    during the backup: agent CPU ${round(b.agentCpu)} s (${round((1000 * b.agentCpu) / b.hooks, 1)} ms per hook, ${round(b.agentSys)} s of it in the kernel); API-server double (this process) CPU ${round(b.doubleCpu)} s; all ${availableParallelism()} cores ${Math.round(100 * b.machineBusy)}% busy`,
  );
  console.log(
    JSON.stringify({
      bench: "agent",
      overheadP50Ms: round(o.p50),
      overheadP99Ms: round(o.p99),
      backupRatioToIdeal: round(b.ratio),
      groupingMs: round(groupingMs),
      rssMb: round(b.rssMb, 1),
      backupSeconds: round(b.seconds),
      directFloorSeconds: round(b.floor),
      agentCpuSeconds: round(b.agentCpu),
      machineCpuBusy: round(b.machineBusy),
    }),
  );
} finally {
  await api.stop();
}
