// `hookguard lint [PATH ...]`: offline checks of hook annotations and Backup/Schedule hook specs;
// `hookguard lint --cluster`: the same checks on a live cluster's objects (loaded only then: the
// Kubernetes client costs seconds of start-up that file linting should not pay).
import { Command, Option } from "commander";
import { readInputs } from "../lint/inputs.js";
import { printError } from "./exit.js";
import { exitCodeOf, formatJson, formatText, lintSources } from "../lint/lint.js";

interface LintOptions {
  output: "text" | "json";
  strict?: boolean;
  cluster?: boolean;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces?: boolean;
  recursive?: boolean;
}

export function registerLintCommand(program: Command): void {
  program
    .command("lint")
    .description(
      "Check hook annotations (Pods and pod-template workloads) and velero.io/v1 Backup/Schedule hook specs",
    )
    .argument("[paths...]", "files, directories (their *.yaml, *.yml, *.json) or - for stdin")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .option("--strict", "exit 1 on warnings too")
    .option("-R, --recursive", "also read the subdirectories of directory arguments (as kubectl -f DIR -R)")
    .option(
      "--cluster",
      "check the live Pods, workloads, Backups and Schedules of a cluster instead of files",
    )
    .option("--kubeconfig <path>", "with --cluster: kubeconfig file (default: $KUBECONFIG, then in-cluster)")
    .option("--context <name>", "with --cluster: kubeconfig context (default: its current context)")
    .option(
      "-n, --namespace <ns>",
      "with --cluster: namespace (default: the context's namespace, or default)",
    )
    .option("-A, --all-namespaces", "with --cluster: every namespace")
    .addHelpText(
      "after",
      `
Output (text): FILE:LINE: error|warning: KIND NAMESPACE/NAME: PATH: MESSAGE
       (--cluster): error|warning: KIND NAMESPACE/NAME: PATH: MESSAGE
At least one PATH is required without --cluster; use "-" to read manifests from
stdin. Multi-document YAML and List kinds are read; objects of other kinds are
skipped.
Exit status: 0 no errors, 1 errors (or warnings with --strict), 2 usage error,
unreadable/invalid input, or (--cluster) an unreachable cluster or a kind that
could not be listed.

Examples:
  hookguard lint examples/
  hookguard lint -R -o json --strict deploy/
  kubectl get pods -o yaml | hookguard lint -
  hookguard lint --cluster -A --context prod`,
    )
    .action(async (paths: string[], opts: LintOptions, cmd: Command) => {
      const clusterOnly = (["kubeconfig", "context", "namespace", "allNamespaces"] as const).filter(
        (k) => opts[k] !== undefined,
      );
      if (opts.cluster) {
        if (paths.length > 0) cmd.error("error: give either PATHs or --cluster, not both", { exitCode: 2 });
        if (opts.namespace !== undefined && opts.allNamespaces)
          cmd.error("error: --namespace and --all-namespaces cannot be combined", { exitCode: 2 });
        return lintClusterAction(opts);
      }
      if (clusterOnly.length > 0)
        cmd.error(
          `error: --${clusterOnly[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --cluster`,
          { exitCode: 2 },
        );
      if (paths.length === 0)
        cmd.error("error: missing PATH (files, directories or - for stdin), or --cluster", { exitCode: 2 });
      const { sources, problems } = await readInputs(paths, process.stdin, {
        recursive: opts.recursive === true,
      });
      const report = lintSources(sources);
      report.problems.unshift(...problems);
      if (opts.output === "json") process.stdout.write(`${formatJson(report)}\n`);
      else for (const f of report.findings) process.stdout.write(`${formatText(f)}\n`);
      for (const p of report.problems) printError(`${p.file}: ${p.message}`);
      if (opts.output === "text") {
        const errors = report.findings.filter((f) => f.severity === "error").length;
        const warnings = report.findings.length - errors;
        process.stderr.write(
          `${errors} error(s), ${warnings} warning(s) in ${report.objectsChecked} object(s) from ${sources.length} file(s)\n`,
        );
      }
      process.exitCode = exitCodeOf(report, opts.strict === true);
    });
}

async function lintClusterAction(opts: LintOptions): Promise<void> {
  const { lintCluster, formatClusterJson, formatClusterText } = await import("../lint/cluster.js");
  const result = await lintCluster({
    ...(opts.kubeconfig !== undefined ? { kubeconfig: opts.kubeconfig } : {}),
    ...(opts.context !== undefined ? { context: opts.context } : {}),
    ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
    allNamespaces: opts.allNamespaces === true,
  });
  if (!result.ok) {
    printError(result.error);
    process.exitCode = 2;
    return;
  }
  const report = result.value;
  if (opts.output === "json") process.stdout.write(`${formatClusterJson(report)}\n`);
  else for (const f of report.findings) process.stdout.write(`${formatClusterText(f)}\n`);
  for (const note of report.notes) process.stderr.write(`note: ${note}\n`);
  for (const p of report.problems) printError(p.message);
  if (opts.output === "text") {
    const errors = report.findings.filter((f) => f.severity === "error").length;
    const where = report.namespace === undefined ? "all namespaces" : `namespace ${report.namespace}`;
    process.stderr.write(
      `${errors} error(s), ${report.findings.length - errors} warning(s) in ${report.objectsChecked} object(s) from context ${report.context} (${where})\n`,
    );
  }
  process.exitCode = exitCodeOf(report, opts.strict === true);
}
