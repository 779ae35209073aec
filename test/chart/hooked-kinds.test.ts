// The chart's webhook rules route exactly the kinds the domain's table says carry hooks: a kind
// added to src/domain/kinds.ts without a rule would never be validated in a cluster, and a rule
// without a row would send the webhook requests it answers with "does not handle".
import { test } from "node:test";
import assert from "node:assert/strict";
import { HOOKED_KINDS } from "../../src/domain/index.js";
import { renderChart } from "./render.js";

type Rule = { apiGroups: string[]; apiVersions: string[]; resources: string[] };

function routed(config: { webhooks: Array<{ rules: Rule[] }> }): string[] {
  const out = new Set<string>();
  for (const w of config.webhooks) {
    for (const r of w.rules)
      for (const g of r.apiGroups)
        for (const v of r.apiVersions) for (const res of r.resources) out.add(`${g}/${v}/${res}`);
  }
  return [...out].sort();
}

test("the validating webhook's rules list exactly the hook-carrying kinds, at their registered version", async () => {
  const docs = await renderChart();
  const validating = docs.find((d) => d.kind === "ValidatingWebhookConfiguration");
  const expected = HOOKED_KINDS.map((k) => `${k.group}/${k.version}/${k.resource}`).sort();
  assert.deepEqual(routed(validating), expected);
});

test("the mutating webhook's rules list exactly the kinds with annotation hooks (mutation never touches spec hooks)", async () => {
  const docs = await renderChart();
  const mutating = docs.find((d) => d.kind === "MutatingWebhookConfiguration");
  const expected = HOOKED_KINDS.filter((k) => k.hooks === "annotations")
    .map((k) => `${k.group}/${k.version}/${k.resource}`)
    .sort();
  assert.deepEqual(routed(mutating), expected);
});
