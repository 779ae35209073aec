// Per-container root filesystems: each (pod uid, container name) gets its own copy of its image's
// root directory under <stateDir>/containers/, made on first exec, so containers never share state
// and nothing a command does can reach the host's own paths. Also path resolution *inside* a root
// (symlinks are followed relative to the root, never the host) for the "executable not found"
// check and for tests that read files out of a container.
import { execFile } from "node:child_process";
import {
  accessSync,
  lstatSync,
  promises as fsp,
  readlinkSync,
  statSync,
  constants as fsConstants,
} from "node:fs";
import { promisify } from "node:util";
import { isAbsolute, join, resolve, sep } from "node:path";
import { imageRootFor } from "../images/build.js";

const execFileAsync = promisify(execFile);

export type RootfsResult = { ok: true; root: string } | { ok: false; error: string };

/** A path segment safe to use as one directory name (uids and DNS-1123 names pass unchanged). */
function segment(s: string): string {
  const safe = s.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return safe === "." || safe === ".." || safe === "" ? `%${safe.length}${safe.replace(/\./g, "%2e")}` : safe;
}

/** Where the container's root lives; pure, no I/O. */
export function containerRootPath(stateDir: string, podUid: string, container: string): string {
  return join(resolve(stateDir), "containers", segment(podUid), segment(container), "rootfs");
}

/**
 * Refuses any root that is not strictly inside stateDir, or is "/": the last line of defence
 * against running a command against the host's own filesystem.
 */
export function checkRootInside(stateDir: string, root: string): string | undefined {
  if (!isAbsolute(stateDir)) return `stateDir must be absolute, got "${stateDir}"`;
  const base = resolve(stateDir);
  const r = resolve(root);
  if (base === "/") return "stateDir must not be /";
  if (r === "/") return "refusing to use / as a container root";
  if (!r.startsWith(base + sep)) return `container root ${r} is not inside stateDir ${base}`;
  return undefined;
}

const creating = new Map<string, Promise<RootfsResult>>();

/** Returns the container's root, creating it from its image on first use. */
export function ensureContainerRoot(
  stateDir: string,
  podUid: string,
  container: string,
  image: string,
  workingDir: string,
): Promise<RootfsResult> {
  const root = containerRootPath(stateDir, podUid, container);
  const bad = checkRootInside(stateDir, root);
  if (bad) return Promise.resolve({ ok: false, error: bad });
  let p = creating.get(root);
  if (!p) {
    // Only in-flight creations are shared (two first execs at once); afterwards the directory
    // itself is the record, so a stateDir removed and reused starts from a fresh copy.
    p = createRoot(root, image, workingDir).finally(() => creating.delete(root));
    creating.set(root, p);
  }
  return p;
}

/** Synchronous inside (see resolveInRoot): runs on every exec. */
async function exists(p: string): Promise<boolean> {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

async function createRoot(root: string, image: string, workingDir: string): Promise<RootfsResult> {
  try {
    if (!(await exists(join(root, "bin")))) {
      const img = await imageRootFor(image);
      if (!img.ok) return { ok: false, error: img.error };
      const tmp = `${root}.creating-${process.pid}-${Math.random().toString(36).slice(2)}`;
      await fsp.mkdir(resolve(root, ".."), { recursive: true });
      // GNU cp -a keeps the relative applet links and modes exactly as built, and is an order of
      // magnitude faster than fs.cp for a few hundred symlinks.
      await execFileAsync("/bin/cp", ["-a", "--", img.root, tmp], { env: { PATH: "/usr/bin:/bin" } });
      await fsp.rename(tmp, root).catch(async (e: unknown) => {
        await fsp.rm(tmp, { recursive: true, force: true });
        if (!(await exists(join(root, "bin")))) throw e;
      });
    }
    // Like runc, create the container's working directory when the image lacks it.
    if (workingDir !== "/") {
      const wd = await resolveInRoot(root, workingDir, "/");
      if (!wd.ok && wd.code === "ENOENT")
        await fsp.mkdir(join(root, "." + resolve("/", workingDir)), { recursive: true });
    }
    return { ok: true, root };
  } catch (e) {
    return { ok: false, error: `creating the container root failed: ${(e as Error).message}` };
  }
}

export type ResolveResult =
  { ok: true; hostPath: string } | { ok: false; code: "ENOENT" | "ENOTDIR" | "ELOOP" };

/**
 * Resolves `p` (absolute, or relative to `cwd`) inside `root` the way the kernel would after a
 * chroot: absolute symlink targets and ".." are taken relative to the root and can never leave it.
 * The lstat/readlink calls are synchronous on purpose: a few microseconds each on a local
 * directory, where each async call was a thread-pool round trip (~0.1-0.5 ms here) on every exec.
 */
export async function resolveInRoot(root: string, p: string, cwd: string): Promise<ResolveResult> {
  const start = p.startsWith("/") ? p : `${cwd.replace(/\/+$/, "")}/${p}`;
  let pending = start.split("/").filter((s) => s.length > 0);
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === ".") continue;
    if (part === "..") {
      done.pop();
      continue;
    }
    const host = join(root, ...done, part);
    let st;
    try {
      st = lstatSync(host);
    } catch (e) {
      return { ok: false, code: (e as NodeJS.ErrnoException).code === "ENOTDIR" ? "ENOTDIR" : "ENOENT" };
    }
    if (st.isSymbolicLink()) {
      if (++hops > 40) return { ok: false, code: "ELOOP" };
      const target = readlinkSync(host);
      const targetParts = target.split("/").filter((s) => s.length > 0);
      if (target.startsWith("/")) done.length = 0;
      pending = [...targetParts, ...pending];
      continue;
    }
    if (pending.length > 0 && !st.isDirectory()) return { ok: false, code: "ENOTDIR" };
    done.push(part);
  }
  return { ok: true, hostPath: join(root, ...done) };
}

export type LookPathResult = { ok: true } | { ok: false; runcError: string };

async function executableAt(hostPath: string): Promise<boolean> {
  try {
    const st = statSync(hostPath);
    if (st.isDirectory()) return false;
    accessSync(hostPath, fsConstants.X_OK);
    return (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * Mirrors runc's exec.LookPath (Go os/exec) inside the container, and yields the error text runc
 * prints when it fails (after "exec: "), e.g. `"nosuch": executable file not found in $PATH`.
 */
export async function lookPathInRoot(
  root: string,
  file: string,
  pathEnv: string,
  cwd: string,
): Promise<LookPathResult> {
  const q = JSON.stringify(file);
  if (file.includes("/")) {
    const r = await resolveInRoot(root, file, cwd);
    if (!r.ok) {
      const why =
        r.code === "ENOENT"
          ? "no such file or directory"
          : r.code === "ENOTDIR"
            ? "not a directory"
            : "too many levels of symbolic links";
      return { ok: false, runcError: `${q}: stat ${file}: ${why}` };
    }
    return (await executableAt(r.hostPath))
      ? { ok: true }
      : { ok: false, runcError: `${q}: permission denied` };
  }
  for (const dir of pathEnv.split(":")) {
    const candidate = `${dir === "" ? "." : dir}/${file}`;
    const r = await resolveInRoot(root, candidate, cwd);
    if (r.ok && (await executableAt(r.hostPath))) return { ok: true };
  }
  return { ok: false, runcError: `${q}: executable file not found in $PATH` };
}

/**
 * Reads a file inside a container's root, for tests asserting what a command did ("inside the
 * container, not on the host"). Returns undefined when the file does not exist.
 */
export async function readContainerFile(
  stateDir: string,
  podUid: string,
  container: string,
  path: string,
): Promise<string | undefined> {
  const root = containerRootPath(stateDir, podUid, container);
  if (checkRootInside(stateDir, root)) return undefined;
  const r = await resolveInRoot(root, path, "/");
  if (!r.ok) return undefined;
  return fsp.readFile(r.hostPath, "utf8").catch(() => undefined);
}
