// The agent metrics the alerts rely on, as Prometheus scrapes them: backups_total exists per phase
// before the first backup (so "no Completed backup in 25h" can be computed on a fresh agent), and the
// oldest running backup's start time follows backups starting and ending in any order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AgentMetrics } from "../../src/agent/runtime/metrics.js";

async function value(m: AgentMetrics, series: string): Promise<number | undefined> {
  const text = await m.registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test("hookguard_backups_total is exported at 0 for every final phase before any backup", async () => {
  const m = new AgentMetrics();
  for (const phase of ["Completed", "PartiallyFailed", "Failed"])
    assert.equal(await value(m, `hookguard_backups_total{phase="${phase}"}`), 0, phase);
});

test("the oldest in-progress start time is 0 when idle and follows overlapping backups", async (t) => {
  t.mock.timers.enable({ apis: ["Date"], now: 1_000_000 });
  const m = new AgentMetrics();
  const series = "hookguard_backup_oldest_in_progress_start_timestamp_seconds";
  assert.equal(await value(m, series), 0);
  const first = m.backupStarted();
  t.mock.timers.tick(60_000);
  const second = m.backupStarted();
  assert.equal(await value(m, series), 1000, "the older of two running backups");
  first();
  assert.equal(await value(m, series), 1060, "the first ended: the second is the oldest");
  first();
  assert.equal(await value(m, series), 1060, "ending twice changes nothing");
  second();
  assert.equal(await value(m, series), 0, "idle again");
});
