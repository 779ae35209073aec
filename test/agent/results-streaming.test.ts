// The standalone agent streams a stored archive: a 50 MiB file goes out through its stored-files
// port while the agent process's resident memory stays far below the file's size (reading it whole
// would add at least 50 MiB). Measured on the real agent process, from /proc, with a small young
// generation so that garbage does not pass for memory the agent holds.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApiServerHandle } from "../apiserver/server.js";
import { startDouble } from "./double.js";
import { kill, spawnAgent, type AgentProcess } from "./spawn.js";

const MIB = 1024 * 1024;
let api: ApiServerHandle;
let agent: AgentProcess;
let storageDir: string;
let resultsPort: number;
let expected: string;

before(async () => {
  api = await startDouble();
  storageDir = mkdtempSync(join(tmpdir(), "hookguard-stream-"));
  mkdirSync(join(storageDir, "big-1"));
  const data = randomBytes(50 * MIB);
  expected = createHash("sha256").update(data).digest("hex");
  writeFileSync(join(storageDir, "big-1", "big-1.tar.gz"), data);
  // a small young generation: short-lived chunk garbage is collected at once, so RSS shows what the
  // agent keeps, not how lazily V8 collects (its default semi-spaces alone can hold ~30 MiB of garbage)
  const nodeOptions = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${nodeOptions ?? ""} --max-semi-space-size=1`.trim();
  agent = spawnAgent([
    "--kubeconfig",
    api.kubeconfigPath,
    "--no-leader-elect",
    "--storage-dir",
    storageDir,
    "--results-port",
    "0",
    "--metrics-port",
    "0",
    "--metrics-bind-address",
    "127.0.0.1",
    "--log-level",
    "info",
  ]);
  if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
  else process.env.NODE_OPTIONS = nodeOptions;
  await agent.ready;
  const line = agent
    .stderr()
    .split("\n")
    .find((l) => l.includes('"stored files listening"'));
  assert.ok(line, agent.stderr());
  resultsPort = JSON.parse(line).port;
});

after(async () => {
  if (agent) await kill(agent);
  await api?.stop();
});

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)![1]) * 1024;
}

test("a 50 MiB archive streams out whole while the agent's RSS stays flat", async () => {
  const pid = agent.child.pid!;
  const baseline = await rssBytes(pid);
  let peak = baseline;
  const sampler = setInterval(() => {
    rssBytes(pid)
      .then((r) => (peak = Math.max(peak, r)))
      .catch(() => undefined);
  }, 10);
  const got = await new Promise<{ status: number; sha: string; size: number }>((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: resultsPort, path: "/backups/big-1/archive", rejectUnauthorized: false },
      (res) => {
        const hash = createHash("sha256");
        let size = 0;
        res.on("data", (c: Buffer) => {
          hash.update(c);
          size += c.length;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, sha: hash.digest("hex"), size }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
  clearInterval(sampler);
  peak = Math.max(peak, await rssBytes(pid));
  assert.equal(got.status, 200);
  assert.equal(got.size, 50 * MIB);
  assert.equal(got.sha, expected);
  const growth = peak - baseline;
  assert.ok(growth < 25 * MIB, `agent RSS grew by ${(growth / MIB).toFixed(1)} MiB serving a 50 MiB file`);
  process.stdout.write(
    `# agent RSS ${(baseline / MIB).toFixed(1)} MiB, +${(growth / MIB).toFixed(1)} MiB while serving 50 MiB\n`,
  );
});
