// Spawns `hookguard` (bin/hookguard.js) as a real child process, asynchronously (a synchronous
// spawn would block the in-process API-server double's TLS handshakes).
import { fileURLToPath } from "node:url";
import { runProcess, type ProcessResult } from "../helpers/process.js";

const BIN = fileURLToPath(new URL("../../bin/hookguard.js", import.meta.url));

/**
 * `onStdout` sees the whole stdout so far after each chunk (to react to progress lines). KUBECONFIG
 * is cleared unless `env` sets it; `env` values of undefined remove a variable. `cwd` defaults to the test's.
 */
export function hookguard(
  args: string[],
  onStdout?: (text: string) => void,
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
): Promise<ProcessResult> {
  const merged: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: "", ...env };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  return runProcess(process.execPath, [BIN, ...args], {
    env: merged,
    timeoutMs: 120_000,
    ...(cwd ? { cwd } : {}),
    ...(onStdout ? { onStdout } : {}),
  });
}
