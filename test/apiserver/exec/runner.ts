// Runs one exec'd command confined to a container root, without any shell:
//   unshare --user --map-root-user --mount --pid --uts --ipc --fork --kill-child --mount-proc
//           --root=<root> --wd=<dir> -- argv...
// - chroot (--root) makes every absolute path, including one inside `sh -c '...'`, resolve inside
//   the container's own copy of its image.
// - A user namespace (--map-root-user) keeps uid 0 but drops every capability over host
//   resources: busybox's sh runs its own applets before PATH (FEATURE_SH_STANDALONE), so
//   `sh -c "fsfreeze --freeze /x"` in the busybox image reaches the real FIFREEZE ioctl; without
//   CAP_SYS_ADMIN in the filesystem's user namespace the kernel answers EPERM instead of
//   freezing this machine's disk. The same holds for mount, reboot, hwclock, ip, ...
// - A PID namespace with --kill-child: killing unshare kills the namespace's init, and with it
//   every process the command started, so nothing leaks past shutdownExecs().
// - The environment is the container's own; the host's is never passed through.
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants as fsConstants, existsSync } from "node:fs";
import { constants as osConstants } from "node:os";

export const UNSHARE = "/usr/bin/unshare";

const live = new Set<ChildProcess>();

export type ConfinementCheck = { ok: true } | { ok: false; error: string };

let probe: Promise<ConfinementCheck> | undefined;

/**
 * Whether confinement works on this machine: root, util-linux unshare, and a namespace/chroot
 * probe against a real image root. Memoised; callers refuse to exec when it fails.
 */
export function checkConfinement(probeRoot: string): Promise<ConfinementCheck> {
  probe ??= runProbe(probeRoot);
  return probe;
}

/** The probe itself, unmemoised (tests use it to see a refusal). */
export async function runProbe(probeRoot: string): Promise<ConfinementCheck> {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) {
    return { ok: false, error: "exec confinement needs root (unshare --user/--root); refusing to run commands on the host" };
  }
  try {
    accessSync(UNSHARE, fsConstants.X_OK);
  } catch {
    return { ok: false, error: `${UNSHARE} (util-linux) is missing; refusing to run commands on the host` };
  }
  if (!existsSync(`${probeRoot}/bin/busybox`)) return { ok: false, error: `probe image root ${probeRoot} is incomplete` };
  return new Promise<ConfinementCheck>((resolvePromise) => {
    // The probe proves the chroot took effect: /etc/os-release inside the image names the image.
    const child = spawn(UNSHARE, [...unshareArgs(probeRoot, "/"), "cat", "/etc/os-release"], { env: { PATH: "/bin" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", (e) => resolvePromise({ ok: false, error: `unshare failed to start: ${e.message}` }));
    child.on("close", (code) => {
      if (code === 0 && out.includes("hookguard test image")) resolvePromise({ ok: true });
      else resolvePromise({ ok: false, error: `confinement probe failed (exit ${code}): ${err.trim() || out.trim()}` });
    });
  });
}

function unshareArgs(root: string, workingDir: string): string[] {
  return ["--user", "--map-root-user", "--mount", "--pid", "--uts", "--ipc", "--fork", "--kill-child", "--mount-proc", `--root=${root}`, `--wd=${workingDir}`, "--"];
}

export interface RunOptions {
  root: string;
  workingDir: string;
  argv: string[];
  env: Record<string, string>;
  stdin: boolean;
}

/** Exit code as a container runtime reports it: the code, or 128+signal for a killed process. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? osConstants.signals[signal] : undefined;
  return typeof n === "number" ? 128 + n : 255;
}

/** Starts the confined command; the caller wires stdio and listens for "close". */
export function startConfined(opts: RunOptions): ChildProcess {
  const child = spawn(UNSHARE, [...unshareArgs(opts.root, opts.workingDir), ...opts.argv], {
    env: opts.env,
    stdio: [opts.stdin ? "pipe" : "ignore", "pipe", "pipe"],
    // Never a shell: argv reaches execvp inside the container verbatim.
    shell: false,
  });
  live.add(child);
  child.on("close", () => live.delete(child));
  child.on("error", () => live.delete(child));
  return child;
}

/** Number of confined commands still running (detached ones included). */
export function runningExecCount(): number {
  return live.size;
}

/**
 * Kills every confined command still running (e.g. ones whose client went away, which a real
 * kubelet leaves running) and waits for them to exit. Call from the API-server double's stop().
 */
export async function shutdownExecs(): Promise<void> {
  const waits = [...live].map(
    (child) =>
      new Promise<void>((resolvePromise) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolvePromise();
        child.once("close", () => resolvePromise());
        child.kill("SIGKILL");
      }),
  );
  await Promise.all(waits);
  live.clear();
}
