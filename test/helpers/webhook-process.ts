// `hookguard webhook` as a child process, resolved once it has printed its startup text (which ends
// with the example curl's EOF line), for CLI tests that talk to it.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const HOOKGUARD_BIN = fileURLToPath(new URL("../../bin/hookguard.js", import.meta.url));

export interface WebhookProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
}

/** Starts `hookguard webhook ARGS`; rejects with its output when it exits or takes over a minute. */
export async function startWebhookProcess(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<WebhookProcess> {
  const child = spawn(process.execPath, [HOOKGUARD_BIN, "webhook", ...args], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const deadline = Date.now() + 60_000;
  while (!/\nEOF\n/.test(stdout)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error(`webhook did not start:\n${stdout}\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, stdout: () => stdout, stderr: () => stderr };
}
