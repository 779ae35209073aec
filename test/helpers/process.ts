// Runs a command to completion as an async child process (no shell) and collects its output. Async
// on purpose: several suites run an API-server double or a webhook in the test's own event loop, and
// a synchronous child process would block their TLS handshakes.
import { spawn, type ChildProcess } from "node:child_process";

export interface ProcessResult {
  /** null when the process was ended by a signal (e.g. the timeout) */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  input?: string;
  /** SIGKILL after this long; without it the command may run as long as the test allows. */
  timeoutMs?: number;
  /** Sees the whole stdout so far after each chunk (to react to progress lines). */
  onStdout?: (text: string) => void;
}

/** Resolves once the process has exited and its output is read; rejects only if it cannot start. */
export function runProcess(file: string, args: string[], o: ProcessOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: o.cwd,
      env: o.env,
      stdio: [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      o.onStdout?.(stdout);
    });
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer =
      o.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), o.timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (o.input !== undefined) child.stdin!.end(o.input);
  });
}

export interface ReadyProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once `marker` appeared on the chosen stream; rejects if the process exits first. */
  ready: Promise<void>;
  exited: Promise<number | null>;
}

/** Starts a long-running process (async, no shell) that announces readiness with a marker line. */
export function spawnReady(
  file: string,
  args: string[],
  o: { cwd?: string; env?: NodeJS.ProcessEnv; marker: string; stream: "stdout" | "stderr"; name: string },
): ReadyProcess {
  const child = spawn(file, args, { cwd: o.cwd, env: o.env, stdio: ["ignore", "pipe", "pipe"] });
  const text = { stdout: "", stderr: "" };
  let markReady!: () => void;
  let failReady!: (e: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  for (const s of ["stdout", "stderr"] as const) {
    child[s]!.on("data", (d: Buffer) => {
      text[s] += d.toString();
      if (s === o.stream && text[s].includes(o.marker)) markReady();
    });
  }
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      failReady(new Error(`${o.name} exited (${code}) before it was ready:\n${text.stderr}`));
      resolve(code);
    }),
  );
  return { child, stdout: () => text.stdout, stderr: () => text.stderr, ready, exited };
}
