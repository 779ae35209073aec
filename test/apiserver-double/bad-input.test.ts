// Bad input gets the real server's 4xx Status, never a 500, a crash or a half-written object.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request as httpsRequest } from "node:https";
import { startApiServer, type ApiServerHandle } from "../apiserver/server.js";

describe("the API-server double on bad input", () => {
  let api: ApiServerHandle;
  before(async () => {
    api = await startApiServer();
    api.createObject({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s", namespace: "default" },
      data: {},
    });
  });
  after(() => api.stop());

  function call(
    method: string,
    path: string,
    body?: string,
    contentType = "application/json",
  ): Promise<{ code: number; json: any; text: string }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        `${api.url}${path}`,
        {
          method,
          ca: api.caPem,
          headers: {
            Authorization: `Bearer ${api.adminToken}`,
            ...(body !== undefined ? { "Content-Type": contentType } : {}),
          },
        },
        (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => {
            let json: any;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ code: res.statusCode ?? 0, json, text });
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  test("malformed bodies and patches are 4xx Status answers", async () => {
    const cases: Array<[string, string, string | undefined, string, number, RegExp]> = [
      [
        "POST",
        "/api/v1/namespaces/default/secrets",
        "{not json",
        "application/json",
        400,
        /error decoding body/,
      ],
      [
        "POST",
        "/api/v1/namespaces/default/secrets",
        "[1,2]",
        "application/json",
        400,
        /Object 'Kind' is missing/,
      ],
      [
        "POST",
        "/api/v1/namespaces/default/secrets",
        '{"apiVersion":"apps/v1","kind":"Secret","metadata":{"name":"x"}}',
        "application/json",
        400,
        /does not match the expected API version/,
      ],
      [
        "POST",
        "/api/v1/namespaces/default/secrets",
        '{"metadata":{"name":"x","namespace":"other"}}',
        "application/json",
        400,
        /does not match the namespace sent on the request/,
      ],
      ["POST", "/api/v1/namespaces/default/secrets", "<xml/>", "text/xml", 415, /unknown format/],
      [
        "POST",
        "/apis/velero.io/v1/namespaces/velero/backups",
        '{"metadata":{"name":"b"}}',
        "application/json",
        400,
        /Object 'Kind' is missing/,
      ],
      [
        "PATCH",
        "/api/v1/namespaces/default/secrets/s",
        '{"metadata":"x"}',
        "application/merge-patch+json",
        400,
        /metadata must be an object/,
      ],
      [
        "PATCH",
        "/api/v1/namespaces/default/secrets/s",
        '[{"op":"explode"}]',
        "application/json-patch+json",
        400,
        /Unexpected kind/,
      ],
      [
        "PATCH",
        "/api/v1/namespaces/default/secrets/s",
        '[{"op":"remove","path":"/nope"}]',
        "application/json-patch+json",
        422,
        /missing/,
      ],
      [
        "PATCH",
        "/api/v1/namespaces/default/secrets/s",
        "{}",
        "application/apply-patch+yaml",
        415,
        /accepted media types include: application\/json-patch\+json, application\/merge-patch\+json, application\/strategic-merge-patch\+json/,
      ],
      [
        "PUT",
        "/api/v1/namespaces/default/secrets",
        "{}",
        "application/json",
        405,
        /does not allow this method/,
      ],
      [
        "PUT",
        "/api/v1/namespaces/default/secrets/s",
        '{"metadata":{"name":"other"}}',
        "application/json",
        400,
        /does not match the name on the URL/,
      ],
      [
        "GET",
        "/api/v1/namespaces/default/secrets?labelSelector=a%3D(b",
        undefined,
        "",
        400,
        /unable to parse requirement/,
      ],
      [
        "GET",
        "/api/v1/namespaces/default/widgets",
        undefined,
        "",
        404,
        /could not find the requested resource/,
      ],
      ["GET", "/apis/nope.io/v1", undefined, "", 404, /could not find the requested resource/],
      [
        "GET",
        "/api/v1/namespaces/default/secrets?watch=true&resourceVersion=abc",
        undefined,
        "",
        400,
        /invalid resource version/,
      ],
    ];
    const rvBefore = api.getObject("v1", "Secret", "default", "s").metadata.resourceVersion;
    for (const [method, path, body, ct, code, msg] of cases) {
      const r = await call(method, path, body, ct);
      assert.equal(r.code, code, `${method} ${path} ${body ?? ""}: ${r.text}`);
      assert.equal(r.json?.kind, "Status", `${method} ${path}: a Status body`);
      assert.equal(r.json.code, code);
      assert.match(r.json.message, msg, `${method} ${path}`);
    }
    assert.equal(
      api.getObject("v1", "Secret", "default", "s").metadata.resourceVersion,
      rvBefore,
      "failed writes change nothing",
    );
    assert.equal(api.getObject("v1", "Secret", "default", "x"), undefined, "nothing half-written");
    assert.equal((await call("GET", "/healthz")).text, "ok", "still serving");
  });
});
