// examples/README.md lists every finding code with its severity. This keeps it complete and true:
// every code the domain can emit (read from src/domain) has a row with the same severity, and no
// row names a code that no longer exists.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RISKY_PATTERNS } from "../../src/domain/index.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

/** code -> severity, from the "Finding codes" table. */
function documented(): Map<string, string> {
  const text = readFileSync(join(root, "examples/README.md"), "utf8");
  const table = text.slice(text.indexOf("## Finding codes"));
  const out = new Map<string, string>();
  for (const line of table.split("\n")) {
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    if (cells.length < 4 || !["error", "warning"].includes(cells[2]!)) continue;
    for (const [, code] of cells[1]!.matchAll(/`([a-z0-9-]+)`/g)) out.set(code!, cells[2]!);
  }
  return out;
}

/** code -> severity, from the domain's finding constructors and tables. */
function emitted(): Map<string, string> {
  const out = new Map<string, string>();
  const dir = join(root, "src/domain");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
    const src = readFileSync(join(dir, file), "utf8");
    for (const [, severity, code] of src.matchAll(/\b(error|warning)\(\s*"([a-z0-9-]+)"/g))
      out.set(code!, severity!);
    // backup-spec.ts: required-field messages, turned into errors by shapeFinding
    for (const [, code] of src.matchAll(/\["([a-z]+-missing)", `/g)) out.set(code!, "error");
  }
  // risky-commands.ts: the table of known patterns, all warnings
  for (const p of RISKY_PATTERNS) out.set(p.code, "warning");
  return out;
}

test("every finding code the domain emits is documented in examples/README.md with its severity", () => {
  const docs = documented();
  const codes = emitted();
  assert.ok(codes.size > 40, `found only ${codes.size} codes: the scan is broken`);
  const missing = [...codes]
    .filter(([code, severity]) => docs.get(code) !== severity)
    .map(([code, severity]) => `${code} (${severity}; README: ${docs.get(code) ?? "absent"})`);
  assert.deepEqual(missing, []);
  const stale = [...docs.keys()].filter((code) => !codes.has(code));
  assert.deepEqual(stale, [], "README rows for codes the domain no longer emits");
});
