// `hookguard agent --mode companion` as its own process for the companion e2e tests: as the chart's
// companion user (its kubeconfig), trusting the BSL's CA for downloads (--download-ca-file), metrics on
// a free loopback port, SIGKILLed as a pod dies.
import assert from "node:assert/strict";
import { join } from "node:path";
import { waitFor, ROOT } from "../agent/double.js";
import { spawnReady, type ReadyProcess } from "../helpers/process.js";

export interface CompanionAgent extends ReadyProcess {
  metricsPort: number;
  kill(): Promise<void>;
}

/**
 * Starts the agent and waits until it has logged each of `startedLines` (what the test relies on
 * having started: e.g. the observer, since Backups that finished before it started are not reported).
 */
export async function startCompanion(
  kubeconfigPath: string,
  caFile: string,
  startedLines: string[],
  extra: string[] = [],
): Promise<CompanionAgent> {
  const p = spawnReady(
    process.execPath,
    [
      join(ROOT, "bin/hookguard.js"),
      "agent",
      "--mode",
      "companion",
      "--kubeconfig",
      kubeconfigPath,
      "--download-ca-file",
      caFile,
      "--no-leader-elect",
      "--metrics-port",
      "0",
      "--metrics-bind-address",
      "127.0.0.1",
      "--log-level",
      "info",
      ...extra,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, KUBECONFIG: "" },
      marker: "hookguard agent started",
      stream: "stderr",
      name: "companion agent",
    },
  );
  await p.ready;
  for (const started of startedLines)
    await waitFor(started, () => p.stderr().includes(started) || undefined, 60_000, 50);
  const line = p
    .stderr()
    .split("\n")
    .find((l) => l.includes('"metrics listening"'));
  assert.ok(line, p.stderr());
  return {
    ...p,
    metricsPort: JSON.parse(line).port,
    async kill() {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      p.child.kill("SIGKILL");
      await p.exited;
    },
  };
}
