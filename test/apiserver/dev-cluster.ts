// `npm run dev:cluster`: the API-server double as a standalone process. Prints KUBECONFIG=<path>
// once it serves, and stops cleanly on SIGINT/SIGTERM. `--with-velero [FLAGS]` also starts the
// Velero-server double (test/velero/) as a child process against it; FLAGS after --with-velero go
// to it (e.g. `--with-velero --version 1.14 --log-format json`).
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startApiServer } from "./server.js";

const args = process.argv.slice(2);
const withVelero = args.indexOf("--with-velero");
if (args.length > 0 && withVelero !== 0) {
  process.stderr.write("usage: npm run dev:cluster [-- --with-velero [velero double flags]]\n");
  process.exit(2);
}
const api = await startApiServer();
let velero: ChildProcess | undefined;
if (withVelero === 0) {
  const main = fileURLToPath(new URL("../velero/main.ts", import.meta.url));
  const logPath = join(api.dir, "velero.log");
  // Its bucket lives in the sandbox directory, removed with it.
  velero = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      main,
      "--kubeconfig",
      api.kubeconfigPath,
      "--store-dir",
      join(api.dir, "velero-bucket"),
      ...args.slice(1),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  velero.stdout!.pipe(createWriteStream(logPath));
  const started = await new Promise<boolean>((resolve) => {
    let out = "";
    velero!.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("Server started successfully")) resolve(true);
    });
    velero!.on("exit", () => resolve(false));
  });
  if (!started) {
    process.stderr.write("dev:cluster: the Velero double did not start (see above)\n");
    await api.stop();
    process.exit(1);
  }
  process.stdout.write(
    `# Velero-server double (a stand-in that moves no real data) running; its log: ${logPath}\n`,
  );
}
process.stdout.write(`KUBECONFIG=${api.kubeconfigPath}\n`);
process.stdout.write(`# API server double at ${api.url} (admin token in the kubeconfig). Ctrl-C to stop.\n`);
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  const veleroGone = new Promise<void>((resolve) => {
    if (!velero || velero.exitCode !== null || velero.signalCode !== null) return resolve();
    velero.once("exit", () => resolve());
    velero.kill("SIGTERM");
  });
  veleroGone
    .then(() => api.stop())
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
