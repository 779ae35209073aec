// The Validating/MutatingWebhookConfigurations: entries, rules, matchConditions, failurePolicy,
// namespaceSelector and the CA bundle of each certificate mode.
import { test } from "node:test";
import assert from "node:assert/strict";
import { findOne, renderChart, renderWebhookConfigurations } from "./render.js";
import { caBundle, caPem, valueCases } from "./cases.js";

const kinds = ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"] as const;
const entryNames = (verb: string) =>
  [
    ...(verb === "validate"
      ? ["pods", "workloads", "velero", "workload-copies", "backup-copies"]
      : ["pods", "workloads"]),
  ].map((k) => `${k}.${verb}.hookguard.io`);
const groupOf = (entry: string): string =>
  ({ "workload-copies": "workloads", "backup-copies": "velero" })[entry.split(".")[0]!] ??
  entry.split(".")[0]!;

const expectedRules: Record<string, Array<[string, string, string[]]>> = {
  pods: [["", "v1", ["pods"]]],
  workloads: [
    ["apps", "v1", ["deployments", "statefulsets", "daemonsets", "replicasets"]],
    ["", "v1", ["replicationcontrollers"]],
    ["batch", "v1", ["jobs", "cronjobs"]],
  ],
  velero: [["velero.io", "v1", ["backups", "schedules"]]],
};

test("each configuration has one entry per kind group with the API server settings of the issue", async () => {
  const docs = await renderChart();
  for (const kind of kinds) {
    const cfg = findOne(docs, kind);
    const verb = kind.startsWith("Validating") ? "validate" : "mutate";
    assert.deepEqual(
      cfg.webhooks.map((w: any) => w.name),
      entryNames(verb),
    );
    for (const w of cfg.webhooks) {
      const group = groupOf(w.name);
      assert.deepEqual(w.admissionReviewVersions, ["v1"]);
      assert.equal(w.sideEffects, "None");
      assert.equal(w.timeoutSeconds, 5);
      assert.deepEqual(w.clientConfig.service, {
        name: "hookguard-webhook",
        namespace: "hookguard",
        path: `/${verb}`,
        port: 443,
      });
      assert.deepEqual(
        w.rules.map((r: any) => [r.apiGroups[0], r.apiVersions[0], r.resources]),
        expectedRules[group],
        `${w.name} rules`,
      );
      for (const r of w.rules) {
        assert.deepEqual(r.operations, ["CREATE", "UPDATE"], "DELETE and CONNECT never reach the webhook");
        assert.equal(r.scope, "Namespaced");
        assert.equal(r.apiGroups.length, 1);
      }
      if (verb === "mutate") assert.equal(w.reinvocationPolicy, "Never");
    }
  }
});

test("failurePolicy defaults: Ignore for bare Pods and controllers' copies, Fail for workloads and velero.io objects; each configurable but the copies", async () => {
  const byName = (docs: any[]) =>
    Object.fromEntries(
      kinds.flatMap((k) => findOne(docs, k).webhooks.map((w: any) => [w.name, w.failurePolicy])),
    );
  assert.deepEqual(byName(await renderChart()), {
    "pods.validate.hookguard.io": "Ignore",
    "workloads.validate.hookguard.io": "Fail",
    "velero.validate.hookguard.io": "Fail",
    "workload-copies.validate.hookguard.io": "Ignore",
    "backup-copies.validate.hookguard.io": "Ignore",
    "pods.mutate.hookguard.io": "Ignore",
    "workloads.mutate.hookguard.io": "Fail",
  });
  const custom = byName(
    await renderChart({
      webhook: { failurePolicy: { pods: "Fail", workloads: "Ignore", velero: "Ignore" }, timeoutSeconds: 10 },
    }),
  );
  assert.equal(custom["pods.validate.hookguard.io"], "Fail");
  assert.equal(custom["workloads.mutate.hookguard.io"], "Ignore");
  assert.equal(custom["velero.validate.hookguard.io"], "Ignore");
  assert.equal(
    byName(
      await renderChart({ webhook: { failurePolicy: { workloads: "Fail", velero: "Fail", pods: "Fail" } } }),
    )["workload-copies.validate.hookguard.io"],
    "Ignore",
    "copies never wait for the webhook",
  );
  const cfg = findOne(
    await renderChart({ webhook: { timeoutSeconds: 10 } }),
    "ValidatingWebhookConfiguration",
  );
  assert.ok(cfg.webhooks.every((w: any) => w.timeoutSeconds === 10));
});

test("namespaceSelector excludes kube-system and the release namespace; mutation needs the namespace label unless global", async () => {
  const docs = await renderChart({}, { namespace: "hg-system" });
  const excluded = {
    key: "kubernetes.io/metadata.name",
    operator: "NotIn",
    values: ["hg-system", "kube-system"],
  };
  for (const w of findOne(docs, "ValidatingWebhookConfiguration").webhooks) {
    assert.deepEqual(w.namespaceSelector, { matchExpressions: [excluded] }, w.name);
  }
  for (const w of findOne(docs, "MutatingWebhookConfiguration").webhooks) {
    assert.deepEqual(
      w.namespaceSelector,
      { matchExpressions: [excluded, { key: "hookguard.io/mutate", operator: "In", values: ["enabled"] }] },
      w.name,
    );
  }
  const global = await renderChart({
    webhook: { mutating: { global: true }, excludedNamespaces: ["kube-system", "kube-public"] },
  });
  for (const w of findOne(global, "MutatingWebhookConfiguration").webhooks) {
    assert.deepEqual(w.namespaceSelector, {
      matchExpressions: [
        {
          key: "kubernetes.io/metadata.name",
          operator: "NotIn",
          values: ["hookguard", "kube-system", "kube-public"],
        },
      ],
    });
  }
});

test("webhook.failOpen: every entry of both configurations fails open, whatever webhook.failurePolicy says", async () => {
  const docs = await renderChart({
    webhook: { failOpen: true, failurePolicy: { pods: "Fail", workloads: "Fail", velero: "Fail" } },
  });
  for (const kind of kinds)
    for (const w of findOne(docs, kind).webhooks) assert.equal(w.failurePolicy, "Ignore", w.name);
});

test("webhook.namespaceSelector narrows every entry (ANDed after the exclusions and the mutation opt-in); webhook.objectSelector is set on every entry", async () => {
  const values = valueCases.whoIsValidated as any;
  const docs = await renderChart(values);
  const excluded = {
    key: "kubernetes.io/metadata.name",
    operator: "NotIn",
    values: ["hookguard", "kube-system"],
  };
  const own = values.webhook.namespaceSelector;
  for (const w of findOne(docs, "ValidatingWebhookConfiguration").webhooks) {
    assert.deepEqual(
      w.namespaceSelector,
      { matchLabels: own.matchLabels, matchExpressions: [excluded, ...own.matchExpressions] },
      w.name,
    );
    assert.deepEqual(w.objectSelector, values.webhook.objectSelector, w.name);
  }
  for (const w of findOne(docs, "MutatingWebhookConfiguration").webhooks) {
    assert.deepEqual(
      w.namespaceSelector,
      {
        matchLabels: own.matchLabels,
        matchExpressions: [
          excluded,
          { key: "hookguard.io/mutate", operator: "In", values: ["enabled"] },
          ...own.matchExpressions,
        ],
      },
      w.name,
    );
    assert.deepEqual(w.objectSelector, values.webhook.objectSelector, w.name);
  }
  // the defaults: no objectSelector at all (an empty one would select everything anyway)
  for (const kind of kinds)
    for (const w of findOne(await renderChart(), kind).webhooks) assert.equal(w.objectSelector, undefined);
});

test("webhook.exemptUsers/exemptGroups: one matchCondition each, on every entry of both configurations, after the entry's own", async () => {
  const defaults = await renderChart();
  const docs = await renderChart({
    webhook: {
      exemptUsers: ["system:serviceaccount:velero:velero", "ci@example.com"],
      exemptGroups: ["ops"],
    },
  });
  for (const kind of kinds) {
    const before = findOne(defaults, kind).webhooks;
    findOne(docs, kind).webhooks.forEach((w: any, i: number) => {
      assert.deepEqual(w.matchConditions.slice(0, -2), before[i].matchConditions, w.name);
      assert.deepEqual(w.matchConditions.slice(-2), [
        {
          name: "not-exempt-user",
          expression:
            "!(request.userInfo.username in ['system:serviceaccount:velero:velero', 'ci@example.com'])",
        },
        {
          name: "not-exempt-group",
          expression: "!(has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in ['ops']))",
        },
      ]);
    });
  }
  const usersOnly = await renderChart({ webhook: { exemptUsers: ["a"] } });
  const names = findOne(usersOnly, "ValidatingWebhookConfiguration").webhooks[0].matchConditions.map(
    (c: any) => c.name,
  );
  assert.deepEqual(names, ["has-hook-annotation", "not-exempt-user"]);
});

test("matchConditions: pods and workloads only with a hook annotation (object, pod template, CronJob job template, oldObject on UPDATE); velero.io objects on CREATE or a hook change", async () => {
  const docs = await renderChart();
  for (const kind of kinds) {
    const [pods, workloads, velero] = findOne(docs, kind).webhooks;
    // Backups and Schedules are validated, never mutated (no velero entry in the mutating configuration)
    if (kind.startsWith("Validating"))
      assert.deepEqual(
        velero.matchConditions.map((c: any) => c.name),
        ["backup-hooks-written", "schedule-hooks-written", "not-controller-copy"],
      );
    else assert.equal(velero, undefined);
    assert.deepEqual(
      workloads.matchConditions.map((c: any) => c.name),
      ["has-hook-annotation", "not-controller-owned"],
    );
    for (const w of [pods, workloads]) {
      const expr: string = w.matchConditions[0].expression;
      assert.equal(w.matchConditions[0].name, "has-hook-annotation");
      assert.ok(
        expr.includes("k.contains('hook.backup.velero.io/')") &&
          expr.includes("k.contains('hook.restore.velero.io/')"),
        "backup and restore hook keys, legacy unprefixed keys included",
      );
      assert.ok(expr.includes("has(object.metadata.annotations) && object.metadata.annotations.exists("));
      assert.ok(
        expr.includes("request.operation == 'UPDATE' && ") &&
          expr.includes("oldObject.metadata.annotations.exists("),
        "removing a hook on UPDATE is still seen",
      );
    }
    const w: string = workloads.matchConditions[0].expression;
    assert.ok(
      w.includes(
        "has(object.spec.template.metadata.annotations) && object.spec.template.metadata.annotations.exists(",
      ),
    );
    assert.ok(
      w.includes(
        "has(object.spec.jobTemplate.spec.template.metadata.annotations) && object.spec.jobTemplate.spec.template.metadata.annotations.exists(",
      ),
    );
    assert.ok(
      w.includes(
        "has(object.spec.jobTemplate.metadata.annotations) && object.spec.jobTemplate.metadata.annotations.exists(",
      ),
      "a CronJob's job template's own hooks are sent, to be refused",
    );
    assert.ok(
      w.includes("oldObject.spec.template.metadata.annotations.exists(") &&
        w.includes("oldObject.spec.jobTemplate.spec.template.metadata.annotations.exists("),
    );
    // every selection below object/oldObject.spec is guarded by has() on each step, so an object
    // without a template evaluates to false instead of an error (which would apply failurePolicy)
    for (const path of [
      "spec",
      "spec.template",
      "spec.template.metadata",
      "spec.jobTemplate",
      "spec.jobTemplate.metadata",
      "spec.jobTemplate.spec",
      "spec.jobTemplate.spec.template",
      "spec.jobTemplate.spec.template.metadata",
    ]) {
      for (const root of ["object", "oldObject"])
        assert.ok(w.includes(`has(${root}.${path})`), `has(${root}.${path}) guard`);
    }
  }
});

/** Tokens the API-server double's CEL subset understands; anything else in an expression fails the test. */
const CEL_SUBSET = {
  functions: new Set(["has"]),
  methods: new Set(["exists", "contains"]),
  identifiers: new Set(["object", "oldObject", "request", "k", "r", "g", "true"]),
  operators: new Set(["&&", "||", "==", "!=", "!", "(", ")", "[", "]", ",", ".", "in"]),
};

function celTokens(expr: string): string[] {
  const tokens: string[] = [];
  const re = /\s*(?:('(?:[^'\\]|\\.)*')|(&&|\|\||==|!=|[!().,[\]])|([A-Za-z_][A-Za-z0-9_]*)|(\S))/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(expr)) && m[0] !== "") tokens.push(m[1] ?? m[2] ?? m[3] ?? `?${m[4]}`);
  return tokens;
}

test("matchConditions stay inside the CEL subset the API-server double implements", async () => {
  const used = new Set<string>();
  for (const docs of [await renderChart(), await renderChart(valueCases.whoIsValidated!)])
    for (const kind of kinds) {
      for (const w of findOne(docs, kind).webhooks) {
        for (const { expression } of w.matchConditions ?? []) {
          const t = celTokens(expression);
          let depth = 0;
          t.forEach((tok, i) => {
            assert.ok(!tok.startsWith("?"), `unexpected character ${tok.slice(1)} in ${w.name}`);
            if (tok === "(") depth++;
            if (tok === ")") depth--;
            assert.ok(depth >= 0, "balanced parentheses");
            if (tok.startsWith("'")) return used.add("string literal");
            if (CEL_SUBSET.operators.has(tok)) return used.add(tok);
            const prev = t[i - 1];
            const next = t[i + 1];
            if (prev === ".") {
              // field selection, or a method call when followed by "("
              if (next === "(") {
                assert.ok(CEL_SUBSET.methods.has(tok), `method ${tok}() is outside the subset`);
                used.add(`.${tok}()`);
              } else used.add("field selection");
              return;
            }
            if (next === "(") {
              assert.ok(CEL_SUBSET.functions.has(tok), `function ${tok}() is outside the subset`);
              return used.add(`${tok}()`);
            }
            assert.ok(CEL_SUBSET.identifiers.has(tok), `identifier ${tok} is outside the subset`);
          });
          assert.equal(depth, 0, "balanced parentheses");
        }
      }
    }
  // documents what the double must implement; a new construct must be added there first
  assert.deepEqual(
    [...used].sort(),
    [
      "!",
      "!=",
      "&&",
      "(",
      ")",
      ",",
      ".",
      ".contains()",
      ".exists()",
      "==",
      "[",
      "]",
      "field selection",
      "has()",
      "in",
      "string literal",
      "||",
    ].sort(),
  );
});

test("CA bundle per certificate mode: managed patches it at run time, cert-manager injects it, provided renders it", async () => {
  const managed = await renderChart();
  for (const kind of kinds) {
    const cfg = findOne(managed, kind);
    assert.ok(
      cfg.webhooks.every((w: any) => w.clientConfig.caBundle === undefined),
      "helm must not overwrite the bundle the webhook patched",
    );
    assert.equal(cfg.metadata.annotations?.["cert-manager.io/inject-ca-from"], undefined);
  }
  const cm = await renderChart({ certificates: { mode: "certManager" } });
  const cert = findOne(cm, "Certificate");
  for (const kind of kinds) {
    const cfg = findOne(cm, kind);
    assert.equal(
      cfg.metadata.annotations["cert-manager.io/inject-ca-from"],
      `hookguard/${cert.metadata.name}`,
    );
    assert.ok(cfg.webhooks.every((w: any) => w.clientConfig.caBundle === undefined));
  }
  const pr = await renderChart({
    certificates: { mode: "provided", secretName: "mine", provided: { caBundle } },
  });
  for (const kind of kinds)
    assert.ok(findOne(pr, kind).webhooks.every((w: any) => w.clientConfig.caBundle === caBundle));
});

test("renderWebhookConfigurations points every entry at a local webhook URL and keeps rules and conditions", async () => {
  const cfgs = await renderWebhookConfigurations({ url: "https://127.0.0.1:40123/", caPem });
  assert.deepEqual(cfgs.map((c) => c.kind).sort(), [...kinds].sort());
  const rendered = await renderChart();
  for (const cfg of cfgs) {
    const orig = findOne(rendered, cfg.kind);
    cfg.webhooks.forEach((w: any, i: number) => {
      const path = cfg.kind.startsWith("Validating") ? "/validate" : "/mutate";
      assert.deepEqual(w.clientConfig, { url: `https://127.0.0.1:40123${path}`, caBundle });
      assert.deepEqual({ ...w, clientConfig: undefined }, { ...orig.webhooks[i], clientConfig: undefined });
    });
  }
});
