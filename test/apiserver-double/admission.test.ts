// Admission through the double with the real kubectl: a small HTTPS webhook registered via real
// Validating/MutatingWebhookConfiguration objects; denials, warnings, failurePolicy, matchConditions,
// selectors, caBundle verification, JSONPatch mutation, dry-run and service routing.
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { Kubectl, startWebhook, type WebhookServer } from "./helpers.js";

const HOOK_PREFIX = "pre.hook.backup.velero.io/";

function validating(
  name: string,
  clientConfig: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name },
    webhooks: [
      {
        name: `${name}.hookguard.dev`,
        admissionReviewVersions: ["v1"],
        sideEffects: "None",
        failurePolicy: "Fail",
        timeoutSeconds: 5,
        clientConfig,
        rules: [
          {
            apiGroups: [""],
            apiVersions: ["v1"],
            resources: ["pods"],
            operations: ["CREATE", "UPDATE"],
            scope: "Namespaced",
          },
        ],
        ...extra,
      },
    ],
  });
}

const pod = (
  name: string,
  annotations: Record<string, string> = {},
  labels: Record<string, string> = {},
): string =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, annotations, labels },
    spec: { containers: [{ name: "app", image: "busybox:1.36" }] },
  });

describe("admission webhooks through the API-server double", () => {
  let api: ApiServerHandle;
  let k: Kubectl;
  let hook: WebhookServer;
  before(async () => {
    api = await startApiServer({ namespaces: ["skipped"] });
    k = new Kubectl(api.kubeconfigPath);
    // Denies on-error values other than Continue/Fail, warns about a missing timeout.
    hook = await startWebhook((req) => {
      const ann: Record<string, string> = req.object?.metadata?.annotations ?? {};
      const onError = ann[`${HOOK_PREFIX}on-error`];
      if (onError !== undefined && onError !== "Continue" && onError !== "Fail") {
        return {
          allowed: false,
          status: {
            code: 403,
            reason: "Forbidden",
            message: `annotation ${HOOK_PREFIX}on-error: "${onError}" is not valid; did you mean "Continue"?`,
          },
        };
      }
      if (ann[`${HOOK_PREFIX}command`] && !ann[`${HOOK_PREFIX}timeout`])
        return {
          allowed: true,
          warnings: [`${HOOK_PREFIX}timeout is not set; Velero uses 30s`, 'container "app" — défaut…'],
        };
      return { allowed: true };
    });
  });
  after(async () => {
    await hook.stop();
    await api.stop();
    k.cleanup();
  });
  afterEach(async () => {
    await k.run(["delete", "validatingwebhookconfigurations,mutatingwebhookconfigurations", "--all"]);
    await k.run(["delete", "pods", "--all", "--wait=false"]);
  });

  async function register(yamlOrJson: string): Promise<void> {
    const r = await k.run(["apply", "-f", k.manifest("hook.json", yamlOrJson)]);
    assert.equal(r.code, 0, r.stderr);
  }

  test("a denial reaches kubectl with the real text; warnings are printed; the review is real", async () => {
    await register(validating("pods", { url: `${hook.url}/validate`, caBundle: hook.caBundle }));
    const bad = await k.run([
      "apply",
      "-f",
      k.manifest("bad.json", pod("bad", { [`${HOOK_PREFIX}on-error`]: "continue" })),
    ]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /Error from server \(Forbidden\): error when creating ".*bad.json": admission webhook "pods.hookguard.dev" denied the request: annotation pre.hook.backup.velero.io\/on-error: "continue" is not valid; did you mean "Continue"\?/,
    );
    assert.equal(api.getObject("v1", "Pod", "default", "bad"), undefined, "nothing stored");

    const warned = await k.run([
      "apply",
      "-f",
      k.manifest("warn.json", pod("warn", { [`${HOOK_PREFIX}command`]: '["/bin/true"]' })),
    ]);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /Warning: pre.hook.backup.velero.io\/timeout is not set; Velero uses 30s/);
    assert.match(warned.stderr, /Warning: container "app" — défaut…/, "quotes and UTF-8 survive the header");

    const review = hook.reviews.find((r) => r.request.name === "warn")!;
    assert.equal(review.apiVersion, "admission.k8s.io/v1");
    const rq = review.request;
    assert.match(rq.uid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(rq.kind, { group: "", version: "v1", kind: "Pod" });
    assert.deepEqual(rq.resource, { group: "", version: "v1", resource: "pods" });
    assert.deepEqual(rq.requestKind, rq.kind);
    assert.equal(rq.namespace, "default");
    assert.equal(rq.operation, "CREATE");
    assert.equal(rq.userInfo.username, "admin");
    assert.deepEqual(rq.userInfo.groups, ["system:masters", "system:authenticated"]);
    assert.equal(rq.oldObject, null);
    assert.equal(rq.dryRun, false);
    assert.equal(rq.options.kind, "CreateOptions");
    assert.equal(rq.options.fieldManager, "kubectl-client-side-apply");
    assert.equal(rq.object.metadata.annotations[`${HOOK_PREFIX}command`], '["/bin/true"]');
  });

  test("a broken registration is refused at apply time with the real field errors", async () => {
    const bad = JSON.stringify({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: "broken" },
      webhooks: [
        {
          name: "broken.hookguard.dev",
          admissionReviewVersions: ["v1"],
          clientConfig: { url: "http://127.0.0.1:1/validate" },
          timeoutSeconds: 60,
          rules: [],
        },
      ],
    });
    const r = await k.run(["apply", "-f", k.manifest("broken.json", bad)]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /The ValidatingWebhookConfiguration "broken" is invalid: \n\* webhooks/,
      "kubectl lists the Status causes",
    );
    assert.match(
      r.stderr,
      /webhooks\[0\].sideEffects: Required value: must specify one of None, NoneOnDryRun/,
    );
    assert.match(
      r.stderr,
      /webhooks\[0\].timeoutSeconds: Invalid value: 60: the timeout value must be between 1 and 30 seconds/,
    );
    assert.match(
      r.stderr,
      /webhooks\[0\].clientConfig.url: Invalid value: "http:\/\/127.0.0.1:1\/validate": 'https' is the only allowed URL scheme/,
    );
    assert.equal(
      api.getObject("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", undefined, "broken"),
      undefined,
    );
  });

  test("kubectl annotate is an UPDATE with oldObject, denied the same way; a valid one succeeds", async () => {
    await register(validating("pods", { url: `${hook.url}/validate`, caBundle: hook.caBundle }));
    assert.equal((await k.run(["create", "-f", k.manifest("p.json", pod("target"))])).code, 0);
    const denied = await k.run(["annotate", "pod", "target", `${HOOK_PREFIX}on-error=continue`]);
    assert.equal(denied.code, 1);
    assert.match(
      denied.stderr,
      /admission webhook "pods.hookguard.dev" denied the request: annotation pre.hook.backup.velero.io\/on-error: "continue" is not valid/,
    );
    const upd = hook.reviews.filter((r) => r.request.operation === "UPDATE").pop()!;
    assert.equal(upd.request.name, "target");
    assert.equal(upd.request.oldObject.metadata.name, "target");
    assert.equal(upd.request.options.kind, "PatchOptions");
    const ok = await k.run(["annotate", "pod", "target", `${HOOK_PREFIX}on-error=Continue`]);
    assert.equal(ok.code, 0, ok.stderr);
  });

  test("DELETE rules: the webhook sees oldObject and can refuse a delete, with warnings alongside", async () => {
    const guard = await startWebhook((req) =>
      req.oldObject?.metadata?.labels?.protected === "true"
        ? {
            allowed: false,
            warnings: ["this pod is protected"],
            status: { code: 403, reason: "Forbidden", message: "protected pods cannot be deleted" },
          }
        : { allowed: true },
    );
    try {
      await register(
        validating(
          "guard",
          { url: `${guard.url}/validate`, caBundle: guard.caBundle },
          { rules: [{ apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], operations: ["DELETE"] }] },
        ),
      );
      assert.equal(
        (await k.run(["create", "-f", k.manifest("p.json", pod("keep", {}, { protected: "true" }))])).code,
        0,
      );
      const r = await k.run(["delete", "pod", "keep", "--wait=false"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Warning: this pod is protected/);
      assert.match(
        r.stderr,
        /Error from server \(Forbidden\): admission webhook "guard.hookguard.dev" denied the request: protected pods cannot be deleted/,
      );
      assert.ok(api.getObject("v1", "Pod", "default", "keep"), "still there");
      const rq = guard.reviews[0].request;
      assert.equal(rq.operation, "DELETE");
      assert.equal(rq.object, null);
      assert.equal(rq.oldObject.metadata.name, "keep");
      assert.equal(rq.options.kind, "DeleteOptions");
    } finally {
      await guard.stop();
    }
  });

  test("with the webhook down: failurePolicy Fail refuses with the real 500 text, Ignore admits", async () => {
    const down = await startWebhook(() => ({ allowed: true }));
    await down.stop();
    await register(validating("down", { url: `${down.url}/validate`, caBundle: down.caBundle }));
    const refused = await k.run(["create", "-f", k.manifest("p.json", pod("refused"))]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(
        `Error from server \\(InternalError\\): error when creating ".*p.json": Internal error occurred: failed calling webhook "down.hookguard.dev": failed to call webhook: Post "https://127.0.0.1:${down.port}/validate\\?timeout=5s": dial tcp 127.0.0.1:${down.port}: connect: connection refused`,
      ),
    );
    await register(
      validating(
        "down",
        { url: `${down.url}/validate`, caBundle: down.caBundle },
        { failurePolicy: "Ignore" },
      ),
    );
    const admitted = await k.run(["create", "-f", k.manifest("p.json", pod("admitted"))]);
    assert.equal(admitted.code, 0, admitted.stderr);
  });

  test("timeoutSeconds bounds the call: a slow webhook is a deadline error, ignored with Ignore", async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const slow = await startWebhook(async () => {
      await released;
      return { allowed: true };
    });
    try {
      await register(
        validating("slow", { url: `${slow.url}/slow`, caBundle: slow.caBundle }, { timeoutSeconds: 1 }),
      );
      const r = await k.run(["create", "-f", k.manifest("p.json", pod("slow"))]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(
          `failed calling webhook "slow.hookguard.dev": failed to call webhook: Post "https://127.0.0.1:${slow.port}/slow\\?timeout=1s": context deadline exceeded`,
        ),
      );
      await register(
        validating(
          "slow",
          { url: `${slow.url}/slow`, caBundle: slow.caBundle },
          { timeoutSeconds: 1, failurePolicy: "Ignore" },
        ),
      );
      assert.equal((await k.run(["create", "-f", k.manifest("p.json", pod("slow"))])).code, 0);
    } finally {
      release();
      await slow.stop();
    }
  });

  test("caBundle is verified: a webhook certificate from another CA is refused", async () => {
    const other = await startWebhook(() => ({ allowed: true }));
    try {
      await register(validating("wrongca", { url: `${other.url}/validate`, caBundle: hook.caBundle }));
      const r = await k.run(["create", "-f", k.manifest("p.json", pod("x"))]);
      assert.match(
        r.stderr,
        /failed calling webhook "wrongca.hookguard.dev": failed to call webhook: Post ".*": tls: failed to verify certificate: x509: certificate signed by unknown authority/,
      );
      assert.equal(other.reviews.length, 0);
    } finally {
      await other.stop();
    }
  });

  test("matchConditions filter calls; an expression outside the CEL subset fails closed, never true", async () => {
    const seen = hook.reviews.length;
    const hasHookAnnotation = `has(object.metadata.annotations) && object.metadata.annotations.exists(k, k.startsWith('${HOOK_PREFIX}') || k.matches('^post\\\\.hook\\\\.backup\\\\.velero\\\\.io/'))`;
    await register(
      validating(
        "filtered",
        { url: `${hook.url}/validate`, caBundle: hook.caBundle },
        { matchConditions: [{ name: "has-hooks", expression: hasHookAnnotation }] },
      ),
    );
    assert.equal(
      (await k.run(["create", "-f", k.manifest("p.json", pod("plain", { unrelated: "x" }))])).code,
      0,
    );
    assert.equal((await k.run(["create", "-f", k.manifest("p.json", pod("bare"))])).code, 0);
    assert.equal(hook.reviews.length, seen, "pods without hook annotations never reach the webhook");
    const denied = await k.run([
      "create",
      "-f",
      k.manifest("p.json", pod("hooked", { [`${HOOK_PREFIX}on-error`]: "x" })),
    ]);
    assert.equal(denied.code, 1);
    assert.equal(hook.reviews.length, seen + 1);

    await register(
      validating(
        "filtered",
        { url: `${hook.url}/validate`, caBundle: hook.caBundle },
        { matchConditions: [{ name: "odd", expression: "object.metadata.name + 'x' == 'yx'" }] },
      ),
    );
    const cfg = api.getObject(
      "admissionregistration.k8s.io/v1",
      "ValidatingWebhookConfiguration",
      undefined,
      "filtered",
    );
    assert.deepEqual(
      cfg.webhooks[0].matchConditions,
      [{ name: "odd", expression: "object.metadata.name + 'x' == 'yx'" }],
      "apply's strategic merge replaced the condition",
    );
    assert.ok(cfg.webhooks[0].clientConfig.url, "and kept the rest of the webhook");
    const odd = await k.run(["create", "-f", k.manifest("p.json", pod("y"))]);
    assert.equal(odd.code, 1);
    assert.match(
      odd.stderr,
      /Error from server \(Forbidden\): error when creating ".*": pods "y" is forbidden: expression 'object.metadata.name \+ 'x' == 'yx'' resulted in error: unsupported character '\+'/,
    );
  });

  test("namespaceSelector and objectSelector scope the webhook", async () => {
    const seen = hook.reviews.length;
    await register(
      validating(
        "scoped",
        { url: `${hook.url}/validate`, caBundle: hook.caBundle },
        {
          namespaceSelector: {
            matchExpressions: [
              { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["skipped"] },
            ],
          },
          objectSelector: { matchLabels: { checked: "yes" } },
        },
      ),
    );
    assert.equal((await k.run(["create", "-f", k.manifest("p.json", pod("unlabelled"))])).code, 0);
    assert.equal(
      (
        await k.run([
          "create",
          "-n",
          "skipped",
          "-f",
          k.manifest("p.json", pod("elsewhere", {}, { checked: "yes" })),
        ])
      ).code,
      0,
    );
    assert.equal(hook.reviews.length, seen);
    assert.equal(
      (await k.run(["create", "-f", k.manifest("p.json", pod("checked", {}, { checked: "yes" }))])).code,
      0,
    );
    assert.equal(hook.reviews.length, seen + 1);
  });

  test("a mutating webhook's JSONPatch is applied before validation; dry-run stores nothing", async () => {
    const mut = await startWebhook((req) => ({
      allowed: true,
      patchType: "JSONPatch",
      patch: Buffer.from(
        JSON.stringify([{ op: "add", path: "/metadata/labels/mutated", value: req.dryRun ? "dry" : "yes" }]),
      ).toString("base64"),
    }));
    try {
      await register(
        JSON.stringify({
          apiVersion: "admissionregistration.k8s.io/v1",
          kind: "MutatingWebhookConfiguration",
          metadata: { name: "labeler" },
          webhooks: [
            {
              name: "labeler.hookguard.dev",
              admissionReviewVersions: ["v1"],
              sideEffects: "None",
              clientConfig: { url: `${mut.url}/mutate`, caBundle: mut.caBundle },
              rules: [{ apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], operations: ["CREATE"] }],
            },
          ],
        }),
      );
      await register(validating("pods", { url: `${hook.url}/validate`, caBundle: hook.caBundle }));
      assert.equal((await k.run(["create", "-f", k.manifest("p.json", pod("m", {}, { app: "x" }))])).code, 0);
      assert.equal(api.getObject("v1", "Pod", "default", "m").metadata.labels.mutated, "yes");
      const validated = hook.reviews.filter((r) => r.request.name === "m").pop()!;
      assert.equal(
        validated.request.object.metadata.labels.mutated,
        "yes",
        "validating webhooks see the mutated object",
      );

      const dry = await k.run([
        "create",
        "--dry-run=server",
        "-o",
        "json",
        "-f",
        k.manifest("p.json", pod("dry", {}, { app: "x" })),
      ]);
      assert.equal(dry.code, 0, dry.stderr);
      assert.equal(JSON.parse(dry.stdout).metadata.labels.mutated, "dry");
      assert.equal(api.getObject("v1", "Pod", "default", "dry"), undefined);
    } finally {
      await mut.stop();
    }
  });

  test("clientConfig.service is routed to the test URL and verified as NAME.NAMESPACE.svc", async () => {
    const svc = await startWebhook(
      () => ({ allowed: false, status: { message: "no pods today" } }),
      ["hookguard-webhook.hookguard.svc"],
    );
    try {
      api.routeService("hookguard", "hookguard-webhook", 443, svc.url);
      await register(
        validating("svc", {
          service: { namespace: "hookguard", name: "hookguard-webhook", path: "/validate" },
          caBundle: svc.caBundle,
        }),
      );
      const r = await k.run(["create", "-f", k.manifest("p.json", pod("s"))]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /Error from server: error when creating ".*": admission webhook "svc.hookguard.dev" denied the request: no pods today/,
      );
      assert.equal(svc.reviews.length, 1);
    } finally {
      await svc.stop();
    }
  });
});
