// Property-based: 10,000+ generated AdmissionReviews (malformed envelopes, random JSON, random text,
// and structurally plausible requests with random hook values and shapes) over one keep-alive TLS
// connection. The server must answer every one, within a bound, with a well-formed AdmissionReview,
// and never hit its exception path.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ALL_HOOK_ANNOTATION_KEYS } from "../../src/domain/index.js";
import { GVK, startTestWebhook, type TestWebhook } from "./helpers.js";

const V1 = "admission.k8s.io/v1";
const V1B1 = "admission.k8s.io/v1beta1";

/** Arbitrary JSON-ish junk, kept small: generation, not the server, would otherwise dominate the run. */
const junk = fc.anything({ maxDepth: 2, maxKeys: 4 });
const hookValue = fc.oneof(
  fc.constantFrom(
    "Fail",
    "Continue",
    "continue",
    "",
    "30s",
    "30",
    "-1s",
    "1h2m",
    "1d",
    "sync",
    '["/bin/true"]',
    '["a",',
    "[]",
    '[""]',
    "app",
    "nope",
    '["/sbin/fsfreeze","--freeze","/x"]',
    "\u0000",
    "ü",
  ),
  fc.string({ maxLength: 40 }),
);
const annotations = fc.dictionary(
  fc.oneof(fc.constantFrom(...ALL_HOOK_ANNOTATION_KEYS), fc.string({ maxLength: 20 })),
  hookValue,
  { maxKeys: 6 },
);
const containers = fc.array(
  fc.record({
    name: fc.oneof(fc.constantFrom("app", "db", ""), fc.string({ maxLength: 8 })),
    image: fc.constant("x"),
  }),
  { maxLength: 3 },
);
const podLike = fc.record({ metadata: fc.record({ annotations }), spec: fc.record({ containers }) });
const kindName = fc.constantFrom(...(Object.keys(GVK) as Array<keyof typeof GVK>));

function objectFor(kind: keyof typeof GVK, template: unknown, hooks: unknown): Record<string, unknown> {
  const g = GVK[kind];
  const base = {
    apiVersion: g.group ? `${g.group}/${g.version}` : g.version,
    kind: g.kind,
    metadata: { name: "x" },
  };
  if (kind === "Pod") return { ...base, ...(template as object) };
  if (kind === "CronJob") return { ...base, spec: { jobTemplate: { spec: { template } } } };
  if (kind === "Backup") return { ...base, spec: { hooks } };
  if (kind === "Schedule") return { ...base, spec: { template: { hooks } } };
  return { ...base, spec: { template } };
}

const execHook = fc.record(
  {
    exec: fc.record(
      {
        container: fc.oneof(fc.string({ maxLength: 6 }), junk),
        command: fc.oneof(fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }), junk),
        onError: hookValue,
        timeout: fc.oneof(hookValue, fc.integer()),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);
const backupHooks = fc.oneof(
  fc.record(
    {
      resources: fc.array(
        fc.record(
          {
            name: fc.string({ maxLength: 6 }),
            includedNamespaces: fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }),
            labelSelector: junk,
            pre: fc.array(execHook, { maxLength: 2 }),
            post: fc.oneof(fc.array(execHook, { maxLength: 2 }), junk),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: [] },
  ),
  junk,
);

/** A plausible request: right envelope, a handled kind, random hooks; sometimes a field swapped for junk. */
const plausible = fc
  .record({
    apiVersion: fc.constantFrom(V1, V1B1),
    kind: kindName,
    operation: fc.constantFrom("CREATE", "UPDATE", "DELETE", "CONNECT", "CREATE", "UPDATE"),
    template: podLike,
    oldTemplate: podLike,
    hooks: backupHooks,
    oldHooks: backupHooks,
    uid: fc.uuid(),
    junk: fc.option(
      fc.tuple(
        fc.constantFrom("object", "oldObject", "kind", "userInfo", "namespace", "operation", "resource"),
        junk,
      ),
      { freq: 3 },
    ),
  })
  .map((g) => {
    const gv = GVK[g.kind];
    const request: Record<string, unknown> = {
      uid: g.uid,
      kind: { group: gv.group, version: gv.version, kind: gv.kind },
      resource: { group: gv.group, version: gv.version, resource: gv.resource },
      namespace: "ns",
      operation: g.operation,
      userInfo: { username: "u" },
      object: g.operation === "DELETE" ? null : objectFor(g.kind, g.template, g.hooks),
      oldObject:
        g.operation === "UPDATE" || g.operation === "DELETE"
          ? objectFor(g.kind, g.oldTemplate, g.oldHooks)
          : null,
    };
    if (g.junk) request[g.junk[0]] = g.junk[1];
    return {
      body: JSON.stringify({ apiVersion: g.apiVersion, kind: "AdmissionReview", request }),
      uid: g.uid,
    };
  });

const garbage = fc.oneof(
  fc.string({ maxLength: 200 }).map((s) => ({ body: s, uid: undefined })),
  fc.json({ maxDepth: 4 }).map((s) => ({ body: s, uid: undefined })),
  fc
    .record(
      {
        apiVersion: fc.oneof(fc.constantFrom(V1, V1B1), junk),
        kind: fc.oneof(fc.constant("AdmissionReview"), junk),
        request: junk,
      },
      { requiredKeys: [] },
    )
    .map((r) => ({ body: JSON.stringify(r) ?? "", uid: undefined })),
);

describe("fuzz: random and malformed AdmissionReviews", () => {
  let wh: TestWebhook;
  before(async () => {
    wh = await startTestWebhook();
  });
  after(async () => wh.stop());

  // The generous timeout is a hang guard for a shared, loaded CI machine, not a speed assertion.
  it(
    "answers 10,000 generated requests with well-formed AdmissionReviews and no exception",
    { timeout: 600_000 },
    async () => {
      let count = 0;
      // Batches of 50 sent concurrently over the agent's keep-alive sockets: 200 runs = 10,000 requests.
      const input = fc.tuple(
        fc.oneof({ arbitrary: plausible, weight: 3 }, { arbitrary: garbage, weight: 1 }),
        fc.constantFrom("/validate", "/mutate"),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(input, { minLength: 50, maxLength: 50 }), async (batch) => {
          await Promise.all(batch.map(([one, path]) => check(one, path)));
        }),
        { numRuns: 200 },
      );
      async function check(input: { body: string; uid: string | undefined }, path: string): Promise<void> {
        count++;
        const res = await withBound(wh.post(path, input.body), 10_000);
        assert.ok([200, 400].includes(res.status), `HTTP ${res.status} for ${input.body.slice(0, 300)}`);
        const review = res.json;
        assert.ok(review && typeof review === "object", `not JSON: ${res.text.slice(0, 200)}`);
        assert.equal(review.kind, "AdmissionReview");
        assert.ok([V1, V1B1].includes(review.apiVersion));
        const r = review.response;
        assert.equal(typeof r.allowed, "boolean");
        assert.equal(typeof r.uid, "string");
        assert.equal(typeof r.status.code, "number");
        assert.notEqual(r.status.code, 500, `exception for ${input.body.slice(0, 500)}: ${r.status.message}`);
        if (input.uid && res.status === 200) assert.equal(r.uid, input.uid);
        if (res.status === 400) assert.equal(r.uid, "");
        if (!r.allowed) assert.ok([400, 403].includes(r.status.code) && r.status.message.length > 0);
        if (r.patch !== undefined) {
          assert.equal(r.patchType, "JSONPatch");
          assert.ok(Array.isArray(JSON.parse(Buffer.from(r.patch, "base64").toString("utf8"))));
        }
        for (const w of r.warnings ?? []) assert.ok(typeof w === "string" && w.length < 120);
      }
      assert.equal(count, 10_000);
      assert.equal((await wh.metrics.panics.get()).values[0]?.value ?? 0, 0);
    },
  );
});

function withBound<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}
