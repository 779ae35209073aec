// The pieces the exec double's safety and fidelity rest on, tested directly: image names, the
// root-confinement guards, path resolution inside a root, and runtime exit codes.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { imageNameFor } from "../apiserver/images/build.js";
import {
  checkRootInside,
  containerRootPath,
  lookPathInRoot,
  readContainerFile,
  resolveInRoot,
} from "../apiserver/exec/rootfs.js";
import { exitCodeOf, runProbe } from "../apiserver/exec/runner.js";
import { containerEnv, resolveTarget } from "../apiserver/exec/pod.js";

let dir: string;
let root: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "exec-units-"));
  root = join(dir, "root");
  mkdirSync(join(root, "etc"), { recursive: true });
  mkdirSync(join(root, "bin"), { recursive: true });
  writeFileSync(join(root, "etc", "hostname"), "inside\n");
  writeFileSync(join(root, "bin", "tool"), "#!/bin/sh\n");
  chmodSync(join(root, "bin", "tool"), 0o755);
  writeFileSync(join(root, "etc", "data"), "not executable\n");
  symlinkSync("/etc/hostname", join(root, "etc", "abs-link"));
  symlinkSync("../../../../../../etc/hostname", join(root, "etc", "climb-link"));
  symlinkSync("loop-b", join(root, "etc", "loop-a"));
  symlinkSync("loop-a", join(root, "etc", "loop-b"));
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe("image names", () => {
  it("match by repository name without registry, tag or digest", () => {
    assert.equal(imageNameFor("docker.io/library/ubuntu:24.04"), "ubuntu");
    assert.equal(imageNameFor("busybox:1.36"), "busybox");
    assert.equal(imageNameFor("registry.k8s.io/foo/bar@sha256:" + "a".repeat(64)), "bar");
    assert.equal(imageNameFor("localhost:5000/team/mysql:8.0"), "mysql");
    assert.equal(imageNameFor("nginx"), "nginx");
  });
});

describe("confinement guards", () => {
  it("refuse / and anything outside stateDir", () => {
    assert.match(checkRootInside("/", "/") ?? "", /stateDir must not be \//);
    assert.match(checkRootInside("relative/dir", "relative/dir/x") ?? "", /must be absolute/);
    assert.match(checkRootInside(dir, "/") ?? "", /refusing to use \//);
    assert.match(checkRootInside(dir, "/etc") ?? "", /not inside stateDir/);
    assert.match(checkRootInside(dir, dir) ?? "", /not inside stateDir/);
    assert.equal(checkRootInside(dir, join(dir, "containers", "u", "c", "rootfs")), undefined);
  });

  it("keep hostile pod uids and container names inside stateDir", () => {
    for (const [uid, name] of [
      ["..", ".."],
      ["../../etc", "x"],
      ["u", "../../../../"],
      ["", ""],
    ] as const) {
      const p = containerRootPath(dir, uid, name);
      assert.equal(checkRootInside(dir, p), undefined, `${uid}/${name} -> ${p}`);
    }
    assert.notEqual(containerRootPath(dir, "a/b", "c"), containerRootPath(dir, "a", "b/c"));
  });

  it("resolve absolute and climbing symlinks inside the root, never on the host", async () => {
    assert.deepEqual(await resolveInRoot(root, "/etc/abs-link", "/"), {
      ok: true,
      hostPath: join(root, "etc", "hostname"),
    });
    assert.deepEqual(await resolveInRoot(root, "/etc/climb-link", "/"), {
      ok: true,
      hostPath: join(root, "etc", "hostname"),
    });
    assert.deepEqual(await resolveInRoot(root, "../../../etc/hostname", "/bin"), {
      ok: true,
      hostPath: join(root, "etc", "hostname"),
    });
    assert.deepEqual(await resolveInRoot(root, "/etc/loop-a", "/"), { ok: false, code: "ELOOP" });
    assert.deepEqual(await resolveInRoot(root, "/etc/hostname/x", "/"), { ok: false, code: "ENOTDIR" });
    assert.deepEqual(
      await resolveInRoot(root, "/etc/passwd", "/"),
      { ok: false, code: "ENOENT" },
      "the host's /etc/passwd is not visible",
    );
  });

  it("read container files through the same resolution", async () => {
    const state = join(dir, "state");
    const croot = containerRootPath(state, "uid-1", "c");
    mkdirSync(join(croot, "etc"), { recursive: true });
    writeFileSync(join(croot, "etc", "hostname"), "container\n");
    symlinkSync("/etc/hostname", join(croot, "etc", "link"));
    assert.equal(await readContainerFile(state, "uid-1", "c", "/etc/link"), "container\n");
    assert.equal(await readContainerFile(state, "uid-1", "c", "/../../../../../etc/hostname"), "container\n");
    assert.equal(await readContainerFile(state, "uid-1", "c", "/etc/os-release"), undefined);
  });
});

describe("runc-style program lookup", () => {
  it("answers with runc's wording for each failure", async () => {
    assert.deepEqual(await lookPathInRoot(root, "tool", "/usr/bin:/bin", "/"), { ok: true });
    assert.deepEqual(await lookPathInRoot(root, "nosuch", "/usr/bin:/bin", "/"), {
      ok: false,
      runcError: '"nosuch": executable file not found in $PATH',
    });
    assert.deepEqual(await lookPathInRoot(root, "/bin/nosuch", "/bin", "/"), {
      ok: false,
      runcError: '"/bin/nosuch": stat /bin/nosuch: no such file or directory',
    });
    assert.deepEqual(await lookPathInRoot(root, "/etc/data", "/bin", "/"), {
      ok: false,
      runcError: '"/etc/data": permission denied',
    });
    assert.deepEqual(await lookPathInRoot(root, "/etc", "/bin", "/"), {
      ok: false,
      runcError: '"/etc": permission denied',
    });
    assert.deepEqual(await lookPathInRoot(root, "data", "/etc", "/"), {
      ok: false,
      runcError: '"data": executable file not found in $PATH',
    });
  });
});

describe("exit codes and the pod's view", () => {
  it("report a signal as 128+signal, as container runtimes do", () => {
    assert.equal(exitCodeOf(3, null), 3);
    assert.equal(exitCodeOf(null, "SIGKILL"), 137);
    assert.equal(exitCodeOf(null, "SIGTERM"), 143);
  });

  it("lists init and ephemeral containers too when the choice is ambiguous, as VisitContainers does", () => {
    const pod = {
      metadata: { name: "p", uid: "u" },
      spec: {
        nodeName: "n",
        initContainers: [{ name: "init" }],
        containers: [{ name: "a" }, { name: "b" }],
        ephemeralContainers: [{ name: "dbg" }],
      },
    };
    const r = resolveTarget(pod, "p", "default", "");
    assert.equal(r.ok, false);
    assert.equal(
      !r.ok && r.status.message,
      "a container name must be specified for pod p, choose one of: [init a b dbg]",
    );
    const init = resolveTarget(pod, "p", "default", "init");
    assert.equal(init.ok && init.target.kind, "init");
  });

  it("lets the pod spec's env override the image defaults, PATH included", () => {
    const pod = {
      metadata: { name: "p", uid: "u" },
      spec: {
        nodeName: "n",
        hostname: "custom",
        containers: [{ name: "a", env: [{ name: "PATH", value: "/opt/bin" }, { name: "EMPTY" }] }],
      },
    };
    const r = resolveTarget(pod, "p", "default", "a");
    assert.ok(r.ok);
    assert.deepEqual(containerEnv(r.target, "p", false), {
      PATH: "/opt/bin",
      HOSTNAME: "custom",
      EMPTY: "",
      HOME: "/root",
    });
  });
});

describe("confinement probe", () => {
  it("refuses when the chroot does not show the image (so nothing ever runs on the host)", async () => {
    const empty = join(dir, "empty-root");
    mkdirSync(empty, { recursive: true });
    const r = await runProbe(empty);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error : "", /probe image root .* is incomplete/);
    // A root with busybox but without the image marker: the probe runs and still refuses.
    const fake = join(dir, "fake-root");
    mkdirSync(join(fake, "bin"), { recursive: true });
    writeFileSync(join(fake, "bin", "busybox"), "");
    const f = await runProbe(fake);
    assert.equal(f.ok, false);
    assert.match(!f.ok ? f.error : "", /confinement probe failed/);
  });
});
