// Agent flags: defaults, every problem reported at once, selector syntax.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildAgentConfig, type AgentFlags } from "../../src/agent/runtime/config.js";
import { parseLabelSelector } from "../../src/domain/index.js";

const flags = (over: Partial<AgentFlags> = {}): AgentFlags => ({
  namespace: "velero",
  metricsPort: "8081",
  workers: "4",
  maxFreezeWindow: "10m",
  snapshotTimeout: "5m",
  leaseName: "hookguard-agent",
  logLevel: "info",
  ...over,
});

test("defaults: 4 workers, 10m freeze window, 5m snapshot timeout, storage dir from env, leader election in-cluster only", () => {
  const c = buildAgentConfig(flags(), { HOOKGUARD_STORAGE_DIR: "/data" }, false);
  assert.ok(c.ok);
  assert.equal(c.value.workers, 4);
  assert.equal(c.value.maxFreezeWindowMs, 600_000);
  assert.equal(c.value.snapshotTimeoutMs, 300_000);
  assert.equal(c.value.storageDir, "/data");
  assert.equal(c.value.leaderElect, false);
  assert.match(c.value.identity, /-\d+$/);
  const inCluster = buildAgentConfig(flags(), {}, true);
  assert.ok(inCluster.ok && inCluster.value.leaderElect && inCluster.value.storageDir === "./hookguard-data");
  const off = buildAgentConfig(flags({ leaderElect: false }), {}, true);
  assert.ok(off.ok && !off.value.leaderElect);
});

test("every bad flag is reported at once, in Go duration terms where it applies", () => {
  const c = buildAgentConfig(
    flags({
      mode: "standalone",
      workers: "0",
      maxFreezeWindow: "10",
      snapshotTimeout: "1d",
      metricsPort: "99999",
      backupSelector: "a=b,=c",
      logLevel: "loud",
    }),
    {},
    false,
  );
  assert.equal(c.ok, false);
  assert.ok(!c.ok);
  assert.deepEqual(c.error, [
    '--metrics-port must be an integer from 0 to 65535, got "99999"',
    '--workers must be an integer from 1 to 256, got "0"',
    '--max-freeze-window: time: missing unit in duration "10"',
    '--snapshot-timeout: time: unknown unit "d" in duration "1d"',
    "--log-level must be one of fatal, error, warn, info, debug, trace, silent",
    '--backup-selector: cannot parse label selector term "=c" (use k=v, k!=v, k, !k, k in (v1,v2) or k notin (v1,v2))',
  ]);
});

test("label selector syntax: k=v, k==v, k!=v, k, !k", () => {
  assert.deepEqual(parseLabelSelector("a=b, c==d,e!=f,g,!h"), {
    ok: true,
    value: {
      matchLabels: { a: "b", c: "d" },
      matchExpressions: [
        { key: "e", operator: "NotIn", values: ["f"] },
        { key: "g", operator: "Exists" },
        { key: "h", operator: "DoesNotExist" },
      ],
    },
  });
  assert.equal(parseLabelSelector("a=b,").ok, false);
  // set-based terms (kubectl -l): commas inside the parentheses belong to the set
  assert.deepEqual(parseLabelSelector("app in (a, b),tier notin (c),a=b"), {
    ok: true,
    value: {
      matchLabels: { a: "b" },
      matchExpressions: [
        { key: "app", operator: "In", values: ["a", "b"] },
        { key: "tier", operator: "NotIn", values: ["c"] },
      ],
    },
  });
  // a second value for a key is a second requirement (both must hold), not an overwrite
  assert.deepEqual(parseLabelSelector("a=b,a=c"), {
    ok: true,
    value: { matchLabels: { a: "b" }, matchExpressions: [{ key: "a", operator: "In", values: ["c"] }] },
  });
  assert.equal(parseLabelSelector("app in (a,b").ok, false);
  assert.equal(parseLabelSelector("app in ((a))").ok, false);
});

test("--mode: companion by default, standalone on request, anything else refused", () => {
  const byDefault = buildAgentConfig(flags(), {}, false);
  assert.ok(byDefault.ok && byDefault.value.mode === "companion");
  const standalone = buildAgentConfig(
    flags({ mode: "standalone", storageDir: "/data", backupSelector: "team=a" }),
    {},
    false,
  );
  assert.ok(
    standalone.ok && standalone.value.mode === "standalone" && standalone.value.storageDir === "/data",
  );
  const bad = buildAgentConfig(flags({ mode: "velero" }), {}, false);
  assert.ok(!bad.ok);
  assert.deepEqual(bad.error, ['--mode must be companion or standalone, got "velero"']);
});

test("companion mode refuses the flags that only steer hookguard's own Backups, naming each", () => {
  const c = buildAgentConfig(
    flags({ storageDir: "/data", volumeSnapshotClass: "csi", backupSelector: "team=a", parallelHooks: true }),
    {},
    false,
  );
  assert.ok(!c.ok);
  assert.deepEqual(c.error, [
    "--storage-dir, --parallel-hooks, --volume-snapshot-class, --backup-selector only apply with --mode standalone (in companion mode Velero runs the Backups)",
  ]);
});

test("companion: the thaw guard is on by default, --no-thaw-guard turns it off; --max-freeze-window 0 turns its trigger off", () => {
  const on = buildAgentConfig(flags(), {}, false);
  assert.ok(on.ok && on.value.mode === "companion" && on.value.thawGuard === true);
  const off = buildAgentConfig(flags({ thawGuard: false, maxFreezeWindow: "0" }), {}, false);
  assert.ok(off.ok && off.value.thawGuard === false && off.value.maxFreezeWindowMs === 0);
  // standalone needs a bound, and has no thaw guard to turn off
  const standalone = buildAgentConfig(
    flags({ mode: "standalone", thawGuard: false, maxFreezeWindow: "0s" }),
    {},
    false,
  );
  assert.deepEqual(standalone.ok ? [] : standalone.error, [
    "--max-freeze-window must be positive, got 0s",
    "--no-thaw-guard only applies with --mode companion (standalone runs its own post hooks)",
  ]);
  const negative = buildAgentConfig(flags({ maxFreezeWindow: "-1m" }), {}, false);
  assert.deepEqual(negative.ok ? [] : negative.error, ["--max-freeze-window must be 0 or more, got -1m"]);
});

test("--gc-interval: 1h by default (Velero's GC frequency), a positive Go duration, standalone only", () => {
  const d = buildAgentConfig(flags({ mode: "standalone" }), {}, false);
  assert.ok(d.ok && d.value.gcIntervalMs === 3_600_000);
  const set = buildAgentConfig(flags({ mode: "standalone", gcInterval: "15m" }), {}, false);
  assert.ok(set.ok && set.value.gcIntervalMs === 900_000);
  const bad = buildAgentConfig(flags({ mode: "standalone", gcInterval: "0s" }), {}, false);
  assert.ok(!bad.ok);
  assert.deepEqual(bad.error, ["--gc-interval must be positive, got 0s"]);
  const companion = buildAgentConfig(flags({ gcInterval: "15m" }), {}, false);
  assert.ok(!companion.ok);
  assert.match(companion.error.join("\n"), /--gc-interval only apply with --mode standalone/);
});
