// appMessageClasses: node creates each req/res already carrying the prototype express's app.handle
// assigns, so that assignment changes nothing (a real per-request prototype change is what made
// the webhook's scavenges slow: BENCHMARKS.md). If an express upgrade stopped assigning exactly
// app.request/app.response, the first test fails instead of the speed silently going away.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, IncomingMessage, ServerResponse, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { appMessageClasses } from "../../src/server/app.js";

async function serve(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("request and response classes born with express's prototypes", () => {
  it("req and res reach express with the prototypes express gives them, and keep them", async () => {
    const app = express();
    const classes = appMessageClasses(app);
    const born: boolean[] = [];
    app.get("/probe", (req, res) => {
      res.json({
        keptRequest: Object.getPrototypeOf(req) === classes.IncomingMessage.prototype,
        keptResponse: Object.getPrototypeOf(res) === classes.ServerResponse.prototype,
      });
    });
    const server = createServer(classes, (req, res) => {
      born.push(Object.getPrototypeOf(req) === app.request, Object.getPrototypeOf(res) === app.response);
      app(req, res);
    });
    const base = await serve(server);
    try {
      const reply = await fetch(`${base}/probe`);
      assert.deepEqual(await reply.json(), { keptRequest: true, keptResponse: true });
      assert.deepEqual(born, [true, true]);
    } finally {
      server.close();
    }
  });

  it("express's request and response helpers, app settings and node's classes all still apply", async () => {
    const app = express();
    app.set("json spaces", 1);
    const classes = appMessageClasses(app);
    app.get("/helpers", (req, res) => {
      res
        .status(202)
        .type("application/json")
        .send(
          JSON.stringify({
            path: req.path,
            header: req.get("x-probe"),
            app: req.app === app,
            isNodeRequest: req instanceof IncomingMessage,
            isNodeResponse: res instanceof ServerResponse,
          }),
        );
    });
    app.use((req, res) => void res.status(404).json({ missing: req.path }));
    const server = createServer(classes, app);
    const base = await serve(server);
    try {
      const ok = await fetch(`${base}/helpers?x=1`, { headers: { "x-probe": "yes" } });
      assert.equal(ok.status, 202);
      assert.match(ok.headers.get("content-type") ?? "", /^application\/json/);
      assert.deepEqual(await ok.json(), {
        path: "/helpers",
        header: "yes",
        app: true,
        isNodeRequest: true,
        isNodeResponse: true,
      });
      const missing = await fetch(`${base}/nowhere`);
      assert.equal(missing.status, 404);
      // res.json honours the app's "json spaces" setting: the response prototype still reaches the app
      assert.equal(await missing.text(), '{\n "missing": "/nowhere"\n}');
    } finally {
      server.close();
    }
  });
});
