// `hookguard` command line: one file per command group, each exporting a register function.
// Commands exit through process.exitCode (never process.exit mid-flight) so output is flushed.
import { Command, CommanderError } from "commander";
import { VERSION } from "../version.js";
import { printError } from "./exit.js";
import { HELP_WIDTH, withExamples } from "./help.js";

const program = new Command();
program
  .name("hookguard")
  .description("Safe, observable Velero-style backup hooks: lint, admission webhook, hook agent")
  .version(VERSION)
  .showHelpAfterError()
  .configureHelp({ helpWidth: HELP_WIDTH, minWidthToWrap: 20 })
  .exitOverride();

// Command registrations (one line each; keep alphabetical). Each command's module is imported only
// when that command runs (or for help): loading client-node, express and prom-client costs seconds
// of CPU that `hookguard lint` should not pay.
const commands: Record<string, () => Promise<(p: Command) => void>> = {
  agent: async () => (await import("./agent.js")).registerAgentCommand,
  backup: async () => (await import("./backup.js")).registerBackupCommand,
  lint: async () => (await import("./lint.js")).registerLintCommand,
  probe: async () => (await import("./probe.js")).registerProbeCommand,
  webhook: async () => (await import("./webhook.js")).registerWebhookCommand,
};
withExamples(program.command("version").description("Print hookguard's version"), [
  "hookguard version",
  "hookguard --version",
]).action(() => console.log(VERSION));
withExamples(program, ["hookguard lint examples/", "hookguard backup get", "hookguard COMMAND --help"]);

const requested = process.argv[2];
// `--version`/`version` need no command module: loading them all would cost ~1 s of a 0.1 s answer
const versionOnly = requested === "--version" || requested === "-V" || requested === "version";
const toLoad = versionOnly
  ? []
  : requested !== undefined && requested in commands
    ? [requested]
    : Object.keys(commands);
for (const name of toLoad) (await commands[name]!())(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // commander already printed the message; usage errors exit 2 like other Kubernetes CLIs' lint modes
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    printError(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
