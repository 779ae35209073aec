// The exec endpoint against the real @kubernetes/client-node Exec (and a bare ws client where the
// protocol itself is under test): what a hook runner sees on the wire.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { PassThrough, Readable } from "node:stream";
import { WebSocketHandler } from "@kubernetes/client-node/dist/web-socket-handler.js";
import { Exec, type KubeConfig } from "@kubernetes/client-node";
import WebSocket from "ws";
import { readContainerFile, runningExecCount, shutdownExecs } from "../apiserver/exec/index.js";
import { runningPod, startExecHarness, type ExecHarness } from "../apiserver/exec/test-harness.js";
import { clientExec, execPath, exitCodeOf, kubeConfigFor, rawExec, rawUpgrade, text } from "./helpers.js";

let h: ExecHarness;
let kc: KubeConfig;

function addPod(pod: any): any {
  h.pods.set(`${pod.metadata.namespace}/${pod.metadata.name}`, pod);
  return pod;
}

before(async () => {
  h = await startExecHarness();
  kc = kubeConfigFor(h);
  addPod(
    runningPod("web", [
      {
        name: "app",
        image: "docker.io/library/busybox:1.36",
        env: [
          { name: "GREETING", value: "hello there" },
          { name: "FROM_SECRET", valueFrom: { secretKeyRef: { name: "s", key: "k" } } } as any,
        ],
        workingDir: "/srv/app",
      },
    ]),
  );
  addPod(
    runningPod("nginx", [
      { name: "nginx", image: "nginx:1.27" },
      { name: "fsfreeze", image: "docker.io/library/ubuntu:24.04" },
    ]),
  );
  addPod(runningPod("other", [{ name: "fsfreeze", image: "ubuntu" }]));
});

after(async () => {
  await h.stop();
});

describe("running commands", () => {
  it("streams stdout and stderr separately and reports exit 0 as Success", async () => {
    const r = await clientExec(kc, "web", "app", ["sh", "-c", "echo out; echo err >&2"]);
    assert.equal(r.stdout, "out\n");
    assert.equal(r.stderr, "err\n");
    assert.deepEqual(r.status, { metadata: {}, status: "Success" });
    assert.equal(exitCodeOf(r.status), 0);
  });

  it("reports a non-zero exit code as NonZeroExitCode with an ExitCode cause, worded as the v5 translator words it", async () => {
    const r = await clientExec(kc, "web", "app", ["sh", "-c", "echo partial; exit 3"]);
    assert.equal(r.stdout, "partial\n");
    assert.deepEqual(r.status, {
      metadata: {},
      status: "Failure",
      message: "command terminated with non-zero exit code: command terminated with exit code 3",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "3" }] },
    });
    assert.equal(exitCodeOf(r.status), 3);
  });

  it("passes argv verbatim without a shell: spaces survive and $HOME is not expanded", async () => {
    const r = await clientExec(kc, "web", "app", ["echo", "$HOME", "a  b", "'quoted'"]);
    assert.equal(r.stdout, "$HOME a  b 'quoted'\n");
  });

  it("gives the command the container's environment, never the host's", async () => {
    process.env.H2B_HOST_ONLY_VARIABLE = "leak";
    try {
      const r = await clientExec(kc, "web", "app", ["env"]);
      const env = new Map(
        r.stdout
          .trim()
          .split("\n")
          .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as [string, string]),
      );
      assert.equal(env.get("GREETING"), "hello there");
      assert.equal(env.get("HOME"), "/root");
      assert.equal(env.get("HOSTNAME"), "web");
      assert.equal(env.get("PATH"), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
      assert.equal(env.has("FROM_SECRET"), false, "valueFrom is not resolved by the double");
      assert.equal(env.has("H2B_HOST_ONLY_VARIABLE"), false);
    } finally {
      delete process.env.H2B_HOST_ONLY_VARIABLE;
    }
  });

  it("starts in the container's workingDir (created like runc does when the image lacks it)", async () => {
    const r = await clientExec(kc, "web", "app", ["pwd"]);
    assert.equal(r.stdout, "/srv/app\n");
  });

  it("confines absolute paths, even inside sh -c, to the container's root", async () => {
    assert.ok(existsSync("/work"), "precondition: the host has /work");
    const ls = await clientExec(kc, "web", "app", ["sh", "-c", "ls /work"]);
    assert.equal(exitCodeOf(ls.status), 1);
    assert.equal(ls.stderr, "ls: /work: No such file or directory\n");
    const root = await clientExec(kc, "web", "app", ["ls", "/"]);
    assert.deepEqual(root.stdout.trim().split("\n").sort(), [
      "bin",
      "dev",
      "etc",
      "home",
      "proc",
      "root",
      "run",
      "sbin",
      "srv",
      "tmp",
      "usr",
      "var",
    ]);
  });

  it("keeps containers apart: files written in one container are invisible to the others", async () => {
    const w = await clientExec(kc, "nginx", "nginx", ["sh", "-c", "echo from-nginx > /tmp/marker"]);
    assert.equal(exitCodeOf(w.status), 0);
    const sameContainer = await clientExec(kc, "nginx", "nginx", ["cat", "/tmp/marker"]);
    assert.equal(sameContainer.stdout, "from-nginx\n");
    const sibling = await clientExec(kc, "nginx", "fsfreeze", ["cat", "/tmp/marker"]);
    assert.equal(exitCodeOf(sibling.status), 1);
    assert.match(sibling.stderr, /No such file or directory/);
    const nginxUid = h.pods.get("default/nginx").metadata.uid;
    assert.equal(await readContainerFile(h.stateDir, nginxUid, "nginx", "/tmp/marker"), "from-nginx\n");
    assert.equal(await readContainerFile(h.stateDir, nginxUid, "fsfreeze", "/tmp/marker"), undefined);
  });

  it("feeds stdin and ends it with the v5 half-close, so `cat` finishes and the status still arrives", async () => {
    const r = await clientExec(kc, "web", "app", ["cat"], {
      stdin: Readable.from([Buffer.from("line one\n"), Buffer.from("line two\n")]),
    });
    assert.equal(r.stdout, "line one\nline two\n");
    assert.equal(exitCodeOf(r.status), 0);
  });
});

describe("the fsfreeze stand-in in the ubuntu image", () => {
  it("records freeze/unfreeze inside the container root and refuses a double freeze and a stray unfreeze like util-linux", async () => {
    const hostState = "/var/lib/fsfreeze-standin";
    const hostStateExisted = existsSync(hostState);
    const freeze = await clientExec(kc, "nginx", "fsfreeze", [
      "/sbin/fsfreeze",
      "--freeze",
      "/var/log/nginx",
    ]);
    assert.equal(exitCodeOf(freeze.status), 0, freeze.stderr);

    const again = await clientExec(kc, "nginx", "fsfreeze", ["/sbin/fsfreeze", "--freeze", "/var/log/nginx"]);
    assert.equal(exitCodeOf(again.status), 1);
    assert.equal(again.stderr, "fsfreeze: /var/log/nginx: freeze failed: Device or resource busy\n");

    // Through a shell too: bash finds the stand-in on PATH like in a real ubuntu image.
    const thaw = await clientExec(kc, "nginx", "fsfreeze", [
      "/bin/bash",
      "-c",
      "fsfreeze --unfreeze /var/log/nginx",
    ]);
    assert.equal(exitCodeOf(thaw.status), 0, thaw.stderr);

    const stray = await clientExec(kc, "nginx", "fsfreeze", [
      "/sbin/fsfreeze",
      "--unfreeze",
      "/var/log/nginx",
    ]);
    assert.equal(exitCodeOf(stray.status), 1);
    assert.equal(stray.stderr, "fsfreeze: /var/log/nginx: unfreeze failed: Invalid argument\n");

    const uid = h.pods.get("default/nginx").metadata.uid;
    const log = await readContainerFile(h.stateDir, uid, "fsfreeze", "/var/lib/fsfreeze-standin/log");
    assert.ok(log, "the stand-in wrote its log inside the container");
    assert.deepEqual(
      log
        .trim()
        .split("\n")
        .map((l) =>
          l
            .split(" ")
            .filter((_, i) => i !== 1)
            .join(" "),
        ),
      ["1 freeze /var/log/nginx", "2 unfreeze /var/log/nginx"],
    );
    assert.equal(existsSync(hostState), hostStateExisted, "nothing was written on the host");
    // Another pod's container has its own, untouched state.
    const otherUid = h.pods.get("default/other").metadata.uid;
    const otherFreeze = await clientExec(kc, "other", "fsfreeze", [
      "/sbin/fsfreeze",
      "--freeze",
      "/var/log/nginx",
    ]);
    assert.equal(exitCodeOf(otherFreeze.status), 0, otherFreeze.stderr);
    assert.match(
      (await readContainerFile(h.stateDir, otherUid, "fsfreeze", "/var/lib/fsfreeze-standin/log")) ?? "",
      /^1 \d+ freeze \/var\/log\/nginx\n$/,
    );
  });

  it("cannot freeze anything real: busybox's own fsfreeze applet gets EPERM inside the user namespace", async () => {
    const r = await clientExec(kc, "web", "app", ["sh", "-c", "fsfreeze --freeze /tmp"]);
    assert.equal(exitCodeOf(r.status), 1);
    assert.match(r.stderr, /Operation not permitted/);
  });
});

describe("the mysql stand-in in the mysql image", () => {
  it("runs the example hook through sh with the container's password and records the statement", async () => {
    const pod = addPod(
      runningPod("db", [
        { name: "mysql", image: "mysql:8.4", env: [{ name: "MYSQL_ROOT_PASSWORD", value: "s3cret" }] },
      ]),
    );
    const hook = ["/bin/sh", "-c", 'mysql --password=$MYSQL_ROOT_PASSWORD -e "FLUSH TABLES WITH READ LOCK"'];
    const ok = await clientExec(kc, "db", "mysql", hook);
    assert.equal(exitCodeOf(ok.status), 0, ok.stderr);
    assert.equal(
      await readContainerFile(h.stateDir, pod.metadata.uid, "mysql", "/var/lib/mysql-standin/statements"),
      "FLUSH TABLES WITH READ LOCK\n",
    );
    const wrong = await clientExec(kc, "db", "mysql", ["mysql", "--password=nope", "-e", "UNLOCK TABLES"]);
    assert.equal(exitCodeOf(wrong.status), 1);
    assert.equal(
      wrong.stderr,
      "ERROR 1045 (28000): Access denied for user 'root'@'localhost' (using password: YES)\n",
    );
  });
});

describe("errors answered like a real server", () => {
  it("a program missing from the image fails like containerd/runc, as an InternalError on channel 3", async () => {
    const r = await clientExec(kc, "web", "app", ["nosuch", "arg"]);
    assert.equal(r.status?.status, "Failure");
    assert.equal(r.status?.reason, "InternalError");
    assert.equal((r.status as any)?.code, 500);
    assert.match(
      r.status?.message ?? "",
      /^Internal error occurred: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "[0-9a-f]{64}": OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuch": executable file not found in \$PATH: unknown$/,
    );
    const abs = await clientExec(kc, "web", "app", ["/usr/bin/nosuch"]);
    assert.match(
      abs.status?.message ?? "",
      /exec: "\/usr\/bin\/nosuch": stat \/usr\/bin\/nosuch: no such file or directory: unknown$/,
    );
  });

  it("a missing pod is a 404 NotFound Status before any upgrade", async () => {
    const raw = await rawUpgrade(h, execPath("ghost", ["true"], "app"), ["v5.channel.k8s.io"]);
    assert.equal(raw.statusCode, 404);
    assert.equal(raw.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(raw.body), {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pods "ghost" not found',
      reason: "NotFound",
      details: { name: "ghost", kind: "pods" },
      code: 404,
    });
    await assert.rejects(clientExec(kc, "ghost", "app", ["true"]), (e: any) =>
      /Unexpected server response: 404/.test(String(e?.message ?? e)),
    );
  });

  it("a container not in the pod is a 400 BadRequest with the real text", async () => {
    const raw = await rawUpgrade(h, execPath("web", ["true"], "nope"), ["v5.channel.k8s.io"]);
    assert.equal(raw.statusCode, 400);
    assert.deepEqual(JSON.parse(raw.body), {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "container nope is not valid for pod web",
      reason: "BadRequest",
      code: 400,
    });
  });

  it("an omitted container is the only container, or a 400 listing the choices", async () => {
    const single = await clientExec(kc, "web", "", ["echo", "defaulted"]);
    assert.equal(single.stdout, "defaulted\n");
    const raw = await rawUpgrade(h, execPath("nginx", ["true"]), ["v5.channel.k8s.io"]);
    assert.equal(raw.statusCode, 400);
    assert.equal(
      JSON.parse(raw.body).message,
      "a container name must be specified for pod nginx, choose one of: [nginx fsfreeze]",
    );
  });

  it("a pod without a node is a 400; a scheduled pod whose container is not running fails after the v5 upgrade, on v4 before it", async () => {
    const pending = addPod(runningPod("pending", [{ name: "c", image: "busybox" }]));
    delete pending.spec.nodeName;
    pending.status = { phase: "Pending" };
    const raw = await rawUpgrade(h, execPath("pending", ["true"], "c"), ["v5.channel.k8s.io"]);
    assert.equal(raw.statusCode, 400);
    assert.equal(JSON.parse(raw.body).message, "pod pending does not have a host assigned");

    const creating = addPod(runningPod("creating", [{ name: "c", image: "busybox" }]));
    creating.status = {
      phase: "Pending",
      containerStatuses: [
        { name: "c", ready: false, restartCount: 0, state: { waiting: { reason: "ContainerCreating" } } },
      ],
    };
    const r = await clientExec(kc, "creating", "c", ["true"]);
    assert.deepEqual(r.status, {
      metadata: {},
      status: "Failure",
      message: 'Internal error occurred: unable to upgrade connection: container not found ("c")',
      reason: "InternalError",
      details: { causes: [{ message: 'unable to upgrade connection: container not found ("c")' }] },
      code: 500,
    });
    const v4 = await rawUpgrade(h, execPath("creating", ["true"], "c"), ["v4.channel.k8s.io"]);
    assert.equal(v4.statusCode, 500);
    assert.equal(v4.body, 'container not found ("c")');
  });

  it("refuses a request without streams or without a command before upgrading", async () => {
    const noStreams = await rawUpgrade(h, execPath("web", ["true"], "app", "stdout=false"), [
      "v5.channel.k8s.io",
    ]);
    assert.equal(noStreams.statusCode, 400);
    assert.equal(JSON.parse(noStreams.body).message, "you must specify at least 1 of stdin, stdout, stderr");
    const noCommand = await rawUpgrade(h, execPath("web", [], "app"), ["v5.channel.k8s.io"]);
    assert.equal(noCommand.statusCode, 400);
    assert.equal(JSON.parse(noCommand.body).message, "you must specify at least 1 command");
  });

  it("a pod whose image has no test root is refused with a clear error instead of running on the host", async () => {
    addPod(runningPod("unknown-image", [{ name: "c", image: "quay.io/acme/postgres:16" }]));
    const raw = await rawUpgrade(h, execPath("unknown-image", ["true"], "c"), ["v5.channel.k8s.io"]);
    assert.equal(raw.statusCode, 500);
    const body = JSON.parse(raw.body);
    assert.equal(body.reason, "InternalError");
    assert.match(
      body.message,
      /exec refused: no image root for "postgres" \(known test images: busybox, ubuntu, nginx, mysql/,
    );
  });

  it("asks for an upgrade on a plain request, and refuses SPDY with a Status", async () => {
    const spdy = await rawUpgrade(h, execPath("web", ["true"], "app"), [], "SPDY/3.1");
    assert.equal(spdy.statusCode, 400);
    assert.match(JSON.parse(spdy.body).message, /WebSocket only/);
    const res = await fetchPlain(execPath("web", ["true"], "app"));
    assert.equal(res.statusCode, 400);
    assert.equal(JSON.parse(res.body).message, "Upgrade request required");
  });
});

describe("protocol negotiation", () => {
  it("picks v5 when offered, whatever the order", async () => {
    const log = await rawExec(h, execPath("web", ["echo", "hi"], "app"), [
      "v4.channel.k8s.io",
      "v5.channel.k8s.io",
    ]);
    assert.equal(log.protocol, "v5.channel.k8s.io");
    assert.equal(text(log, 1), "hi\n");
    assert.deepEqual(JSON.parse(text(log, 3)), { metadata: {}, status: "Success" });
    assert.equal(log.closeCode, 1000);
    assert.equal(
      log.frames.some((f) => f.channel === 255),
      false,
      "the server never sends channel-255 frames",
    );
  });

  it("with tty=true merges stderr into the stdout channel, as a terminal would", async () => {
    const log = await rawExec(
      h,
      execPath("web", ["sh", "-c", "echo out; echo err >&2"], "app", "stdout=true&stderr=true&tty=true"),
      ["v5.channel.k8s.io"],
    );
    assert.equal(text(log, 2), "");
    assert.equal(text(log, 1).split("\n").sort().join(","), ",err,out");
  });

  it("speaks v4 to a v4-only client, with the kubelet's exit-code wording and no channel-255 frames", async () => {
    const log = await rawExec(h, execPath("web", ["sh", "-c", "echo x; exit 7"], "app"), [
      "v4.channel.k8s.io",
    ]);
    assert.equal(log.protocol, "v4.channel.k8s.io");
    assert.equal(text(log, 1), "x\n");
    const status = JSON.parse(text(log, 3));
    assert.equal(
      status.message,
      "command terminated with non-zero exit code: error executing command [sh -c echo x; exit 7], exit code 7",
    );
    assert.deepEqual(status.details, { causes: [{ reason: "ExitCode", message: "7" }] });
    assert.equal(
      log.frames.some((f) => f.channel === 255),
      false,
    );
  });

  it("rejects a client offering neither v5 nor v4 with the kubelet's bare 403", async () => {
    const raw = await rawUpgrade(h, execPath("web", ["true"], "app"), [
      "channel.k8s.io",
      "base64.channel.k8s.io",
    ]);
    assert.equal(raw.statusCode, 403);
    assert.equal(raw.body, "");
  });

  it("client-node's v5 offer is accepted (it fails with 'Server sent no subprotocol' otherwise)", async () => {
    const r = await clientExec(kc, "web", "app", ["true"]);
    assert.equal(exitCodeOf(r.status), 0);
  });
});

describe("fault knobs", () => {
  it("upgradeDelayMs holds the handshake: a client with a shorter handshake timeout gives up", async () => {
    h.knobs.upgradeDelayMs = 1500;
    try {
      const handler = new WebSocketHandler(
        kc,
        (uri, protocols, opts) => new WebSocket(uri, protocols, { ...opts, handshakeTimeout: 200 }),
      );
      await assert.rejects(
        new Exec(kc, handler).exec("default", "web", "app", ["true"], new PassThrough(), null, null, false),
        (e: any) => /Opening handshake has timed out/.test(String(e?.message)),
      );
      const slow = await clientExec(kc, "web", "app", ["echo", "late"]);
      assert.equal(slow.stdout, "late\n");
    } finally {
      delete h.knobs.upgradeDelayMs;
    }
  });

  it("dropAfterBytes cuts the connection after exactly that much output, with no status", async () => {
    h.knobs.dropAfterBytes = 1000;
    try {
      const r = await clientExec(kc, "web", "app", ["sh", "-c", "yes 0123456789 | head -c 100000"]);
      assert.equal(r.stdout.length, 1000);
      assert.equal(r.closedWithoutStatus, true);
    } finally {
      delete h.knobs.dropAfterBytes;
    }
  });

  it("neverSendStatus lets the command finish but leaves the socket open without a status", async () => {
    h.knobs.neverSendStatus = true;
    try {
      const log = await rawExec(
        h,
        execPath("web", ["echo", "done"], "app"),
        ["v5.channel.k8s.io"],
        (ws, frames) => {
          const check = setInterval(() => {
            // Once the output arrived, give the server ample time to (wrongly) send a status.
            if (ws.readyState === ws.OPEN && frames.frames.length > 0) {
              clearInterval(check);
              setTimeout(() => ws.close(1000), 500);
            }
          }, 20);
        },
      );
      assert.equal(text(log, 1), "done\n");
      assert.equal(text(log, 3), "");
      assert.equal(log.closeCode, 1000, "closed by the client, not the server");
    } finally {
      delete h.knobs.neverSendStatus;
    }
  });

  it("a client that goes away leaves the process running (like a kubelet) until shutdownExecs()", async () => {
    const before = runningExecCount();
    const log = await rawExec(h, execPath("web", ["sleep", "600"], "app"), ["v5.channel.k8s.io"], (ws) =>
      setTimeout(() => ws.close(1000), 200),
    );
    assert.equal(log.closeCode, 1000);
    assert.equal(runningExecCount(), before + 1);
    await shutdownExecs();
    assert.equal(runningExecCount(), 0);
  });
});

async function fetchPlain(path: string): Promise<{ statusCode: number; body: string }> {
  const { request } = await import("node:https");
  const { TEST_TOKEN } = await import("../apiserver/exec/test-harness.js");
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: h.port,
        path,
        method: "GET",
        ca: h.caPem,
        headers: { Authorization: `Bearer ${TEST_TOKEN}` },
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ statusCode: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}
