// `hookguard lint [PATH ...]`: offline checks of hook annotations and Backup/Schedule hook specs.
import { Command, Option } from "commander";
import { readInputs } from "../lint/inputs.js";
import { exitCodeOf, formatJson, formatText, lintSources } from "../lint/lint.js";

interface LintOptions {
  output: "text" | "json";
  strict?: boolean;
  recursive?: boolean;
}

export function registerLintCommand(program: Command): void {
  program
    .command("lint")
    .description("Check hook annotations (Pods and pod-template workloads) and velero.io/v1 Backup/Schedule hook specs")
    .argument("<paths...>", "files, directories (their *.yaml, *.yml, *.json) or - for stdin")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .option("--strict", "exit 1 on warnings too")
    .option("-R, --recursive", "also read the subdirectories of directory arguments (as kubectl -f DIR -R)")
    .addHelpText(
      "after",
      `
Output (text): FILE:LINE: error|warning: KIND NAMESPACE/NAME: PATH: MESSAGE
At least one PATH is required; use "-" to read manifests from stdin.
Multi-document YAML and List kinds are read; objects of other kinds are skipped.
Exit status: 0 no errors, 1 errors (or warnings with --strict), 2 usage error or unreadable/invalid input.`,
    )
    .action(async (paths: string[], opts: LintOptions) => {
      const { sources, problems } = await readInputs(paths, process.stdin, { recursive: opts.recursive === true });
      const report = lintSources(sources);
      report.problems.unshift(...problems);
      if (opts.output === "json") process.stdout.write(`${formatJson(report)}\n`);
      else for (const f of report.findings) process.stdout.write(`${formatText(f)}\n`);
      for (const p of report.problems) process.stderr.write(`hookguard lint: ${p.file}: ${p.message}\n`);
      if (opts.output === "text") {
        const errors = report.findings.filter((f) => f.severity === "error").length;
        const warnings = report.findings.length - errors;
        process.stderr.write(`${errors} error(s), ${warnings} warning(s) in ${report.objectsChecked} object(s) from ${sources.length} file(s)\n`);
      }
      process.exitCode = exitCodeOf(report, opts.strict === true);
    });
}
