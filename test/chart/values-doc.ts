// The chart README's values table, generated from the `# --` comments of values.yaml so the two never
// drift: a test compares them. Regenerate with `npm run docs:chart` after editing values.yaml.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isMap, parseDocument, type YAMLMap } from "yaml";
import { chartDir } from "./render.js";

export interface ValueDoc {
  key: string;
  default: string;
  /** Text after the last `# --` marker above the key; undefined when the key has none. */
  description: string | undefined;
}

export const readmePath = join(chartDir, "README.md");
const START = "<!-- values-table:start -->";
const END = "<!-- values-table:end -->";

function describe(comment: string | undefined): string | undefined {
  if (!comment) return undefined;
  const at = comment.lastIndexOf(" -- ");
  const from = at >= 0 ? at : comment.startsWith("-- ") ? -1 : undefined;
  if (from === undefined) return undefined;
  return comment
    .slice(from + 4)
    .split("\n")
    .map((l) => l.trim())
    .join(" ")
    .trim();
}

function loadSchema(): any {
  return JSON.parse(readFileSync(join(chartDir, "values.schema.json"), "utf8"));
}

/**
 * Every value of values.yaml, in file order. A map is descended into only where the schema declares
 * its keys (additionalProperties: false); free-form maps such as label selectors are one value.
 */
export function valueDocs(
  text = readFileSync(join(chartDir, "values.yaml"), "utf8"),
  schema: any = loadSchema(),
): ValueDoc[] {
  const doc = parseDocument(text);
  const out: ValueDoc[] = [];
  const walk = (map: YAMLMap, path: string[], node: any) => {
    map.items.forEach((pair: any, i) => {
      const name = String(pair.key.value);
      const key = [...path, name].join(".");
      const sub = node?.properties?.[name];
      // yaml attaches the comment above a map's first key to the map itself
      const comment: string | undefined =
        pair.key.commentBefore ?? (i === 0 ? (map.commentBefore ?? undefined) : undefined);
      const structured = sub === undefined || sub.additionalProperties === false;
      if (structured && isMap(pair.value) && pair.value.items.length > 0)
        return walk(pair.value, [...path, name], sub);
      out.push({
        key,
        default: JSON.stringify(pair.value?.toJSON?.() ?? pair.value?.value ?? null),
        description: describe(comment ?? undefined),
      });
    });
  };
  walk(doc.contents as YAMLMap, [], schema);
  return out;
}

export function valuesTable(docs = valueDocs()): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const rows = docs.map((d) => `| \`${d.key}\` | \`${esc(d.default)}\` | ${esc(d.description ?? "")} |`);
  return ["| Key | Default | Description |", "|-----|---------|-------------|", ...rows].join("\n");
}

/** The table currently in README.md, between the markers. */
export function readmeTable(readme = readFileSync(readmePath, "utf8")): string | undefined {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  return a < 0 || b < a ? undefined : readme.slice(a + START.length, b).trim();
}

if (
  process.argv[1] &&
  fileURLToPath(import.meta.url) === process.argv[1] &&
  process.argv.includes("--write")
) {
  const readme = readFileSync(readmePath, "utf8");
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) {
    console.error(`${readmePath}: markers ${START} / ${END} not found`);
    process.exitCode = 1;
  } else {
    writeFileSync(readmePath, `${readme.slice(0, a + START.length)}\n${valuesTable()}\n${readme.slice(b)}`);
    console.log(`updated the values table in ${readmePath}`);
  }
}
