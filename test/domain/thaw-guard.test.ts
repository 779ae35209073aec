// The thaw guard's eligibility rule and the opt-in annotation's validation (src/domain/thaw-guard.ts):
// which pods' post hooks hookguard may run when Velero was interrupted, by Velero's resolution rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  isNotFrozenFailure,
  parseBackupHooks,
  parsePodHooks,
  recognisedThawPath,
  thawEligibility,
  validateObject,
} from "../../src/domain/index.js";
import { POST, PRE, brief, pod } from "./builders.js";

const FREEZE = '["/sbin/fsfreeze","--freeze","/var/lib/mysql"]';
const THAW = '["/sbin/fsfreeze","--unfreeze","/var/lib/mysql"]';
const GUARD = "hookguard.io/thaw-guard";

test("recognised thaws: fsfreeze --unfreeze|-u <path> as the exact argv, any fsfreeze path", () => {
  assert.equal(recognisedThawPath(["fsfreeze", "--unfreeze", "/data"]), "/data");
  assert.equal(recognisedThawPath(["/usr/sbin/fsfreeze", "-u", "/data"]), "/data");
  for (const argv of [
    ["fsfreeze", "--freeze", "/data"],
    ["fsfreeze", "-u"],
    ["fsfreeze", "-u", "/data", "/other"],
    ["/bin/sh", "-c", "fsfreeze -u /data"],
    ["notfsfreeze", "-u", "/data"],
    ["fsfreeze", "-u", "--help"],
  ])
    assert.equal(recognisedThawPath(argv), undefined, JSON.stringify(argv));
});

test("a recognised thaw failing with EINVAL ('not frozen') is a skip; other failures are not", () => {
  const argv = ["fsfreeze", "-u", "/data"];
  assert.ok(isNotFrozenFailure(argv, 1, "fsfreeze: /data: unfreeze failed: Invalid argument\n"));
  assert.ok(!isNotFrozenFailure(argv, 1, "fsfreeze: cannot open /data: No such file or directory\n"));
  assert.ok(!isNotFrozenFailure(["/bin/sh", "-c", "x"], 1, "unfreeze failed: Invalid argument"));
});

test("eligible: annotation pre+post where post is an fsfreeze thaw; the post hooks are returned", () => {
  const e = thawEligibility(pod({ [PRE + "command"]: FREEZE, [POST + "command"]: THAW }), []);
  assert.equal(e.kind, "eligible");
  assert.equal(e.kind === "eligible" && e.basis, "fsfreeze");
  assert.deepEqual(
    e.post.map((h) => h.argv),
    [["/sbin/fsfreeze", "--unfreeze", "/var/lib/mysql"]],
  );
});

test("a post hook that is no thaw: not eligible without the opt-in, eligible with enabled, never with disabled", () => {
  const annotations = { [PRE + "command"]: FREEZE, [POST + "command"]: '["/bin/sh","-c","unlock"]' };
  const no = thawEligibility(pod(annotations), []);
  assert.equal(no.kind, "not-eligible");
  assert.match(
    no.kind === "not-eligible" ? no.reason : "",
    /not a recognised thaw.*hookguard\.io\/thaw-guard: enabled/,
  );
  assert.equal(no.post.length, 1, "names the post hook a person should run");
  const yes = thawEligibility(pod({ ...annotations, [GUARD]: "enabled" }), []);
  assert.equal(yes.kind === "eligible" && yes.basis, "opt-in");
  const off = thawEligibility(
    pod({ [PRE + "command"]: FREEZE, [POST + "command"]: THAW, [GUARD]: "disabled" }),
    [],
  );
  assert.equal(off.kind, "not-eligible");
  // an invalid value never opts in
  assert.equal(thawEligibility(pod({ ...annotations, [GUARD]: "Enabled" }), []).kind, "not-eligible");
});

test("Velero's resolution: no pre hook → nothing to say; pre without post → not eligible; legacy keys count as pre", () => {
  assert.equal(thawEligibility(pod({ [POST + "command"]: THAW }), []).kind, "none");
  assert.equal(thawEligibility(pod({}), []).kind, "none");
  const preOnly = thawEligibility(pod({ [PRE + "command"]: FREEZE }), []);
  assert.equal(preOnly.kind, "not-eligible");
  assert.match(preOnly.kind === "not-eligible" ? preOnly.reason : "", /no post hook/);
  assert.equal(
    thawEligibility(pod({ "hook.backup.velero.io/command": FREEZE, [POST + "command"]: THAW }), []).kind,
    "eligible",
  );
});

test("spec hooks: selectors decide; the pod's post annotation beats spec post hooks (E36)", () => {
  const specs = parseBackupHooks({
    resources: [
      {
        name: "db",
        includedNamespaces: ["ns1"],
        labelSelector: { matchLabels: { app: "db" } },
        pre: [{ exec: { container: "app", command: ["fsfreeze", "--freeze", "/data"] } }],
        post: [{ exec: { container: "app", command: ["fsfreeze", "-u", "/data"] } }],
      },
    ],
  }).resources;
  assert.equal(thawEligibility(pod({}, { labels: { app: "db" } }), specs).kind, "eligible");
  assert.equal(thawEligibility(pod({}, { labels: { app: "web" } }), specs).kind, "none");
  assert.equal(thawEligibility(pod({}, { labels: { app: "db" }, namespace: "other" }), specs).kind, "none");
  const overridden = thawEligibility(
    pod({ [POST + "command"]: '["/bin/sh","-c","echo"]' }, { labels: { app: "db" } }),
    specs,
  );
  assert.equal(overridden.kind, "not-eligible");
  assert.equal(overridden.post[0]!.source, "annotation");
});

test("a post hook that cannot run (missing container) is not eligible, even when it is a thaw", () => {
  const e = thawEligibility(
    pod({ [PRE + "command"]: FREEZE, [POST + "command"]: THAW, [POST + "container"]: "nope" }),
    [],
  );
  assert.equal(e.kind, "not-eligible");
  assert.match(e.kind === "not-eligible" ? e.reason : "", /cannot run/);
});

test("validation: enabled/disabled pass, anything else is an error with a hint, on pods and templates", () => {
  assert.deepEqual(brief(parsePodHooks(pod({ [GUARD]: "enabled" })).findings), []);
  assert.deepEqual(brief(parsePodHooks(pod({ [GUARD]: "disabled" })).findings), []);
  const bad = parsePodHooks(pod({ [GUARD]: "Enabled" })).findings;
  assert.deepEqual(brief(bad), [`error thaw-guard-invalid metadata.annotations["${GUARD}"]`]);
  assert.match(bad[0]!.message, /did you mean "enabled"/);
  assert.match(parsePodHooks(pod({ [GUARD]: "yes" })).findings[0]!.message, /use "enabled" or "disabled"/);
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "db", namespace: "ns1", annotations: { [GUARD]: "enabled" } },
    spec: {
      template: {
        metadata: { annotations: { [GUARD]: "on" } },
        spec: { containers: [{ name: "db" }] },
      },
    },
  };
  assert.deepEqual(brief(validateObject(deployment).findings), [
    `error thaw-guard-on-workload metadata.annotations["${GUARD}"]`,
    `error thaw-guard-invalid spec.template.metadata.annotations["${GUARD}"]`,
  ]);
});
