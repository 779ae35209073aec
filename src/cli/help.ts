// Help shared by every command: an `Examples:` section (as kubectl and velero print), and a fixed
// width so help reads the same in a wide terminal, a pipe and the README.
import type { Command } from "commander";

export const HELP_WIDTH = 80;

/** Appends `Examples:` with one command line per entry (keep each under HELP_WIDTH - 2). */
export function withExamples(cmd: Command, examples: string[]): Command {
  return cmd.addHelpText("after", `\nExamples:\n${examples.map((e) => `  ${e}`).join("\n")}`);
}
