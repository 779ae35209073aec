// The Dockerfile and .dockerignore (no container engine here): the structure a reviewer would check,
// the image's build step (tsc -p tsconfig.build.json) run for real, and the CLI run from the image's
// layout (bin/ + dist/ + package.json, no src/) accepting every flag the chart passes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { cp, symlink } from "node:fs/promises";
import { join } from "node:path";
import { renderChart, repoRoot, run } from "./render.js";
import { valueCases } from "./cases.js";
import { withTempDir } from "../observability/promtool.js";

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** Dockerfile instructions (continuations joined, comments dropped), each with its stage index. */
function parseDockerfile(text: string): { instructions: Instruction[]; args: Record<string, string> } {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const instructions: Instruction[] = [];
  const args: Record<string, string> = {};
  let stage = -1;
  for (const line of lines) {
    const [, op, rest] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (!op) continue;
    const upper = op.toUpperCase();
    if (upper === "FROM") stage++;
    if (upper === "ARG" && stage < 0) {
      const [k, v] = rest!.split("=");
      args[k!] = v ?? "";
    }
    instructions.push({ op: upper, args: rest!, stage });
  }
  return { instructions, args };
}

const dockerfile = parseDockerfile(readFileSync(join(repoRoot, "Dockerfile"), "utf8"));
const dockerignore = readFileSync(join(repoRoot, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));

function ignored(path: string): boolean {
  const first = path.replace(/^\.\//, "").split("/")[0]!;
  return dockerignore.some((p) => p === first || (p.startsWith("*") && first.endsWith(p.slice(1))));
}

test("Dockerfile: multi-stage, pinned Node 20 bases, slim runtime as a numeric non-root user", () => {
  const { instructions, args } = dockerfile;
  const froms = instructions
    .filter((i) => i.op === "FROM")
    .map((i) => i.args.replace(/\$\{(\w+)\}/g, (_, k) => args[k] ?? ""));
  assert.ok(froms.length >= 2, "multi-stage");
  for (const f of froms) {
    const image = f.split(/\s+/)[0]!;
    assert.match(
      image,
      /^(node:20\.\d+\.\d+-bookworm(-slim)?|gcr\.io\/distroless\/nodejs20-debian12(:[\w.-]+)?(@sha256:[a-f0-9]{64})?)$/,
      `base ${image}`,
    );
    assert.doesNotMatch(image, /:latest\b/);
    assert.match(f, /\sAS\s+\w+$/i, `stage ${image} is named`);
  }
  const last = froms.at(-1)!;
  assert.match(
    last,
    /^(node:20\.\d+\.\d+-bookworm-slim|gcr\.io\/distroless\/nodejs20)/,
    "runtime is slim or distroless",
  );
  const final = instructions.filter((i) => i.stage === froms.length - 1);
  const users = final.filter((i) => i.op === "USER");
  assert.equal(users.length, 1);
  assert.match(users[0]!.args, /^[1-9]\d*:[1-9]\d*$/, "numeric UID:GID, not root");
  assert.equal(users[0]!.args, "65532:65532", "the UID the chart's securityContext expects");
  const entry = final.find((i) => i.op === "ENTRYPOINT");
  assert.deepEqual(JSON.parse(entry!.args), ["node", "/app/bin/hookguard.js"]);
  // the runtime holds no sources and no compiler: only bin/, dist/, package.json and production node_modules
  const copies = final.filter((i) => i.op === "COPY").map((i) => i.args);
  assert.ok(
    copies.every((c) => !/\bsrc\b|tsconfig/.test(c)),
    `runtime copies sources: ${copies.join("; ")}`,
  );
  assert.ok(
    copies.some((c) => /--from=\w+.*\/dist\s/.test(c)),
    "dist/ from the build stage",
  );
  const nm = copies.find((c) => /node_modules/.test(c))!;
  const depsStage = /--from=(\w+)/.exec(nm)![1]!;
  const depsIndex = froms.findIndex((f) => new RegExp(`AS\\s+${depsStage}$`, "i").test(f));
  const depsRuns = instructions
    .filter((i) => i.stage === depsIndex && i.op === "RUN")
    .map((i) => i.args)
    .join(" ");
  assert.match(
    depsRuns,
    /npm ci --omit=dev --ignore-scripts/,
    "production dependencies only, no install scripts",
  );
  const build = instructions
    .filter((i) => i.op === "RUN")
    .map((i) => i.args)
    .join(" ");
  assert.match(build, /tsc -p tsconfig\.build\.json/);
});

test("Dockerfile: every file copied from the build context exists and is not excluded by .dockerignore", () => {
  for (const i of dockerfile.instructions.filter((x) => x.op === "COPY" && !x.args.includes("--from="))) {
    const parts = i.args.split(/\s+/).filter((p) => !p.startsWith("--"));
    for (const src of parts.slice(0, -1)) {
      assert.ok(existsSync(join(repoRoot, src)), `${src} does not exist`);
      assert.ok(!ignored(src), `${src} is excluded by .dockerignore`);
    }
  }
  for (const p of ["node_modules", ".git", "dist", "certs", "test"])
    assert.ok(ignored(p), `${p} must not reach the build context`);
});

test("the image's build step compiles, and the CLI runs from the image layout with every flag the chart passes", async () => {
  await withTempDir(async (dir) => {
    const app = join(dir, "app");
    const tsc = await run(
      process.execPath,
      [
        join(repoRoot, "node_modules/typescript/bin/tsc"),
        "-p",
        "tsconfig.build.json",
        "--outDir",
        join(app, "dist"),
      ],
      { timeoutMs: 170_000 },
    );
    assert.equal(
      tsc.code,
      0,
      `tsc -p tsconfig.build.json failed (the image build would too):\n${tsc.stdout}${tsc.stderr}`,
    );
    assert.ok(existsSync(join(app, "dist/cli/main.js")), "dist/cli/main.js is what bin/hookguard.js runs");
    await cp(join(repoRoot, "bin"), join(app, "bin"), { recursive: true });
    await cp(join(repoRoot, "package.json"), join(app, "package.json"));
    await symlink(join(repoRoot, "node_modules"), join(app, "node_modules"), "dir");
    assert.ok(
      !existsSync(join(app, "src")),
      "the image layout has no src/: bin/hookguard.js must pick dist/",
    );
    const cli = (args: string[]) =>
      run(process.execPath, [join(app, "bin/hookguard.js"), ...args], { cwd: dir, timeoutMs: 30_000 });

    const version = await cli(["--version"]);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(
      version.stdout.trim(),
      JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).version,
    );

    // every flag of every value set, per component
    const flags: Record<string, Set<string>> = { webhook: new Set(), agent: new Set(), probe: new Set() };
    for (const values of Object.values(valueCases)) {
      for (const d of (await renderChart(values)).filter(
        (x) => x.kind === "Deployment" || x.kind === "Pod",
      )) {
        const args: string[] = (d.kind === "Pod" ? d.spec : d.spec.template.spec).containers[0].args;
        for (const a of args.slice(1)) if (a.startsWith("--")) flags[args[0]!]!.add(a.split("=")[0]!);
      }
    }
    for (const [command, used] of Object.entries(flags)) {
      const help = await cli([command, "--help"]);
      assert.equal(help.code, 0, `hookguard ${command} --help: ${help.stderr}`);
      for (const flag of used)
        assert.match(
          help.stdout,
          new RegExp(`(^|[\\s,])${flag}\\b`),
          `hookguard ${command} does not accept ${flag}, which the chart passes`,
        );
    }
  });
});

test("the README's build and push commands produce the image the chart installs by default", async () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const build = /^docker build -t (\S+) \.(\s|$)/m.exec(readme);
  assert.ok(build, "README shows a docker build command run from the repository root");
  const push = /^docker push (\S+)$/m.exec(readme);
  assert.equal(push?.[1], build[1], "README pushes what it built");
  const docs = await renderChart();
  const images = new Set(
    docs.filter((d) => d.kind === "Deployment").map((d) => d.spec.template.spec.containers[0].image),
  );
  assert.deepEqual([...images], [build[1]], "the chart's default image is the one the README builds");
  const chart = readFileSync(join(repoRoot, "charts/hookguard/Chart.yaml"), "utf8");
  const appVersion = /^appVersion: "?([^"\n]+)"?$/m.exec(chart)![1];
  assert.equal(build[1]!.split(":").at(-1), appVersion, "tagged with the chart's appVersion");
  assert.equal(
    JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).version,
    appVersion,
    "which is the package version the image reports",
  );
  assert.match(
    readFileSync(join(repoRoot, "Dockerfile"), "utf8"),
    new RegExp(`docker build -t ${build[1]!.replace(/[.]/g, "\\.")} \\.`),
    "the Dockerfile's own build line agrees",
  );
});
