// How `hookguard` starts: the compiled dist/ when it matches src/, the sources through tsx when a
// developer edited src/ since the last build (never a stale dist/), and the `version` command.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runProcess } from "../helpers/process.js";
import { VERSION } from "../../src/version.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

/** A checkout whose dist/ and src/ entry points print which one ran. */
function fakeCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), "hookguard-startup-"));
  mkdirSync(join(dir, "bin"));
  mkdirSync(join(dir, "dist/cli"), { recursive: true });
  mkdirSync(join(dir, "src/cli"), { recursive: true });
  for (const f of ["hookguard.js", "dist-current.js"])
    copyFileSync(join(root, "bin", f), join(dir, "bin", f));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  writeFileSync(join(dir, "dist/cli/main.js"), 'console.log("dist");\n');
  writeFileSync(join(dir, "src/cli/main.ts"), 'const from: string = "src";\nconsole.log(from);\n');
  return dir;
}
const past = (s: number) => new Date(Date.now() - s * 1000);

describe("hookguard startup", { concurrency: 2 }, () => {
  test("runs dist/ when its build stamp is newer than every source file, the sources once src/ changes", async () => {
    const dir = fakeCheckout();
    try {
      const run = () =>
        runProcess(process.execPath, [join(dir, "bin/hookguard.js")], { cwd: dir, timeoutMs: 60_000 });
      // no stamp: the last build failed or never ran (npm ci --ignore-scripts)
      assert.equal((await run()).stdout, "src\n");
      utimesSync(join(dir, "src/cli/main.ts"), past(60), past(60));
      writeFileSync(join(dir, "dist/.build-stamp"), "");
      utimesSync(join(dir, "dist/.build-stamp"), past(30), past(30));
      assert.equal((await run()).stdout, "dist\n");
      writeFileSync(join(dir, "src/cli/other.ts"), "export {};\n"); // an edit after the build
      assert.equal((await run()).stdout, "src\n");
      // an image: no src/ at all
      rmSync(join(dir, "src"), { recursive: true });
      rmSync(join(dir, "dist/.build-stamp"));
      assert.equal((await run()).stdout, "dist\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("`hookguard version` and `--version` print the version; the help lists the version command", async () => {
    for (const args of [["version"], ["--version"]]) {
      const r = await runProcess(process.execPath, ["bin/hookguard.js", ...args], {
        cwd: root,
        timeoutMs: 60_000,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${VERSION}\n`);
    }
    const help = await runProcess(process.execPath, ["bin/hookguard.js", "version", "--help"], {
      cwd: root,
      timeoutMs: 60_000,
    });
    assert.match(help.stdout, /Examples:\n {2}hookguard version/);
  });
});
