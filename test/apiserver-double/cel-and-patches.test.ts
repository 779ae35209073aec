// The pure parts of the double: the CEL subset evaluator (including its refusals), strategic merge
// patch directives as kubectl sends them, and label selector parsing.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CelError, evaluateCel } from "../apiserver/cel-subset.js";
import { strategicMerge } from "../apiserver/strategic-merge.js";
import { matchesLabels, parseLabelSelector } from "../apiserver/selectors.js";
import { ApiError } from "../apiserver/status.js";
import { limitWarnings, warningHeader } from "../apiserver/http-util.js";

const env = {
  object: {
    metadata: {
      name: "web-0",
      annotations: { "pre.hook.backup.velero.io/command": "x", other: "y" },
      labels: { app: "web" },
    },
  },
  oldObject: null,
  request: {
    operation: "UPDATE",
    userInfo: { username: "system:serviceaccount:velero:velero", groups: ["system:serviceaccounts"] },
  },
};

describe("CEL subset", () => {
  test("the expressions the chart uses", () => {
    assert.equal(
      evaluateCel(
        `has(object.metadata.annotations) && object.metadata.annotations.exists(k, k.startsWith('pre.hook.backup.velero.io/'))`,
        env,
      ),
      true,
    );
    assert.equal(
      evaluateCel(
        `object.metadata.annotations.exists(k, k.matches('^(pre|post)\\\\.hook\\\\.backup\\\\.velero\\\\.io/'))`,
        env,
      ),
      true,
    );
    assert.equal(evaluateCel(`object.metadata.annotations.exists(k, k.endsWith('/timeout'))`, env), false);
    assert.equal(
      evaluateCel(
        `request.operation in ['CREATE', 'UPDATE'] && !(request.userInfo.username == 'admin')`,
        env,
      ),
      true,
    );
    assert.equal(evaluateCel(`'system:serviceaccounts' in request.userInfo.groups`, env), true);
    assert.equal(
      evaluateCel(`oldObject == null || oldObject.metadata.name != object.metadata.name`, env),
      true,
    );
    assert.equal(
      evaluateCel(`size(object.metadata.labels) == 1 ? object.metadata.labels['app'] == 'web' : false`, env),
      true,
    );
  });

  test("CEL error semantics: missing keys are errors, except where || and && make them irrelevant", () => {
    assert.throws(
      () => evaluateCel(`object.metadata.finalizers.exists(f, f == 'x')`, env),
      (e: unknown) => e instanceof CelError && /no such key: finalizers/.test(e.message),
    );
    assert.equal(evaluateCel(`object.metadata.finalizers.exists(f, f == 'x') || true`, env), true);
    assert.equal(evaluateCel(`false && object.nope`, env), false);
    assert.equal(evaluateCel(`has(object.spec)`, env), false);
  });

  test("map and list equality as CEL has it: deep, map keys in any order, lists in order; has() on a null root is an error", () => {
    const hooks = { resources: [{ name: "f", pre: [{ exec: { command: ["/bin/sync"], timeout: "30s" } }] }] };
    const same = { resources: [{ pre: [{ exec: { timeout: "30s", command: ["/bin/sync"] } }], name: "f" }] };
    const e = {
      object: { spec: { hooks } },
      oldObject: { spec: { hooks: same } },
      request: { operation: "UPDATE" },
    };
    assert.equal(
      evaluateCel(`object.spec.hooks == oldObject.spec.hooks`, e),
      true,
      "key order does not matter",
    );
    const reordered = {
      object: {
        spec: { hooks: { resources: [{ name: "f", pre: [{ exec: { command: ["--x", "/bin/sync"] } }] }] } },
      },
      oldObject: {
        spec: { hooks: { resources: [{ name: "f", pre: [{ exec: { command: ["/bin/sync", "--x"] } }] }] } },
      },
    };
    assert.equal(
      evaluateCel(`object.spec.hooks != oldObject.spec.hooks`, reordered),
      true,
      "list order does",
    );
    assert.equal(
      evaluateCel(`object.spec.hooks != oldObject.spec.hooks`, {
        object: { spec: { hooks: { resources: [] } } },
        oldObject: { spec: { hooks: {} } },
      }),
      true,
      "an empty list is not an absent key",
    );
    assert.equal(
      evaluateCel(`has(object.spec) != has(oldObject.spec)`, { object: {}, oldObject: { spec: {} } }),
      true,
      "bool inequality",
    );
    assert.throws(
      () => evaluateCel(`has(oldObject.spec)`, { object: {}, oldObject: null }),
      CelError,
      "CREATE: oldObject is null",
    );
    assert.equal(
      evaluateCel(`request.operation != 'UPDATE' || has(oldObject.spec)`, {
        object: {},
        oldObject: null,
        request: { operation: "CREATE" },
      }),
      true,
    );
    assert.equal(
      evaluateCel(
        `'velero.io/schedule-name' in object.metadata.labels && object.metadata.labels['velero.io/schedule-name'] != ''`,
        { object: { metadata: { labels: { "velero.io/schedule-name": "nightly" } } } },
      ),
      true,
    );
  });

  test("anything outside the subset is an error naming it, never a silent true", () => {
    for (const [expr, why] of [
      [`object.metadata.name + 'x' == 'web-0x'`, /unsupported character '\+'/],
      [
        `object.metadata.annotations.filter(k, true).size() > 0`,
        /function 'filter' is not in the supported CEL subset/,
      ],
      [`int(1) == 1`, /function 'int' is not in the supported CEL subset/],
      [`1.5 > 1`, /unsupported numeric literal/],
      [`object.metadata.name`, /must evaluate to a bool/],
      [`object.metadata.name.matches('(?i)WEB')`, /RE2 syntax outside the supported subset/],
      [`unknownVar == 1`, /undeclared reference to 'unknownVar'/],
    ] as const) {
      assert.throws(
        () => evaluateCel(expr, env),
        (e: unknown) => e instanceof CelError && why.test(e.message),
        expr,
      );
    }
  });
});

describe("strategic merge patch", () => {
  const deployment = {
    metadata: { name: "d", finalizers: ["a"] },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: "main",
              image: "busybox:1",
              env: [
                { name: "A", value: "1" },
                { name: "B", value: "2" },
              ],
              ports: [{ containerPort: 80, name: "http" }],
            },
            { name: "sidecar", image: "busybox:1" },
          ],
          volumes: [{ name: "data", emptyDir: {} }],
        },
      },
    },
  };

  test("kubectl apply's patch: merge by name, $patch delete, $setElementOrder", () => {
    const out = strategicMerge(deployment, {
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "sidecar" }, { name: "main" }],
            containers: [
              {
                name: "main",
                env: [
                  { name: "A", value: "9" },
                  { $patch: "delete", name: "B" },
                ],
                ports: [{ containerPort: 80, protocol: "TCP" }],
              },
            ],
          },
        },
      },
    });
    const cs = out.spec.template.spec.containers;
    assert.deepEqual(
      cs.map((c: any) => c.name),
      ["sidecar", "main"],
    );
    assert.deepEqual(cs[1].env, [{ name: "A", value: "9" }]);
    assert.deepEqual(cs[1].ports, [{ containerPort: 80, name: "http", protocol: "TCP" }]);
    assert.equal(cs[1].image, "busybox:1");
  });

  test("$retainKeys, $patch replace, null deletes, primitive merge lists, $deleteFromPrimitiveList", () => {
    const out = strategicMerge(deployment, {
      metadata: { finalizers: ["b"], "$deleteFromPrimitiveList/finalizers": ["a"] },
      spec: {
        template: {
          spec: {
            volumes: [{ name: "data", $retainKeys: ["name", "hostPath"], hostPath: { path: "/x" } }],
            containers: [{ $patch: "replace" }, { name: "sidecar", image: "alpine" }],
          },
        },
      },
    });
    assert.deepEqual(out.metadata.finalizers, ["b"]);
    assert.deepEqual(out.spec.template.spec.volumes, [{ name: "data", hostPath: { path: "/x" } }]);
    assert.deepEqual(out.spec.template.spec.containers, [{ name: "sidecar", image: "alpine" }]);
    assert.deepEqual(strategicMerge({ a: { b: 1 }, c: 2 }, { a: null }), { c: 2 });
  });

  test("a list element without its merge key is a 400, as on a real server", () => {
    assert.throws(
      () => strategicMerge(deployment, { spec: { template: { spec: { containers: [{ image: "x" }] } } } }),
      (e: unknown) => e instanceof ApiError && e.code === 400,
    );
  });
});

describe("label selectors", () => {
  test("equality and set-based requirements", () => {
    const sel = parseLabelSelector("app=web,tier in (db, cache),!legacy,env!=prod,owner");
    assert.equal(matchesLabels(sel, { app: "web", tier: "db", owner: "me" }), true);
    assert.equal(matchesLabels(sel, { app: "web", tier: "db", owner: "me", legacy: "1" }), false);
    assert.equal(matchesLabels(sel, { app: "web", tier: "front", owner: "me" }), false);
    assert.equal(matchesLabels(sel, { app: "web", tier: "db", owner: "me", env: "prod" }), false);
    assert.throws(
      () => parseLabelSelector("app=(web"),
      (e: unknown) => e instanceof ApiError && e.code === 400,
    );
  });
});

describe("warning headers", () => {
  test("quoted like net.NewWarningHeader, UTF-8 kept, control characters dropped, limits applied", () => {
    assert.equal(
      Buffer.from(warningHeader('say "hi" \\ bye'), "latin1").toString("utf8"),
      '299 - "say \\"hi\\" \\\\ bye"',
    );
    assert.equal(Buffer.from(warningHeader("durée…"), "latin1").toString("utf8"), '299 - "durée…"');
    assert.deepEqual(limitWarnings(["a", "a", "b\nc", "d"]), ["a", "d"]);
    const long = Array.from({ length: 30 }, (_, i) => `${i}`.padEnd(300, "x"));
    const limited = limitWarnings(long);
    assert.ok(limited.every((w) => w.length === 256));
    assert.equal(limited.length, 16, "4096 characters of 256-character warnings");
  });
});
