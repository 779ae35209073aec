// The double's Velero kinds held against what the repository says Velero's CRDs declare
// (docs/velero-crds.md): the doc's table, the double's data module and its resource table agree, and
// the served behaviour is a real server's: no status subresource (404), discovery without
// `<plural>/status`, unknown status fields pruned, and a phase outside the enum refused with 422.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  ApiException,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { RESOURCES } from "../apiserver/resources.js";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";
import { VELERO_CRDS } from "../apiserver/velero-crds.js";

interface DocRow {
  kind: string;
  plural: string;
  scope: string;
  subresources: string;
  statusFields: string[];
  phases: string[];
}

function docTable(): DocRow[] {
  const text = readFileSync(new URL("../../docs/velero-crds.md", import.meta.url), "utf8");
  const list = (cell: string) =>
    cell
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  return text
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| Kind") && !l.startsWith("|---"))
    .map((l) => {
      const c = l
        .split("|")
        .slice(1, -1)
        .map((s) => s.trim());
      return {
        kind: c[0]!,
        plural: c[1]!,
        scope: c[2]!,
        subresources: c[3]!,
        statusFields: list(c[4]!),
        phases: list(c[5]!),
      };
    });
}

async function rejects(p: Promise<unknown>): Promise<{ code: number; status: any }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiException, `expected ApiException, got ${String(e)}`);
    return { code: e.code, status: JSON.parse((e as ApiException<string>).body) };
  }
  assert.fail("expected the request to fail");
}

describe("Velero kinds in the API-server double", () => {
  test("the double's table, its served resources and docs/velero-crds.md agree", () => {
    const doc = docTable();
    assert.equal(doc.length, 11, "the doc lists Velero's eleven kinds");
    assert.deepEqual(
      VELERO_CRDS.map((c) => ({
        kind: c.kind,
        plural: c.plural,
        scope: "Namespaced",
        subresources: "none",
        statusFields: [...c.statusFields],
        phases: [...c.phases],
      })),
      doc,
    );
    const served = RESOURCES.filter((r) => r.group === "velero.io");
    assert.deepEqual(
      served.map((r) => r.kind).sort(),
      doc.map((d) => d.kind).sort(),
      "every Velero kind is served, and only those",
    );
    for (const r of served) {
      assert.equal(r.version, "v1");
      assert.equal(r.namespaced, true, `${r.kind} is namespaced`);
      assert.deepEqual(r.subresources, [], `${r.kind} has no subresources`);
      assert.equal(r.builtin, false, `${r.kind} takes no strategic-merge patches`);
    }
  });

  let api: ApiServerHandle;
  let custom: CustomObjectsApi;
  let kc: KubeConfig;
  before(async () => {
    api = await startApiServer();
    kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    custom = kc.makeApiClient(CustomObjectsApi);
  });
  after(() => api.stop());

  const velero = (plural: string) => ({ group: "velero.io", version: "v1", namespace: "velero", plural });
  const mergePatch = () => setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

  test("discovery lists no status subresource for any Velero kind", async () => {
    const res = await fetchJson(api, "/apis/velero.io/v1");
    const names: string[] = res.resources.map((r: any) => r.name);
    assert.deepEqual(names.sort(), VELERO_CRDS.map((c) => c.plural).sort());
    for (const r of res.resources) assert.equal(r.namespaced, true);
  });

  test("a status write through /status is a 404 for every Velero kind; through the object it is stored", async () => {
    for (const c of VELERO_CRDS) {
      const name = `${c.kind.toLowerCase()}-x`;
      await custom.createNamespacedCustomObject({
        ...velero(c.plural),
        body: { apiVersion: "velero.io/v1", kind: c.kind, metadata: { name }, spec: {} },
      });
      const r = await rejects(
        custom.patchNamespacedCustomObjectStatus(
          { ...velero(c.plural), name, body: { status: { phase: c.phases[0] } } },
          mergePatch(),
        ),
      );
      assert.equal(r.code, 404, `${c.kind}: PATCH .../status`);
      assert.equal(r.status.message, "the server could not find the requested resource");
      const ok = (await custom.patchNamespacedCustomObject(
        { ...velero(c.plural), name, body: { status: { phase: c.phases.at(-1) } } },
        mergePatch(),
      )) as any;
      assert.equal(ok.status.phase, c.phases.at(-1), `${c.kind}: status written through the main resource`);
    }
  });

  test("unknown status fields are pruned, known ones kept", async () => {
    await custom.createNamespacedCustomObject({
      ...velero("backups"),
      body: { apiVersion: "velero.io/v1", kind: "Backup", metadata: { name: "prune" }, spec: {} },
    });
    const out = (await custom.patchNamespacedCustomObject(
      {
        ...velero("backups"),
        name: "prune",
        body: {
          status: {
            phase: "InProgress",
            hookguardPendingPods: ["a/b"],
            hookStatus: { hooksAttempted: 1, hooksFailed: 0 },
          },
        },
      },
      mergePatch(),
    )) as any;
    assert.deepEqual(out.status, { phase: "InProgress", hookStatus: { hooksAttempted: 1, hooksFailed: 0 } });
    const stored = api.getObject("velero.io/v1", "Backup", "velero", "prune");
    assert.equal(stored.status.hookguardPendingPods, undefined, "never stored");
    // On create too, and whatever fieldValidation says short of Strict.
    const created = (await custom.createNamespacedCustomObject({
      ...velero("schedules"),
      body: {
        apiVersion: "velero.io/v1",
        kind: "Schedule",
        metadata: { name: "prune" },
        spec: { schedule: "@daily" },
        status: { phase: "Enabled", nextRun: "x" },
      },
    })) as any;
    assert.deepEqual(created.status, { phase: "Enabled" });
    const strict = await rejects(
      custom.patchNamespacedCustomObject(
        { ...velero("backups"), name: "prune", body: { status: { bogus: 1 } }, fieldValidation: "Strict" },
        mergePatch(),
      ),
    );
    assert.equal(strict.code, 400);
    assert.match(strict.status.message, /strict decoding error: unknown field "status\.bogus"/);
  });

  test("a phase outside the kind's enum is refused with 422 Invalid, and nothing is stored", async () => {
    await custom.createNamespacedCustomObject({
      ...velero("backups"),
      body: { apiVersion: "velero.io/v1", kind: "Backup", metadata: { name: "enum" }, spec: {} },
    });
    const before = api.getObject("velero.io/v1", "Backup", "velero", "enum");
    const r = await rejects(
      custom.patchNamespacedCustomObject(
        { ...velero("backups"), name: "enum", body: { status: { phase: "Done" } } },
        mergePatch(),
      ),
    );
    assert.equal(r.code, 422);
    assert.equal(r.status.reason, "Invalid");
    assert.match(
      r.status.message,
      /^Backup\.velero\.io "enum" is invalid: status\.phase: Unsupported value: "Done": supported values: "New", "Queued", /,
    );
    assert.deepEqual(r.status.details, {
      name: "enum",
      group: "velero.io",
      kind: "Backup",
      causes: [
        {
          reason: "FieldValueNotSupported",
          field: "status.phase",
          message: r.status.details.causes[0].message,
        },
      ],
    });
    assert.equal(
      api.getObject("velero.io/v1", "Backup", "velero", "enum").metadata.resourceVersion,
      before.metadata.resourceVersion,
    );
    const sched = await rejects(
      custom.createNamespacedCustomObject({
        ...velero("schedules"),
        body: {
          apiVersion: "velero.io/v1",
          kind: "Schedule",
          metadata: { name: "bad" },
          spec: {},
          status: { phase: "Completed" },
        },
      }),
    );
    assert.equal(sched.code, 422);
    assert.match(
      sched.status.message,
      /Schedule\.velero\.io "bad" is invalid: status\.phase: Unsupported value: "Completed": supported values: "New", "Enabled", "FailedValidation"/,
    );
  });

  test("a status-only change bumps metadata.generation (no status subresource)", async () => {
    await custom.createNamespacedCustomObject({
      ...velero("backups"),
      body: { apiVersion: "velero.io/v1", kind: "Backup", metadata: { name: "gen" }, spec: {} },
    });
    const out = (await custom.patchNamespacedCustomObject(
      { ...velero("backups"), name: "gen", body: { status: { phase: "InProgress" } } },
      mergePatch(),
    )) as any;
    assert.equal(out.metadata.generation, 2);
  });
});

async function fetchJson(api: ApiServerHandle, path: string): Promise<any> {
  const { request } = await import("node:https");
  return new Promise((resolve, reject) => {
    const req = request(
      `${api.url}${path}`,
      { ca: api.caPem, headers: { authorization: `Bearer ${api.adminToken}`, accept: "application/json" } },
      (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve(JSON.parse(body)));
      },
    );
    req.on("error", reject);
    req.end();
  });
}
