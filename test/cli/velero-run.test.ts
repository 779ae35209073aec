// `hookguard backup create | get | describe | logs` for Backups the Velero-server double runs, as real
// processes from a directory without any storage dir: create makes the Backup velero's client makes,
// get shows Velero's phase and hook counts, describe builds the per-hook table from Velero's log
// (1.18 text, 1.15 JSON), logs prints the very log the velero CLI downloads. Both read it through a
// DownloadRequest they delete afterwards; a stopped Velero, a user without DownloadRequest create and
// an object store whose certificate is not trusted each give a clear error.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../agent/double.js";
import { findByKind } from "../apiserver/resources.js";
import { Sandbox, backupLog, kubeConfig } from "../velero/harness.js";
import { generateBundle } from "../../src/tls/generate.js";
import { hookguard as spawnHookguard } from "./backup-create-spawn.js";

const DOWNLOAD_REQUESTS = findByKind("velero.io/v1", "DownloadRequest")!;

/** hookguard's DownloadRequests still in the store (the velero CLI's own are left to expire). */
const ours = (sb: Sandbox): string[] =>
  sb.api.store
    .list(DOWNLOAD_REQUESTS, "velero")
    .filter((d: any) => d.metadata.labels?.["app.kubernetes.io/managed-by"] === "hookguard")
    .map((d: any) => d.metadata.name);

/** mysql-0's hooks succeed; web-0's pre hook fails (exit 3, stderr "disk full"). */
function addFailingPod(sb: Sandbox): void {
  sb.api.createObject({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "web-0",
      namespace: "db",
      annotations: {
        "pre.hook.backup.velero.io/command": '["/bin/sh","-c","echo broken; echo disk full >&2; exit 3"]',
      },
    },
    spec: { containers: [{ name: "web", image: "busybox" }] },
  });
}

for (const variant of [
  { version: "1.18", format: "text" },
  { version: "1.15", format: "json" },
]) {
  describe(`hookguard backup … for a Backup Velero ${variant.version} ran (${variant.format} log)`, () => {
    let sb: Sandbox;
    let cwd: string;
    let kube: string[];
    // from a directory without ./hookguard-data, and no HOOKGUARD_STORAGE_DIR
    const hookguard = (args: string[]) =>
      spawnHookguard(args, undefined, { HOOKGUARD_STORAGE_DIR: undefined }, cwd);

    before(async () => {
      sb = await Sandbox.start();
      addFailingPod(sb);
      await waitFor(
        "web-0 Running",
        () => sb.api.getObject("v1", "Pod", "db", "web-0")?.status?.phase === "Running" || undefined,
      );
      await sb.velero(["--version", variant.version, "--log-format", variant.format]).ready;
      cwd = mkdtempSync(join(tmpdir(), "hookguard-no-storage-"));
      kube = ["--kubeconfig", sb.api.kubeconfigPath];
    });

    after(async () => {
      await sb?.stop();
    });

    it("create --wait makes the Backup velero's client makes; Velero runs it", async () => {
      const r = await hookguard([
        "backup",
        "create",
        "nightly-1",
        ...kube,
        "--include-namespaces",
        "db",
        "--wait",
      ]);
      assert.match(r.stdout, /Backup completed with status: PartiallyFailed\./, r.stdout + r.stderr);
      assert.equal(r.code, 1, "exit 1 for a Backup that is not Completed");
      const b = sb.backup("nightly-1");
      // what velero sent (0s = the server's default) was filled in by Velero, as a real server does
      assert.equal(b.spec.ttl, "720h0m0s");
      assert.deepEqual(b.spec.includedNamespaces, ["db"]);
      assert.equal(b.metadata.annotations?.["hookguard.io/owner"], undefined);
    });

    it("get lists it with Velero's phase, start, completion and hook counts, run by velero", async () => {
      const r = await hookguard(["backup", "get", ...kube]);
      assert.equal(r.code, 0, r.stderr);
      const [header, row] = r.stdout.trimEnd().split("\n");
      const b = sb.backup("nightly-1");
      const go = (iso: string) => `${new Date(iso).toISOString().slice(0, 19).replace("T", " ")} +0000 UTC`;
      const cells = (line: string) => {
        const starts = [...header!.matchAll(/\S+( \S+)*/g)].map((m) => m.index!);
        return starts.map((s, i) => line.slice(s, starts[i + 1]).trim());
      };
      const h = cells(header!);
      const v = Object.fromEntries(cells(row!).map((c, i) => [h[i], c]));
      assert.equal(v.NAME, "nightly-1");
      assert.equal(v.STATUS, "PartiallyFailed");
      assert.equal(v.CREATED, go(b.status.startTimestamp));
      assert.equal(v.COMPLETED, go(b.status.completionTimestamp));
      assert.equal(v["HOOKS ATTEMPTED"], String(b.status.hookStatus.hooksAttempted));
      assert.equal(v["HOOKS FAILED"], "1");
      assert.equal(v["RUN BY"], "velero");
    });

    it("describe prints Velero's phase, errors, hook counts and the per-hook table from its log", async () => {
      const r = await hookguard(["backup", "describe", "nightly-1", ...kube]);
      assert.equal(r.code, 0, r.stderr);
      const out = r.stdout;
      const b = sb.backup("nightly-1");
      assert.match(out, /^Phase:  PartiallyFailed$/m);
      assert.match(out, new RegExp(`^Errors:    ${b.status.errors}$`, "m"));
      // the error messages come from Velero's results file (1.15+ hook errors are in its "velero" bucket)
      assert.match(out, /^ {2}Velero: .*Error executing hook.*exit code 3/m);
      assert.match(
        out,
        new RegExp(`^HooksAttempted:  ${b.status.hookStatus.hooksAttempted}\\nHooksFailed:     1$`, "m"),
      );
      assert.match(out, /^Hooks \(from Velero's backup log\):$/m);
      assert.match(out, /^ {2}POD +CONTAINER +PHASE +SOURCE +NAME +RESULT +EXIT CODE +CAUSE$/m);
      // 1.15+ lines name no pod: each row is attributed from the Backup's scope
      assert.match(out, /^ {2}db\/mysql-0 +mysql +pre +annotation +<from-annotation> +succeeded +0$/m);
      assert.match(out, /^ {2}db\/mysql-0 +mysql +post +annotation +<from-annotation> +succeeded +0$/m);
      assert.match(out, /^ {2}db\/web-0 +web +pre +annotation +<from-annotation> +failed +3 +disk full$/m);
      assert.doesNotMatch(out, /unattributed/);
      // the DownloadRequests it made are gone
      assert.deepEqual(ours(sb), []);

      const json = await hookguard(["backup", "describe", "nightly-1", ...kube, "-o", "json"]);
      assert.equal(json.code, 0, json.stderr);
      const doc = JSON.parse(json.stdout);
      assert.equal(doc.runBy, "velero");
      assert.deepEqual(doc.hooks.map((h: any) => `${h.namespace}/${h.pod} ${h.phase} ${h.result}`).sort(), [
        "db/mysql-0 post succeeded",
        "db/mysql-0 pre succeeded",
        "db/web-0 pre failed",
      ]);
    });

    it("logs prints exactly the log the velero CLI downloads", async () => {
      const r = await hookguard(["backup", "logs", "nightly-1", ...kube]);
      assert.equal(r.code, 0, r.stderr);
      const expected = await backupLog(kubeConfig(sb.api.kubeconfigPath), "nightly-1");
      assert.ok(expected.includes("running exec hook"));
      assert.equal(r.stdout, expected);
      if (variant.format === "json") for (const l of r.stdout.trimEnd().split("\n")) JSON.parse(l);
      else assert.match(r.stdout, /^time="[^"]+" level=info msg="running exec hook" /m);
    });

    if (variant.version !== "1.18") return;

    it("an untrusted object-store certificate names --download-ca-file", async () => {
      const other = join(cwd, "other-ca.pem");
      writeFileSync(other, generateBundle({ dnsNames: ["localhost"], validDays: 1 }).ca.certPem);
      const r = await hookguard(["backup", "logs", "nightly-1", ...kube, "--download-ca-file", other]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /^error: reading BackupLog of backup nightly-1 from its signed URL: .*certificate/m,
      );
      assert.match(r.stderr, /pass --download-ca-file with the CA that signed it/);
      assert.equal(r.stdout, "");
    });

    it("a user without DownloadRequest create gets the 403 and what it needs", async () => {
      const reader = sb.api.addUser("backup-reader", ["readers"]);
      sb.api.setPolicy([
        { groups: ["system:masters"], verbs: ["*"], resources: ["*"] },
        {
          users: ["backup-reader"],
          verbs: ["get", "list", "watch"],
          resources: ["backups", "backupstoragelocations", "downloadrequests", "pods", "namespaces"],
        },
      ]);
      try {
        for (const cmd of ["logs", "describe"]) {
          const r = await hookguard(["backup", cmd, "nightly-1", "--kubeconfig", reader.kubeconfigPath]);
          assert.equal(r.code, 1, `${cmd}: ${r.stderr}`);
          assert.match(
            r.stderr,
            /^error: creating DownloadRequest velero\/nightly-1-[0-9a-f-]+: .*forbidden/m,
          );
          assert.match(
            r.stderr,
            /needs create, get and delete on downloadrequests\.velero\.io in namespace velero/,
          );
        }
      } finally {
        sb.api.setPolicy(undefined);
      }
    });

    it("with Velero stopped, logs and describe give up after --timeout and say why", async () => {
      await sb.killAll();
      for (const cmd of ["logs", "describe"]) {
        const r = await hookguard(["backup", cmd, "nightly-1", ...kube, "--timeout", "2s"]);
        assert.equal(r.code, 1, `${cmd}: ${r.stdout}${r.stderr}`);
        assert.match(
          r.stderr,
          /^error: Velero did not answer DownloadRequest velero\/nightly-1-[0-9a-f-]+ for Backup(Log|Results) of backup nightly-1 within 2s: is the Velero server running in namespace velero/m,
        );
      }
      // nothing left behind for a Velero that comes back
      assert.deepEqual(ours(sb), []);
      const bad = await hookguard(["backup", "logs", "nightly-1", ...kube, "--timeout", "soon"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--timeout: time: invalid duration "soon"/);
    });
  });
}
