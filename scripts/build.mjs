#!/usr/bin/env node
// Compiles src/ into dist/ with tsc (tsconfig.build.json), the JavaScript the bin and the image run.
// `npm ci` runs it through `prepare`; scripts/run-tests.mjs runs it when src/ changed since the last
// build, so the tests spawn what users run. The stamp it writes after a successful compile is dated
// when the compile started (bin/dist-current.js compares src/ mtimes against it); a failed compile
// leaves no stamp, so the bin falls back to the sources rather than run a half-emitted dist/.
import { spawnSync } from "node:child_process";
import { closeSync, openSync, rmSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { STAMP } from "../bin/dist-current.js";

const root = fileURLToPath(new URL("..", import.meta.url));
export function build() {
  const started = new Date();
  const stamp = join(root, STAMP);
  rmSync(stamp, { force: true });
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], {
    cwd: root,
    stdio: "inherit",
  });
  if (r.status !== 0) return false;
  closeSync(openSync(stamp, "w"));
  utimesSync(stamp, started, started);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!build()) {
    console.error("build: tsc failed; dist/ is not used until it compiles");
    process.exitCode = 1;
  }
}
