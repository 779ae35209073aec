// values.schema.json makes helm refuse bad values before anything reaches a cluster.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chartDir, helm, helmTemplate } from "./render.js";

const bad: Array<[string, object, RegExp]> = [
  ["replicas as a word", { webhook: { replicas: "two" } }, /\/webhook\/replicas.*want integer/],
  [
    "an unknown certificate mode",
    { certificates: { mode: "bogus" } },
    /\/certificates\/mode.*one of 'managed', 'certManager', 'provided'/,
  ],
  [
    "provided mode without Secret and CA",
    { certificates: { mode: "provided" } },
    /\/certificates\/provided\/caBundle[\s\S]*\/certificates\/secretName|\/certificates\/secretName[\s\S]*\/certificates\/provided\/caBundle/,
  ],
  [
    "a failurePolicy other than Fail/Ignore",
    { webhook: { failurePolicy: { pods: "Sometimes" } } },
    /\/webhook\/failurePolicy\/pods.*one of 'Fail', 'Ignore'/,
  ],
  [
    "an enforcement other than deny/warn",
    { webhook: { enforcement: "audit" } },
    /\/webhook\/enforcement.*one of 'deny', 'warn'/,
  ],
  [
    "timeoutSeconds above the API server's 30",
    { webhook: { timeoutSeconds: 31 } },
    /\/webhook\/timeoutSeconds.*maximum/,
  ],
  ["a misspelt key", { webhook: { replica: 3 } }, /\/webhook.*additional properties 'replica' not allowed/],
  [
    "a writable root filesystem",
    { containerSecurityContext: { readOnlyRootFilesystem: false } },
    /\/containerSecurityContext\/readOnlyRootFilesystem.*true/,
  ],
  [
    "privilege escalation",
    { containerSecurityContext: { allowPrivilegeEscalation: true } },
    /\/containerSecurityContext\/allowPrivilegeEscalation/,
  ],
  [
    "running as root allowed",
    { podSecurityContext: { runAsNonRoot: false } },
    /\/podSecurityContext\/runAsNonRoot/,
  ],
  ["the latest tag", { image: { tag: "latest" } }, /\/image\/tag/],
  [
    "existingClaim storage without a claim",
    { agent: { storage: { type: "existingClaim" } } },
    /\/agent\/storage\/existingClaim.*minLength/,
  ],
  ["an unknown storage type", { agent: { storage: { type: "hostPath" } } }, /\/agent\/storage\/type/],
  [
    "a freeze window that is not a duration",
    { agent: { maxFreezeWindow: "ten minutes" } },
    /\/agent\/maxFreezeWindow.*does not match pattern/,
  ],
  ["zero workers", { agent: { workers: 0 } }, /\/agent\/workers.*minimum/],
  [
    "a GC interval that is not a duration",
    { agent: { gcInterval: "daily" } },
    /\/agent\/gcInterval.*does not match pattern/,
  ],
  ["zero webhook connections", { webhook: { maxConnections: 0 } }, /\/webhook\/maxConnections.*minimum/],
  [
    "a CIDR without prefix length",
    { networkPolicy: { apiServerCidrs: ["10.0.0.1"] } },
    /\/networkPolicy\/apiServerCidrs\/0/,
  ],
  [
    "a non-base64 CA bundle",
    {
      certificates: {
        mode: "provided",
        secretName: "s",
        provided: { caBundle: "-----BEGIN CERTIFICATE-----" },
      },
    },
    /\/certificates\/provided\/caBundle.*does not match pattern/,
  ],
  ["a port out of range", { agent: { metricsPort: 70000 } }, /\/agent\/metricsPort.*maximum/],
  // who is validated: values that would switch validation off for everyone, or silently select nothing
  [
    "exempting every authenticated user",
    { webhook: { exemptGroups: ["system:authenticated"] } },
    /\/webhook\/exemptGroups\/0/,
  ],
  [
    "exempting every ServiceAccount",
    { webhook: { exemptGroups: ["system:serviceaccounts"] } },
    /\/webhook\/exemptGroups\/0/,
  ],
  [
    "exempting anonymous requests",
    { webhook: { exemptUsers: ["system:anonymous"] } },
    /\/webhook\/exemptUsers\/0/,
  ],
  [
    "a wildcard username (matched literally: it would exempt nobody, or be read as everyone)",
    { webhook: { exemptUsers: ["system:serviceaccount:velero:*"] } },
    /\/webhook\/exemptUsers\/0.*does not match pattern/,
  ],
  [
    "an empty username",
    { webhook: { exemptUsers: [""] } },
    /\/webhook\/exemptUsers\/0.*does not match pattern/,
  ],
  [
    "a quote inside a username (it would end the CEL string)",
    { webhook: { exemptUsers: ["bob') || true || ('"] } },
    /\/webhook\/exemptUsers\/0.*does not match pattern/,
  ],
  ["exemptUsers as one string", { webhook: { exemptUsers: "velero" } }, /\/webhook\/exemptUsers.*want array/],
  [
    "a misspelt selector key (a selector without terms selects everything)",
    { webhook: { namespaceSelector: { matchLabel: { team: "a" } } } },
    /\/webhook\/namespaceSelector.*additional properties 'matchLabel' not allowed/,
  ],
  [
    "an unknown selector operator",
    {
      webhook: { objectSelector: { matchExpressions: [{ key: "app", operator: "Equals", values: ["a"] }] } },
    },
    /\/webhook\/objectSelector\/matchExpressions\/0\/operator/,
  ],
  [
    "an In expression without values",
    { webhook: { namespaceSelector: { matchExpressions: [{ key: "team", operator: "In" }] } } },
    /\/webhook\/namespaceSelector\/matchExpressions\/0.*values/,
  ],
  [
    "values on an Exists expression",
    {
      webhook: { objectSelector: { matchExpressions: [{ key: "app", operator: "Exists", values: ["a"] }] } },
    },
    /\/webhook\/objectSelector\/matchExpressions\/0\/values.*maxItems|\/webhook\/objectSelector\/matchExpressions\/0\/values/,
  ],
  [
    "an invalid label key",
    { webhook: { objectSelector: { matchLabels: { "bad key": "x" } } } },
    /invalid propertyName 'bad key'/,
  ],
  ["failOpen as a string", { webhook: { failOpen: "yes" } }, /\/webhook\/failOpen.*want boolean/],
];

for (const [what, values, message] of bad) {
  test(`helm template rejects ${what}`, async () => {
    const r = await helmTemplate(values);
    assert.notEqual(r.code, 0, `accepted: ${JSON.stringify(values)}`);
    assert.equal(r.stdout.trim(), "", "nothing rendered");
    assert.match(r.stderr, /values don't meet the specifications of the schema/);
    assert.match(r.stderr, message);
  });
}

test("helm install (client dry run) rejects a bad value too, and accepts the defaults", async () => {
  const dir = await mkdtemp(join(tmpdir(), "hookguard-schema-"));
  try {
    const file = join(dir, "values.json");
    await writeFile(file, JSON.stringify({ webhook: { replicas: "two" } }));
    const badRun = await helm([
      "install",
      "hg",
      chartDir,
      "--dry-run=client",
      "--namespace",
      "hookguard",
      "--values",
      file,
    ]);
    assert.notEqual(badRun.code, 0);
    assert.match(badRun.stderr, /\/webhook\/replicas/);
    const ok = await helm(["install", "hg", chartDir, "--dry-run=client", "--namespace", "hookguard"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /NOTES:\nhookguard 0\.1\.0 is installed in namespace hookguard/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
