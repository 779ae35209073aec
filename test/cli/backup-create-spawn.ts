// Spawns `hookguard` (bin/hookguard.js) as a real child process, asynchronously (a synchronous
// spawn would block the in-process API-server double's TLS handshakes).
import { fileURLToPath } from "node:url";
import { runProcess, type ProcessResult } from "../helpers/process.js";

const BIN = fileURLToPath(new URL("../../bin/hookguard.js", import.meta.url));

/** `onStdout` sees the whole stdout so far after each chunk (to react to progress lines). */
export function hookguard(args: string[], onStdout?: (text: string) => void): Promise<ProcessResult> {
  return runProcess(process.execPath, [BIN, ...args], { env: { ...process.env, KUBECONFIG: "" }, timeoutMs: 120_000, ...(onStdout ? { onStdout } : {}) });
}
