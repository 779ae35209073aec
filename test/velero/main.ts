// `npm run dev:velero -- --kubeconfig PATH [flags]`: the Velero-server double as a process of its
// own, so a test can SIGKILL it like a dying Velero pod. A stand-in that moves no real data.
import { Kube } from "./kube.js";
import { parseFlags, USAGE, type ParsedFlags } from "./flags.js";
import { startVelero } from "./server.js";
import { versionByName } from "./versions.js";

async function main(): Promise<void> {
  let flags: ParsedFlags;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`dev:velero: ${(e as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const kube = await Kube.fromFile(flags.kubeconfig);
  const velero = await startVelero({
    kube,
    namespace: flags.namespace,
    version: versionByName(flags.version)!,
    logFormat: flags.logFormat,
    holdItemsMs: flags.holdItemsMs,
    storeDir: flags.storeDir,
    storeValidationMs: flags.storeValidationMs,
    downloadUrlTtlMs: flags.downloadUrlTtlMs,
    reschedule: flags.reschedule,
    out: (line) => process.stdout.write(`${line}\n`),
  });
  const stop = (): void => {
    velero.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e) => {
  process.stderr.write(`dev:velero: ${(e as Error).message}\n`);
  process.exit(1);
});
