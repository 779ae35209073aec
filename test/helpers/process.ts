// Runs a command to completion as an async child process (no shell) and collects its output. Async
// on purpose: several suites run an API-server double or a webhook in the test's own event loop, and
// a synchronous child process would block their TLS handshakes.
import { spawn } from "node:child_process";

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
    const child = spawn(file, args, { cwd: o.cwd, env: o.env, stdio: [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      o.onStdout?.(stdout);
    });
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = o.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), o.timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (o.input !== undefined) child.stdin!.end(o.input);
  });
}
