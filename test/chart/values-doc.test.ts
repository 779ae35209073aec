// Every value is documented in values.yaml, and the README's table is the one generated from it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chartDir } from "./render.js";
import { readmeTable, valueDocs, valuesTable } from "./values-doc.js";

test("every value in values.yaml has a `# --` comment", () => {
  const docs = valueDocs();
  assert.ok(docs.length > 80, `only ${docs.length} values found`);
  const missing = docs.filter((d) => !d.description || d.description.length < 5).map((d) => d.key);
  assert.deepEqual(missing, []);
});

test("a value without a comment is detected", () => {
  const docs = valueDocs("a:\n  # -- documented\n  b: 1\n  c: 2\n", {});
  assert.deepEqual(
    docs.map((d) => [d.key, d.description]),
    [
      ["a.b", "documented"],
      ["a.c", undefined],
    ],
  );
});

test("the chart README's values table is up to date (npm run docs:chart)", () => {
  assert.equal(readmeTable(), valuesTable());
});

test("every value in values.yaml is declared in values.schema.json, and nothing else is", () => {
  const schema = JSON.parse(readFileSync(join(chartDir, "values.schema.json"), "utf8"));
  const declared = (s: any, path: string): string[] =>
    s.properties && s.additionalProperties === false
      ? Object.entries(s.properties).flatMap(([k, v]) => {
          const p = path ? `${path}.${k}` : k;
          const sub = declared(v, p);
          return sub.length ? sub : [p];
        })
      : [];
  const inSchema = new Set(declared(schema, ""));
  inSchema.delete("global");
  const inValues = valueDocs().map((d) => d.key);
  // an empty map in values.yaml (issuerRef: {}) is declared by its sub-properties in the schema
  const isDeclared = (k: string) => inSchema.has(k) || [...inSchema].some((s) => s.startsWith(`${k}.`));
  assert.deepEqual(
    inValues.filter((k) => !isDeclared(k)),
    [],
  );
  // optional keys the schema accepts without a default in values.yaml
  const schemaOnly =
    /\.(seccompProfile\.localhostProfile|capabilities\.add|issuerRef\.(name|kind|group)|(namespace|object)Selector\.(matchLabels|matchExpressions))$/;
  assert.deepEqual(
    [...inSchema].filter((k) => !inValues.includes(k) && !schemaOnly.test(k)),
    [],
  );
});
