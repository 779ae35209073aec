// `hookguard` command line: one file per command group, each exporting a register function.
// Commands exit through process.exitCode (never process.exit mid-flight) so output is flushed.
import { Command, CommanderError } from "commander";
import { VERSION } from "../version.js";

const program = new Command();
program
  .name("hookguard")
  .description("Safe, observable Velero-style backup hooks: lint, admission webhook, hook agent")
  .version(VERSION)
  .showHelpAfterError()
  .exitOverride();

// Command registrations (one line each; keep alphabetical).

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // commander already printed the message; usage errors exit 2 like other Kubernetes CLIs' lint modes
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    console.error(`hookguard: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
