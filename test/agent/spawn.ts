// Runs `hookguard agent` as a real child process (async spawn: the double lives in this process's
// event loop, so a synchronous call would stall its TLS handshakes).
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { runProcess, spawnReady, type ProcessResult } from "../helpers/process.js";
import { ROOT } from "./double.js";

export interface AgentProcess {
  child: ChildProcess;
  stderr(): string;
  /** resolves once the agent logged that it started */
  ready: Promise<void>;
  exited: Promise<number | null>;
}

/**
 * `entry`: the CLI script to run (default bin/hookguard.js, i.e. the sources through tsx). Without
 * `--mode` in `args` the agent runs standalone (these tests drive hookguard's own Backups).
 */
export function spawnAgent(args: string[], entry = join(ROOT, "bin/hookguard.js")): AgentProcess {
  const mode = args.includes("--mode") ? [] : ["--mode", "standalone"];
  return spawnReady(process.execPath, [entry, "agent", ...mode, ...args], {
    cwd: ROOT,
    env: { ...process.env, KUBECONFIG: "" },
    marker: "hookguard agent started",
    stream: "stderr",
    name: "agent",
  });
}

export async function kill(p: AgentProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill(signal);
  await p.exited;
}

/** Runs `hookguard ...` to completion (async). */
export function runCli(args: string[], opts: { stdin?: string } = {}): Promise<ProcessResult> {
  return runProcess(process.execPath, [join(ROOT, "bin/hookguard.js"), ...args], {
    cwd: ROOT,
    env: { ...process.env, KUBECONFIG: "" },
    input: opts.stdin ?? "",
  });
}
