// Runs `hookguard agent` as a real child process (async spawn: the double lives in this process's
// event loop, so a synchronous call would stall its TLS handshakes).
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { runProcess, type ProcessResult } from "../helpers/process.js";
import { ROOT } from "./double.js";

export interface AgentProcess {
  child: ChildProcess;
  stderr(): string;
  /** resolves once the agent logged that it started */
  ready: Promise<void>;
  exited: Promise<number | null>;
}

/** `entry`: the CLI script to run (default bin/hookguard.js, i.e. the sources through tsx). */
export function spawnAgent(args: string[], entry = join(ROOT, "bin/hookguard.js")): AgentProcess {
  const child = spawn(process.execPath, [entry, "agent", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, KUBECONFIG: "" } });
  let err = "";
  let markReady!: () => void;
  let failReady!: (e: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
    if (err.includes("hookguard agent started")) markReady();
  });
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      failReady(new Error(`agent exited (${code}) before it was ready:\n${err}`));
      resolve(code);
    }),
  );
  return { child, stderr: () => err, ready, exited };
}

export async function kill(p: AgentProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill(signal);
  await p.exited;
}

/** Runs `hookguard ...` to completion (async). */
export function runCli(args: string[], opts: { stdin?: string } = {}): Promise<ProcessResult> {
  return runProcess(process.execPath, [join(ROOT, "bin/hookguard.js"), ...args], { cwd: ROOT, env: { ...process.env, KUBECONFIG: "" }, input: opts.stdin ?? "" });
}
