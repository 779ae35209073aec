// Every command's help: an Examples: section, no line over 80 columns (also when stdout is a wide
// terminal: the width is fixed), and the same flag names and choices for the same things.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runProcess } from "../helpers/process.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const help = async (args: string[]): Promise<string> => {
  const r = await runProcess(process.execPath, ["bin/hookguard.js", ...args, "--help"], {
    cwd: root,
    env: { ...process.env, COLUMNS: "200" },
    timeoutMs: 120_000,
  });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
};

const COMMANDS = [
  [],
  ["version"],
  ["agent"],
  ["webhook"],
  ["lint"],
  ["backup"],
  ["backup", "create"],
  ["backup", "get"],
  ["backup", "describe"],
  ["backup", "logs"],
  ["backup", "plan"],
];

describe("hookguard help", { concurrency: 4 }, () => {
  for (const cmd of COMMANDS) {
    test(`hookguard ${cmd.join(" ")} --help: Examples: and 80 columns`, async () => {
      const text = await help(cmd);
      assert.match(text, /\nExamples:\n {2}(hookguard|kubectl) /);
      const long = text.split("\n").filter((l) => l.length > 80);
      assert.deepEqual(long, []);
    });
  }

  test("the same flags for the same things: --kubeconfig/--context wherever a cluster is used, one set of log levels", async () => {
    const [agent, webhook, get, plan] = await Promise.all([
      help(["agent"]),
      help(["webhook"]),
      help(["backup", "get"]),
      help(["backup", "plan"]),
    ]);
    for (const text of [agent, webhook, get, plan]) {
      assert.match(text, /--kubeconfig <path>/);
      assert.match(text, /--context <name>/);
    }
    const levels = (text: string) =>
      ["fatal", "error", "warn", "info", "debug", "trace", "silent"].filter((l) =>
        new RegExp(`--log-level[\\s\\S]*?\\b${l}\\b[\\s\\S]*?\\n {2}-`).test(text),
      );
    assert.deepEqual(levels(webhook), levels(agent));
    assert.equal(levels(agent).length, 7);
    // plan reads no storage dir
    assert.doesNotMatch(plan, /--storage-dir/);
  });
});
