// Compiles what a bench runs with tsc, the way the image ships hookguard (Dockerfile: `tsc`, then
// `node dist/...`), so a bench measures the code users run. Running the sources through tsx instead
// adds per-call costs of its own: esbuild's keepNames wraps every named closure in a `__name(...)`
// helper that calls Object.defineProperty each time the closure is created.
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(fileURLToPath(new URL("..", import.meta.url)));

/**
 * Compiles `entries` (repository-relative .ts paths) and everything they import into
 * `node_modules/.cache/hookguard-bench/<name>/`, keeping the repository layout, so bare imports
 * resolve to the project's node_modules. Returns the output directory.
 */
export async function compileForBench(name: string, entries: string[]): Promise<string> {
  const outDir = join(REPO, "node_modules", ".cache", "hookguard-bench", name);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const config = join(outDir, "tsconfig.json");
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(REPO, "tsconfig.json"),
      compilerOptions: { noEmit: false, rootDir: REPO, outDir, sourceMap: false, declaration: false },
      files: entries.map((e) => join(REPO, e)),
      include: [],
    }),
  );
  const tsc = join(REPO, "node_modules", "typescript", "bin", "tsc");
  await new Promise<void>((done, fail) => {
    const child = spawn(process.execPath, [tsc, "-p", config], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.on("error", fail);
    child.on("close", (code) =>
      code === 0
        ? done()
        : fail(new Error(`tsc failed (exit ${code}) compiling ${entries.join(", ")}:\n${output}`)),
    );
  });
  return outDir;
}

/** Where a compiled entry landed: `bench/webhook/servers.ts` -> `<outDir>/bench/webhook/servers.js`. */
export function compiledPath(outDir: string, entry: string): string {
  return join(outDir, entry.replace(/\.ts$/, ".js"));
}
