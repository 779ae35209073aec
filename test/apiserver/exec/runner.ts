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
//
// Why a spawner process: Node's spawn() forks the calling process and blocks its event loop until
// the child has exec'd. From the double (a large process that also serves every TLS handshake,
// REST call and exec stream) that was ~10 ms of blocked event loop per exec on this machine, all
// execs serialised on one thread, and the fork left the double's memory copy-on-write, so the
// next milliseconds of TLS/HTTP work paid page faults too. The commands are therefore spawned by
// small helper processes (spawner.mjs, plain Node, one per core, at most 2): the same unshare argv,
// the same environment, no shell; only the fork happens elsewhere. Output, stdin and the exit
// status are relayed over the IPC channel. The bench's "direct" baseline uses startConfined too,
// so both sides of its comparison pay the same mechanism.
import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { accessSync, constants as fsConstants, existsSync } from "node:fs";
import { availableParallelism, constants as osConstants } from "node:os";
import { PassThrough, Writable, type Readable } from "node:stream";
import { fileURLToPath } from "node:url";

export const UNSHARE = "/usr/bin/unshare";

/** The part of ChildProcess the double uses; relayed from a spawner process. */
export interface ConfinedProcess extends EventEmitter {
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** null unless the exec asked for stdin */
  readonly stdin: Writable | null;
  /** set when the process has exited (before "close" is emitted) */
  exitCode: number | null;
  signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals): boolean;
  on(event: "close", listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  on(event: "error", listener: (err: Error) => void): this;
  once(event: "close", listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
}

const live = new Set<ConfinedProcess>();

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
    return {
      ok: false,
      error: "exec confinement needs root (unshare --user/--root); refusing to run commands on the host",
    };
  }
  try {
    accessSync(UNSHARE, fsConstants.X_OK);
  } catch {
    return { ok: false, error: `${UNSHARE} (util-linux) is missing; refusing to run commands on the host` };
  }
  if (!existsSync(`${probeRoot}/bin/busybox`))
    return { ok: false, error: `probe image root ${probeRoot} is incomplete` };
  return new Promise<ConfinementCheck>((resolvePromise) => {
    // The probe proves the chroot took effect: /etc/os-release inside the image names the image.
    const child = spawn(UNSHARE, [...unshareArgs(probeRoot, "/"), "cat", "/etc/os-release"], {
      env: { PATH: "/bin" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", (e) => resolvePromise({ ok: false, error: `unshare failed to start: ${e.message}` }));
    child.on("close", (code) => {
      if (code === 0 && out.includes("hookguard test image")) resolvePromise({ ok: true });
      else
        resolvePromise({
          ok: false,
          error: `confinement probe failed (exit ${code}): ${err.trim() || out.trim()}`,
        });
    });
  });
}

function unshareArgs(root: string, workingDir: string): string[] {
  return [
    "--user",
    "--map-root-user",
    "--mount",
    "--pid",
    "--uts",
    "--ipc",
    "--fork",
    "--kill-child",
    "--mount-proc",
    `--root=${root}`,
    `--wd=${workingDir}`,
    "--",
  ];
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

type SpawnerMessage =
  | { op: "stdout" | "stderr"; id: number; data: Uint8Array }
  | { op: "error"; id: number; message: string }
  | { op: "close"; id: number; code: number | null; signal: NodeJS.Signals | null };

class RelayedProcess extends EventEmitter implements ConfinedProcess {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly stdin: Writable | null;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  private closed = false;

  constructor(
    private readonly spawner: Spawner,
    readonly id: number,
    withStdin: boolean,
  ) {
    super();
    this.stdin = withStdin
      ? new Writable({
          write: (chunk: Buffer, _enc, cb) => {
            this.spawner.send({ op: "stdin", id: this.id, data: chunk });
            cb();
          },
          final: (cb) => {
            this.spawner.send({ op: "stdin-end", id: this.id });
            cb();
          },
        })
      : null;
  }

  kill(signal: NodeJS.Signals = "SIGTERM"): boolean {
    if (this.closed) return false;
    this.spawner.send({ op: "kill", id: this.id, signal });
    return true;
  }

  /** Called by the spawner for every message about this process. */
  deliver(m: SpawnerMessage): void {
    if (this.closed) return;
    switch (m.op) {
      case "stdout":
      case "stderr":
        (m.op === "stdout" ? this.stdout : this.stderr).write(
          Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength),
        );
        return;
      case "error":
        // like ChildProcess: "error" (e.g. the program could not be started), then "close"
        if (this.listenerCount("error") > 0) this.emit("error", new Error(m.message));
        return;
      case "close":
        this.finish(m.code, m.signal);
    }
  }

  finish(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.closed) return;
    this.closed = true;
    this.exitCode = code;
    this.signalCode = signal;
    // "close" after both streams ended, as ChildProcess does
    let pending = 2;
    const done = (): void => {
      if (--pending === 0) this.emit("close", code, signal);
    };
    this.stdout.once("end", done);
    this.stderr.once("end", done);
    this.stdout.end();
    this.stderr.end();
    // nobody may be reading (a detached exec): let "end" fire anyway
    if (this.stdout.listenerCount("data") === 0) this.stdout.resume();
    if (this.stderr.listenerCount("data") === 0) this.stderr.resume();
  }
}

const SPAWNER_SCRIPT = fileURLToPath(new URL("./spawner.mjs", import.meta.url));

class Spawner {
  private readonly proc: ChildProcess;
  private readonly children = new Map<number, RelayedProcess>();
  private dead = false;

  constructor() {
    // a bare node: no tsx loader, no test code, a small heap to fork from; no host env needed
    this.proc = spawn(process.execPath, [SPAWNER_SCRIPT], {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
      serialization: "advanced",
      env: {},
    });
    this.proc.on("message", (m: SpawnerMessage) => this.children.get(m.id)?.deliver(m));
    this.proc.on("error", () => this.lost());
    this.proc.on("exit", () => this.lost());
    this.idle();
  }

  get alive(): boolean {
    return !this.dead;
  }

  get load(): number {
    return this.children.size;
  }

  start(
    id: number,
    file: string,
    args: string[],
    env: Record<string, string>,
    stdin: boolean,
  ): RelayedProcess {
    const child = new RelayedProcess(this, id, stdin);
    if (this.children.size === 0) this.busy();
    this.children.set(id, child);
    child.once("close", () => {
      this.children.delete(id);
      if (this.children.size === 0) this.idle();
    });
    this.send({ op: "start", id, file, args, env, stdin });
    return child;
  }

  send(message: Record<string, unknown>): void {
    if (!this.dead && this.proc.connected) this.proc.send(message);
  }

  /** While a command runs the channel keeps the double's process alive, like a child would. */
  private busy(): void {
    this.proc.ref();
    this.proc.channel?.ref();
  }

  private idle(): void {
    this.proc.unref();
    this.proc.channel?.unref();
  }

  /** The spawner died (its commands died with it: it kills them on disconnect). */
  private lost(): void {
    if (this.dead) return;
    this.dead = true;
    for (const child of [...this.children.values()]) {
      child.deliver({ op: "error", id: child.id, message: "exec spawner process exited" });
      child.finish(null, "SIGKILL");
    }
  }
}

const spawners: Spawner[] = [];
let nextId = 1;

function pickSpawner(): Spawner {
  for (let i = spawners.length - 1; i >= 0; i--) if (!spawners[i]!.alive) spawners.splice(i, 1);
  const size = Math.max(1, Math.min(2, availableParallelism()));
  if (spawners.length < size) {
    const s = new Spawner();
    spawners.push(s);
    return s;
  }
  return spawners.reduce((a, b) => (b.load < a.load ? b : a));
}

/** Starts the confined command; the caller wires stdio and listens for "close". */
export function startConfined(opts: RunOptions): ConfinedProcess {
  // Never a shell: argv reaches execvp inside the container verbatim.
  const child = pickSpawner().start(
    nextId++,
    UNSHARE,
    [...unshareArgs(opts.root, opts.workingDir), ...opts.argv],
    opts.env,
    opts.stdin,
  );
  live.add(child);
  child.on("close", () => live.delete(child));
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
