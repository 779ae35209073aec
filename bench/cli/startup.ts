// `npm run bench:cli`: wall time of a CLI call from a user's shell, as the median of interleaved runs
// (BENCH_RUNS, 9 by default), next to `node -e 0` (the floor no Node CLI can beat on this machine) and
// to the same commands run from the TypeScript sources through tsx (what every call cost before dist/
// shipped). Ratios matter more than milliseconds: outside load moves both alike.
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { distState } from "../../bin/dist-current.js";
import { build } from "../../scripts/build.mjs";

const REPO = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const BIN = join(REPO, "bin/hookguard.js");
const SRC = join(REPO, "src/cli/main.ts");

interface Case {
  label: string;
  argv: string[];
}
const cases: Case[] = [
  { label: "node -e 0", argv: ["-e", "0"] },
  { label: "hookguard --version", argv: [BIN, "--version"] },
  { label: "hookguard lint examples/", argv: [BIN, "lint", "examples/"] },
  { label: "tsx sources: --version", argv: ["--import", "tsx", SRC, "--version"] },
  { label: "tsx sources: lint examples/", argv: ["--import", "tsx", SRC, "lint", "examples/"] },
];

function timeOnce(argv: string[]): Promise<number> {
  return new Promise((done, fail) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, argv, { cwd: REPO, stdio: "ignore" });
    child.on("error", fail);
    child.on("close", (code) => {
      if (code !== 0) fail(new Error(`node ${argv.join(" ")} exited ${code}`));
      else done(Number(process.hrtime.bigint() - start) / 1e6);
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

if (distState(REPO) !== "current" && !build()) throw new Error("tsc could not build dist/");
const samples = new Map<string, number[]>(cases.map((c) => [c.label, []]));
for (let round = 0; round < RUNS; round++) {
  for (const c of cases) samples.get(c.label)!.push(await timeOnce(c.argv));
}
const floor = median(samples.get("node -e 0")!);
console.log(
  `node ${process.version}, ${RUNS} interleaved runs, median wall time; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
for (const c of cases) {
  const m = median(samples.get(c.label)!);
  console.log(
    `${c.label.padEnd(30)} ${m.toFixed(0).padStart(6)} ms  ${(m / floor).toFixed(1).padStart(5)}x node -e 0`,
  );
}
