// LeaderElector against real HTTPS endpoints serving coordination.k8s.io/v1 Leases with
// resourceVersion-guarded updates. Two electors reach the same lease store through two servers,
// so one elector can "lose the API" (its server hangs or fails) while the other keeps it.
import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { silentLogger } from "../../src/log.js";
import { LeaderElector } from "../../src/kube/leader.js";
import { sendJson, startTestServer, status, waitFor, type TestServer } from "./helpers/https-server.js";

interface Lease {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

class LeaseStore {
  lease: Lease | undefined;
  rv = 0;
  writes: Array<{ holder: string; transitions: number }> = [];
  handler(mode: () => "ok" | "hang" | "fail") {
    return (req: IncomingMessage, res: ServerResponse, body: string): void => {
      const m = mode();
      if (m === "hang") return; // never answer
      if (m === "fail") return sendJson(res, 503, status(503, "ServiceUnavailable", "apiserver unavailable"));
      const path = (req.url ?? "").split("?")[0]!;
      const base = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases";
      if (req.method === "GET" && path === `${base}/hookguard`) {
        return this.lease
          ? sendJson(res, 200, this.lease)
          : sendJson(res, 404, status(404, "NotFound", 'leases.coordination.k8s.io "hookguard" not found'));
      }
      if (req.method === "POST" && path === base) {
        if (this.lease) return sendJson(res, 409, status(409, "AlreadyExists", "already exists"));
        return this.write(res, JSON.parse(body) as Lease, 201);
      }
      if (req.method === "PUT" && path === `${base}/hookguard`) {
        const l = JSON.parse(body) as Lease;
        if (!this.lease || l.metadata.resourceVersion !== this.lease.metadata.resourceVersion) {
          return sendJson(
            res,
            409,
            status(
              409,
              "Conflict",
              "the object has been modified; please apply your changes to the latest version and try again",
            ),
          );
        }
        return this.write(res, l, 200);
      }
      sendJson(res, 404, status(404, "NotFound", "not found"));
    };
  }
  private write(res: ServerResponse, l: Lease, code: number): void {
    assert.match(
      l.spec.renewTime ?? "",
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/,
      "MicroTime must have 6 fractional digits",
    );
    this.lease = { ...l, metadata: { ...l.metadata, resourceVersion: String(++this.rv) } };
    this.writes.push({ holder: l.spec.holderIdentity ?? "", transitions: l.spec.leaseTransitions ?? 0 });
    sendJson(res, code, this.lease);
  }
}

const timing = { leaseDurationMs: 2000, renewDeadlineMs: 1200, retryPeriodMs: 200 };

describe("LeaderElector", () => {
  let store: LeaseStore;
  let modeA: "ok" | "hang" | "fail";
  let srvA: TestServer;
  let srvB: TestServer;
  const electors: LeaderElector[] = [];

  beforeEach(async () => {
    store = new LeaseStore();
    modeA = "ok";
    srvA = await startTestServer(store.handler(() => modeA));
    srvB = await startTestServer(store.handler(() => "ok"));
  });
  afterEach(async () => {
    modeA = "ok";
    await Promise.all(electors.splice(0).map((e) => e.stop()));
    await srvA.stop();
    await srvB.stop();
  });

  function elector(
    srv: TestServer,
    identity: string,
    log: string[],
  ): { e: LeaderElector; signals: AbortSignal[] } {
    const signals: AbortSignal[] = [];
    const e = new LeaderElector(
      srv.kc,
      { namespace: "kube-system", name: "hookguard", identity, ...timing },
      {
        onStartedLeading: (s) => {
          signals.push(s);
          log.push(`${identity} started`);
        },
        onStoppedLeading: () => log.push(`${identity} stopped`),
      },
      silentLogger(),
    );
    electors.push(e);
    return { e, signals };
  }

  it("elects exactly one of two candidates and records it in the lease", async () => {
    const log: string[] = [];
    const a = elector(srvA, "agent-a", log);
    const b = elector(srvB, "agent-b", log);
    a.e.start();
    b.e.start();
    await waitFor(() => a.e.isLeader() || b.e.isLeader(), "a leader");
    // several renew periods later there is still exactly one leader, the lease holder
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(Number(a.e.isLeader()) + Number(b.e.isLeader()), 1);
    const leader = a.e.isLeader() ? "agent-a" : "agent-b";
    assert.equal(store.lease?.spec.holderIdentity, leader);
    assert.equal(store.lease?.spec.leaseDurationSeconds, 2);
    assert.equal(store.lease?.spec.leaseTransitions, 0);
    assert.deepEqual(log, [`${leader} started`]);
  });

  it("a leader that loses the API stops leading within the renew deadline; the other takes over after expiry", async () => {
    const log: string[] = [];
    const a = elector(srvA, "agent-a", log);
    a.e.start();
    await waitFor(() => a.e.isLeader(), "agent-a leading");
    const b = elector(srvB, "agent-b", log);
    b.e.start();
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(b.e.isLeader(), false, "the follower must not take a valid lease");
    modeA = "hang";
    await waitFor(() => !a.e.isLeader(), "agent-a to stop leading", 10_000);
    assert.equal(a.signals[0]?.aborted, true, "the leader's signal is aborted");
    await waitFor(() => b.e.isLeader(), "agent-b to take over", 15_000);
    assert.equal(store.lease?.spec.holderIdentity, "agent-b");
    assert.equal(store.lease?.spec.leaseTransitions, 1);
    // agent-a stopped before agent-b started: never two leaders at once
    assert.deepEqual(log, ["agent-a started", "agent-a stopped", "agent-b started"]);
  });

  it("a leader whose API answers 503 stops leading; it re-acquires nothing while the other holds the lease", async () => {
    const log: string[] = [];
    const a = elector(srvA, "agent-a", log);
    a.e.start();
    await waitFor(() => a.e.isLeader(), "agent-a leading");
    const b = elector(srvB, "agent-b", log);
    b.e.start();
    modeA = "fail";
    await waitFor(() => !a.e.isLeader(), "agent-a to stop leading", 10_000);
    await waitFor(() => b.e.isLeader(), "agent-b to take over", 15_000);
    modeA = "ok";
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(a.e.isLeader(), false);
    assert.equal(b.e.isLeader(), true);
  });

  it("stop() releases the lease so the successor does not wait for expiry", async () => {
    const log: string[] = [];
    const a = elector(srvA, "agent-a", log);
    a.e.start();
    await waitFor(() => a.e.isLeader(), "agent-a leading");
    const b = elector(srvB, "agent-b", log);
    b.e.start();
    await a.e.stop();
    assert.equal(a.signals[0]?.aborted, true);
    assert.equal(store.writes.at(-1)?.holder, "");
    await waitFor(() => b.e.isLeader(), "agent-b to acquire the released lease");
    assert.deepEqual(log, ["agent-a started", "agent-a stopped", "agent-b started"]);
  });

  it("judges expiry by its own clock from when it observed the lease, not by the holder's renewTime", async () => {
    // A lease whose renewTime looks ancient (the holder's clock may simply be behind ours).
    store.lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "hookguard", namespace: "kube-system", resourceVersion: String(++store.rv) },
      spec: {
        holderIdentity: "ghost",
        leaseDurationSeconds: 4,
        acquireTime: "2000-01-01T00:00:00.000000Z",
        renewTime: "2000-01-01T00:00:00.000000Z",
        leaseTransitions: 3,
      },
    };
    const log: string[] = [];
    const signals: AbortSignal[] = [];
    const e = new LeaderElector(
      srvB.kc,
      {
        namespace: "kube-system",
        name: "hookguard",
        identity: "agent-b",
        leaseDurationMs: 4000,
        renewDeadlineMs: 3000,
        retryPeriodMs: 200,
      },
      { onStartedLeading: (s) => void signals.push(s), onStoppedLeading: () => void log.push("stopped") },
      silentLogger(),
    );
    electors.push(e);
    e.start();
    await waitFor(
      () => store.writes.length > 0 || srvB.requests.length >= 3,
      "the candidate to read the lease a few times",
    );
    assert.equal(e.isLeader(), false, "a lease seen for the first time is valid for a full duration");
    await waitFor(() => e.isLeader(), "takeover once the lease went unrenewed for its duration", 20_000);
    assert.equal(store.lease?.spec.holderIdentity, "agent-b");
    assert.equal(store.lease?.spec.leaseTransitions, 4);
  });

  it("refuses inconsistent timing", () => {
    assert.throws(
      () =>
        new LeaderElector(
          srvA.kc,
          { namespace: "n", name: "l", identity: "x", leaseDurationMs: 1000, renewDeadlineMs: 2000 },
          { onStartedLeading() {}, onStoppedLeading() {} },
          silentLogger(),
        ),
      /leaseDuration > renewDeadline > retryPeriod/,
    );
  });
});
