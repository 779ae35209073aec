// The import boundaries of src/ (see src/agent/README.md), checked on every file's import
// statements. The checker is run on the real tree and, so that a rule that can no longer fail is
// noticed, on a small made-up tree that breaks each rule once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "../..");

/** src-relative path ("agent/hooks/run-phase.ts") -> source text */
type Sources = Map<string, string>;

function readSources(): Sources {
  const src = join(ROOT, "src");
  const out: Sources = new Map();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".ts")) out.set(relative(src, p), readFileSync(p, "utf8"));
    }
  };
  walk(src);
  return out;
}

/** Module specifiers of static imports/re-exports, side-effect imports and dynamic imports. */
export function importsOf(text: string): string[] {
  const specs: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) specs.push(m[1]!);
  return specs;
}

/** A relative specifier as a src-relative .ts path; undefined for packages and node: modules. */
function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  return join(dirname(from), spec).replace(/\.js$/, ".ts");
}

const topFolder = (file: string): string =>
  file.includes("/") ? file.slice(0, file.indexOf("/")) : file.replace(/\.ts$/, "");
const under = (file: string, folder: string): boolean => file.startsWith(`${folder}/`);

/** The composition root: the one place outside src/kube that may hold client-node and src/kube together with the agent. */
const COMPOSITION_ROOT = "cli/agent-main.ts";
const AGENT_MODES = ["agent/standalone", "agent/companion"];
const AGENT_SHARED = ["agent/hooks", "agent/scope", "agent/store", "agent/runtime"];
/** node: modules that do I/O or read the environment: the domain stays pure without them. */
const IO_MODULES =
  /^node:(fs|fs\/promises|net|http|https|http2|tls|dgram|dns|child_process|cluster|worker_threads|os|process|readline|repl|vm|inspector)$/;
/** Port methods that write a Backup's status (or the whole object, status included). */
const STATUS_WRITES = /\.(patchBackupStatus|replaceBackup)\s*\(/;

export function checkBoundaries(sources: Sources): string[] {
  const problems: string[] = [];
  const edges = new Map<string, Set<string>>();
  for (const [file, text] of sources) {
    for (const spec of importsOf(text)) {
      const target = resolveLocal(file, spec);
      const where = `${file} imports ${spec}`;
      if (under(file, "domain")) {
        if (target !== undefined && !under(target, "domain"))
          problems.push(`${where}: src/domain imports only src/domain`);
        if (target === undefined && spec.startsWith("node:") && IO_MODULES.test(spec))
          problems.push(`${where}: src/domain does no I/O`);
      }
      if (spec === "@kubernetes/client-node" || spec.startsWith("@kubernetes/client-node/")) {
        if (!under(file, "kube") && file !== COMPOSITION_ROOT)
          problems.push(`${where}: only src/kube (and ${COMPOSITION_ROOT}) use client-node`);
      }
      if (target === undefined) continue;
      if (under(file, "agent") && (under(target, "kube") || under(target, "cli")))
        problems.push(
          `${where}: src/agent never imports src/kube or src/cli (the wiring is in ${COMPOSITION_ROOT})`,
        );
      for (const mode of AGENT_MODES) {
        const other = AGENT_MODES.filter((m) => m !== mode);
        if (under(file, mode) && other.some((o) => under(target, o)))
          problems.push(`${where}: the agent's modes never import each other`);
      }
      if (
        (AGENT_SHARED.some((s) => under(file, s)) || file === "agent/ports.ts") &&
        AGENT_MODES.some((m) => under(target, m))
      ) {
        problems.push(`${where}: the agent's shared folders never import a mode`);
      }
      const [a, b] = [topFolder(file), topFolder(target)];
      if (a !== b) (edges.get(a) ?? edges.set(a, new Set()).get(a)!).add(b);
    }
    // Only the standalone operator writes a Backup's status; the adapters implement the port.
    const code = text.replace(/^\s*(\/\/|\*|\/\*).*$/gm, "");
    if (
      STATUS_WRITES.test(code) &&
      !under(file, "agent/standalone") &&
      !under(file, "kube") &&
      file !== "agent/ports.ts"
    ) {
      problems.push(
        `${file} writes a Backup's status (${STATUS_WRITES.exec(code)![1]}): only src/agent/standalone may`,
      );
    }
  }
  problems.push(...folderCycles(edges));
  return problems;
}

/** Every cycle between top-level folders, reported once per strongly connected group. */
function folderCycles(edges: Map<string, Set<string>>): string[] {
  const nodes = new Set([...edges.keys(), ...[...edges.values()].flatMap((s) => [...s])]);
  const reach = (from: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [...(edges.get(from) ?? [])];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push(...(edges.get(n) ?? []));
    }
    return seen;
  };
  const reachable = new Map([...nodes].map((n) => [n, reach(n)]));
  const reported = new Set<string>();
  const out: string[] = [];
  for (const n of [...nodes].sort()) {
    if (!reachable.get(n)!.has(n) || reported.has(n)) continue;
    const group = [...nodes].filter((m) => reachable.get(n)!.has(m) && reachable.get(m)!.has(n)).sort();
    group.forEach((m) => reported.add(m));
    out.push(`import cycle between top-level folders: ${group.join(" <-> ")}`);
  }
  return out;
}

test("src/ keeps its import boundaries", () => {
  const sources = readSources();
  assert.ok(sources.size > 50, `found only ${sources.size} source files`);
  assert.deepEqual(checkBoundaries(sources), []);
});

test("the boundary check fails for each broken rule", () => {
  const bad: Sources = new Map([
    [
      "domain/pure.ts",
      'import { readFileSync } from "node:fs";\nimport { x } from "../agent/ports.js";\nimport { parse } from "node:path";\n',
    ],
    [
      "agent/ports.ts",
      'import type { KubeApiError } from "../kube/errors.js";\n// comments may say patchBackupStatus(...)\n',
    ],
    ["agent/hooks/run-phase.ts", 'import { claim } from "../standalone/controller.js";\n'],
    [
      "agent/standalone/controller.ts",
      'import {\n  helper,\n} from "../companion/watch.js";\nawait cluster.replaceBackup(b);\n',
    ],
    ["agent/companion/watch.ts", 'const m = await import("../standalone/status.js");\n'],
    [
      "agent/store/results.ts",
      'export { view } from "../../cli/describe.js";\nawait deps.cluster.patchBackupStatus(ns, n, {});\n',
    ],
    ["cli/describe.ts", 'import { Exec } from "@kubernetes/client-node/dist/exec.js";\n'],
    [
      "cli/agent-main.ts",
      'import type { KubeConfig } from "@kubernetes/client-node";\nimport { BackupController } from "../agent/standalone/controller.js";\n',
    ],
    ["kube/errors.ts", 'import { ApiException } from "@kubernetes/client-node";\n'],
  ]);
  assert.deepEqual(checkBoundaries(bad), [
    "domain/pure.ts imports node:fs: src/domain does no I/O",
    "domain/pure.ts imports ../agent/ports.js: src/domain imports only src/domain",
    "agent/ports.ts imports ../kube/errors.js: src/agent never imports src/kube or src/cli (the wiring is in cli/agent-main.ts)",
    "agent/hooks/run-phase.ts imports ../standalone/controller.js: the agent's shared folders never import a mode",
    "agent/standalone/controller.ts imports ../companion/watch.js: the agent's modes never import each other",
    "agent/companion/watch.ts imports ../standalone/status.js: the agent's modes never import each other",
    "agent/store/results.ts imports ../../cli/describe.js: src/agent never imports src/kube or src/cli (the wiring is in cli/agent-main.ts)",
    "agent/store/results.ts writes a Backup's status (patchBackupStatus): only src/agent/standalone may",
    "cli/describe.ts imports @kubernetes/client-node/dist/exec.js: only src/kube (and cli/agent-main.ts) use client-node",
    "import cycle between top-level folders: agent <-> cli",
  ]);
});
