// Issue 12 §4: hooks on a workload's own metadata, namespace patterns that can never match, and
// database hooks that run but do not hold what they promise.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  RISKY_PATTERNS,
  globCovers,
  globMatchesSomeNamespace,
  globsMeet,
  parseBackupHooks,
  parsePodHooks,
  validateObject,
} from "../../src/domain/index.js";
import { PRE, POST, ann, brief } from "./builders.js";

const template = (annotations: Record<string, string> = {}, image = "busybox") => ({
  metadata: { annotations },
  spec: { containers: [{ name: "app", image }] },
});

describe("hook annotations on a workload's own metadata", () => {
  for (const [apiVersion, kind] of [
    ["apps/v1", "Deployment"],
    ["apps/v1", "StatefulSet"],
    ["apps/v1", "DaemonSet"],
    ["apps/v1", "ReplicaSet"],
    ["v1", "ReplicationController"],
    ["batch/v1", "Job"],
  ] as const) {
    test(`${kind}: an error naming the pod template as the place to move them`, () => {
      const obj = {
        apiVersion,
        kind,
        metadata: {
          name: "w",
          annotations: { [PRE + "command"]: '["/bin/sync"]', "app.kubernetes.io/name": "w" },
        },
        spec: { template: template() },
      };
      const findings = validateObject(obj).findings;
      assert.deepEqual(brief(findings), [`error hook-on-workload ${ann(PRE + "command")}`]);
      assert.equal(
        findings[0]!.message,
        "Velero runs only pods' hooks; move it to spec.template.metadata.annotations",
      );
    });
  }

  test("CronJob: its own metadata and the job template's metadata both point at the pod template", () => {
    const obj = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "c", annotations: { [PRE + "command"]: '["/bin/sync"]' } },
      spec: {
        jobTemplate: {
          metadata: {
            annotations: { [POST + "timeout"]: "1m", "post.hook.restore.velero.io/command": '["x"]' },
          },
          spec: { template: template({ [PRE + "command"]: '["/bin/sync"]' }) },
        },
      },
    };
    const findings = validateObject(obj).findings;
    assert.deepEqual(brief(findings), [
      `error hook-on-workload ${ann(PRE + "command")}`,
      `error hook-on-workload spec.jobTemplate.${ann(POST + "timeout")}`,
      `error hook-on-workload spec.jobTemplate.${ann("post.hook.restore.velero.io/command")}`,
    ]);
    assert.ok(
      findings.every((f) =>
        f.message.endsWith("move it to spec.jobTemplate.spec.template.metadata.annotations"),
      ),
    );
  });

  test("a Pod's own annotations are where hooks belong; other annotations on workloads are fine", () => {
    assert.deepEqual(
      validateObject({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p", annotations: { [PRE + "command"]: '["/bin/sync"]' } },
        spec: { containers: [{ name: "app" }] },
      }).findings,
      [],
    );
    assert.deepEqual(
      validateObject({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "d", annotations: { "backup.velero.io/backup-volumes": "data" } },
        spec: { template: template() },
      }).findings,
      [],
    );
  });
});

describe("namespace patterns", () => {
  const backup = (spec: Record<string, unknown>, resource: Record<string, unknown>) =>
    validateObject({
      apiVersion: "velero.io/v1",
      kind: "Backup",
      metadata: { name: "b" },
      spec: {
        ...spec,
        hooks: { resources: [{ name: "h", pre: [{ exec: { command: ["/bin/sync"] } }], ...resource }] },
      },
    }).findings;

  test("a '.' is a regex written as a glob: error suggesting the glob", () => {
    const findings = backup(
      {},
      { includedNamespaces: ["prod-.*", "^team-a$"], excludedNamespaces: ["kube-.+"] },
    );
    assert.deepEqual(
      findings.map((f) => [f.code, f.path, f.message]),
      [
        [
          "namespace-pattern-unmatchable",
          "spec.hooks.resources[0].includedNamespaces[0]",
          `namespace pattern "prod-.*" has a ".", which no namespace has (globs, not regex); did you mean "prod-*"?`,
        ],
        [
          "namespace-pattern-unmatchable",
          "spec.hooks.resources[0].includedNamespaces[1]",
          `namespace pattern "^team-a$" matches no namespace name (a-z, 0-9, "-" only); fix the pattern`,
        ],
        [
          "namespace-pattern-unmatchable",
          "spec.hooks.resources[0].excludedNamespaces[0]",
          `namespace pattern "kube-.+" has a ".", which no namespace has (globs, not regex); did you mean "kube-?*"?`,
        ],
      ],
    );
    assert.equal(
      backup({}, { includedNamespaces: ["Prod"] })[0]!.message,
      `namespace pattern "Prod" has upper case, which no namespace has; did you mean "prod"?`,
    );
    // an escaped or bracketed character is still a glob that can match
    assert.deepEqual(backup({}, { includedNamespaces: ["team-[ab]", "{prod,stage}-*", "a\\-b"] }), []);
  });

  test("a hook pattern provably disjoint from the backup's namespaces: warning naming both", () => {
    const [f] = backup({ includedNamespaces: ["prod-*"] }, { includedNamespaces: ["team-*"] });
    assert.deepEqual(
      [f!.code, f!.path, f!.message],
      [
        "hook-namespaces-not-in-backup",
        "spec.hooks.resources[0].includedNamespaces",
        `hook namespaces "team-*" are never in the backup (it includes "prod-*"), so it never runs; align them`,
      ],
    );
    const [g] = backup({ excludedNamespaces: ["team-*"] }, { includedNamespaces: ["team-{a,b}", "team-c?"] });
    assert.equal(
      g!.message,
      `hook namespaces "team-{a,b}","team-c?" are never in the backup (it excludes "team-*"), so it never runs; align them`,
    );
    // overlapping globs are fine, in both directions
    assert.deepEqual(backup({ includedNamespaces: ["*-prod"] }, { includedNamespaces: ["team-*"] }), []);
    assert.deepEqual(
      backup({ includedNamespaces: ["team-a", "web"] }, { includedNamespaces: ["team-?"] }),
      [],
    );
    // partly excluded is not never
    assert.deepEqual(backup({ excludedNamespaces: ["team-a"] }, { includedNamespaces: ["team-*"] }), []);
    // a hook for every namespace, or an invalid pattern (an error of its own), is not judged
    assert.deepEqual(brief(backup({ includedNamespaces: ["web"] }, {})), []);
    assert.deepEqual(brief(backup({ includedNamespaces: ["web"] }, { includedNamespaces: ["team-["] })), [
      "error namespace-glob-invalid spec.hooks.resources[0].includedNamespaces[0]",
    ]);
  });

  test("glob languages over namespace names", () => {
    assert.equal(globsMeet("a*b", "*c"), false);
    assert.equal(globsMeet("a*", "*z"), true);
    assert.equal(globsMeet("[!a]x", "ax"), false);
    assert.equal(globsMeet("{a,b}c", "bc"), true);
    assert.equal(globsMeet("team-[0-9]", "team-x"), false);
    assert.equal(globCovers("team-*", "team-?"), true);
    assert.equal(globCovers("team-?", "team-*"), false);
    assert.equal(globCovers("{a,b}*", "b?c"), true);
    assert.equal(globMatchesSomeNamespace("prod.db"), false);
    assert.equal(globMatchesSomeNamespace("prod-db"), true);
    assert.equal(globsMeet("[", "a"), undefined);
  });
});

describe("database hooks that do not hold what they promise", () => {
  const podWith = (command: string, image = "mysql:8.4") =>
    validateObject({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "db", annotations: { [PRE + "command"]: command } },
      spec: { containers: [{ name: "db", image }] },
    }).findings;
  const codes = (command: string, image?: string) => podWith(command, image).map((f) => f.code);

  test("FLUSH TABLES WITH READ LOCK through a one-shot mysql", () => {
    const [f] = podWith(
      JSON.stringify([
        "/bin/sh",
        "-c",
        'mysql --password=$MYSQL_ROOT_PASSWORD -e "FLUSH TABLES WITH READ LOCK"',
      ]),
    );
    assert.deepEqual(
      [f!.severity, f!.code, f!.message],
      [
        "warning",
        "mysql-lock-released",
        "FLUSH TABLES WITH READ LOCK ends as mysql exits; freeze the volume instead",
      ],
    );
    assert.deepEqual(codes(JSON.stringify(["mysql", "-e", "flush tables with read lock"])), [
      "mysql-lock-released",
    ]);
    // a session kept open in the background is a different pattern
    assert.deepEqual(
      codes(
        JSON.stringify([
          "/bin/sh",
          "-c",
          'mkfifo /tmp/l; (echo "FLUSH TABLES WITH READ LOCK"; cat /tmp/l) | mysql & sleep 1',
        ]),
      ),
      [],
    );
    assert.deepEqual(codes(JSON.stringify(["/bin/sh", "-c", 'mysql -e "FLUSH TABLES"'])), []);
  });

  test("PostgreSQL: removed functions, and pg_backup_start in a one-shot psql", () => {
    assert.deepEqual(codes(JSON.stringify(["psql", "-c", "SELECT pg_start_backup('x')"]), "postgres:16"), [
      "pg-backup-removed",
    ]);
    assert.deepEqual(codes(JSON.stringify(["psql", "-c", "SELECT pg_backup_start('x')"]), "postgres:16"), [
      "pg-backup-session",
    ]);
  });

  test("bash in an Alpine image (annotation hooks, where the container is known)", () => {
    const [f] = podWith(JSON.stringify(["/bin/bash", "-c", "sync"]), "postgres:16-alpine");
    assert.deepEqual(
      [f!.code, f!.message],
      ["bash-on-alpine", `image "postgres:16-alpine" has no bash (Alpine ships BusyBox sh); use /bin/sh`],
    );
    assert.deepEqual(codes(JSON.stringify(["/usr/bin/env", "bash", "-c", "sync"]), "alpine:3.20"), [
      "bash-on-alpine",
    ]);
    assert.deepEqual(codes(JSON.stringify(["/bin/bash", "-c", "sync"]), "postgres:16"), []);
    assert.deepEqual(codes(JSON.stringify(["/bin/sh", "-c", "sync"]), "postgres:16-alpine"), []);
  });

  test("spec hooks get the command patterns too; the agent's hook warnings do not include them", () => {
    const b = validateObject({
      apiVersion: "velero.io/v1",
      kind: "Backup",
      metadata: { name: "b" },
      spec: {
        hooks: {
          resources: [
            { name: "db", pre: [{ exec: { command: ["mysql", "-e", "FLUSH TABLES WITH READ LOCK"] } }] },
          ],
        },
      },
    });
    assert.deepEqual(brief(b.findings), [
      "warning mysql-lock-released spec.hooks.resources[0].pre[0].exec.command",
    ]);
    // advice, not a configuration problem: the hook runs as written and the Backup counts no warning for it
    const spec = parseBackupHooks({
      resources: [
        { name: "db", pre: [{ exec: { command: ["mysql", "-e", "FLUSH TABLES WITH READ LOCK"] } }] },
      ],
    });
    assert.deepEqual(spec.resources[0]!.pre[0]!.warnings, []);
    const annotated = parsePodHooks({
      metadata: { annotations: { [PRE + "command"]: '["mysql","-e","FLUSH TABLES WITH READ LOCK"]' } },
      spec: { containers: [{ name: "db" }] },
    });
    assert.deepEqual(
      [annotated.pre!.warnings, annotated.findings.map((f) => f.code)],
      [[], ["mysql-lock-released"]],
    );
  });

  test("the table is one row per pattern, each with a distinct code and a fix after '; ', short enough to be a whole warning", () => {
    assert.equal(new Set(RISKY_PATTERNS.map((p) => p.code)).size, RISKY_PATTERNS.length);
    for (const p of RISKY_PATTERNS) {
      const message = p.message({ image: "postgres:16-alpine" });
      assert.match(message, /; \S/, p.code);
      assert.ok(message.length <= 82, `${p.code}: ${message.length}`);
    }
  });
});
