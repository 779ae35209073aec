// Renders charts/hookguard with the real helm binary and returns the parsed manifests. Used by the chart
// tests and by the e2e tests, which load the chart's webhook configurations into the API-server double so
// that the rules and matchConditions under test are the ones users install.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const chartDir = join(repoRoot, "charts/hookguard");
const helmBin = join(repoRoot, "node_modules/.bin/helm");

export interface RenderOptions {
  /** Release namespace (default "hookguard"; it is excluded from the webhooks' namespaceSelector). */
  namespace?: string;
  /** Release name (default "hookguard"). */
  releaseName?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell and never rejects: the exit code is part of the result. */
export function run(
  file: string,
  args: string[],
  opts: { cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { cwd: opts.cwd ?? repoRoot, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({
          code,
          stdout: String(stdout),
          stderr: String(stderr) + (err && typeof err.code !== "number" ? `\n${err.message}` : ""),
        });
      },
    );
    // stdin is a pipe either way; close it so a reader never waits for more
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(opts.input ?? "");
  });
}

let helmReady: Promise<string> | undefined;

/**
 * Makes sure node_modules/.bin/helm is unpacked (someone may have installed with --ignore-scripts) and
 * returns its path. The unpacker is idempotent and atomic, so concurrent test files may call it.
 */
export function ensureHelm(): Promise<string> {
  helmReady ??= run(process.execPath, [join(repoRoot, "scripts/install-helm.mjs")]).then((r) => {
    if (r.code !== 0) throw new Error(`could not unpack helm: ${r.stderr || r.stdout}`);
    return helmBin;
  });
  return helmReady;
}

/** Runs helm with the given arguments (cwd = repository root). */
export async function helm(args: string[]): Promise<RunResult> {
  return run(await ensureHelm(), args);
}

/** `helm template` with values written to a temporary file; the raw result, for tests of failures. */
export async function helmTemplate(
  values: object = {},
  opts: RenderOptions = {},
  extraArgs: string[] = [],
): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), "hookguard-chart-"));
  try {
    const valuesFile = join(dir, "values.json");
    // JSON is YAML: no escaping questions for the values under test
    await writeFile(valuesFile, JSON.stringify(values));
    return await helm([
      "template",
      opts.releaseName ?? "hookguard",
      chartDir,
      "--namespace",
      opts.namespace ?? "hookguard",
      "--values",
      valuesFile,
      ...extraArgs,
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Parses a multi-document YAML stream into plain objects, dropping empty documents. */
export function parseManifests(text: string): any[] {
  const docs = parseAllDocuments(text);
  const out: any[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

/** Renders the chart with `values` (merged over values.yaml by helm) and returns the parsed manifests. */
export async function renderChart(values: object = {}, opts: RenderOptions = {}): Promise<any[]> {
  const r = await helmTemplate(values, opts);
  if (r.code !== 0) throw new Error(`helm template failed (exit ${r.code}): ${r.stderr.trim()}`);
  return parseManifests(r.stdout);
}

/** The manifest of `kind` (and `name`, when given); throws when there is not exactly one. */
export function findOne(docs: any[], kind: string, name?: string): any {
  const found = docs.filter((d) => d.kind === kind && (name === undefined || d.metadata?.name === name));
  if (found.length !== 1)
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`);
  return found[0];
}

export interface LocalWebhookTarget {
  /** Base URL of a running webhook, e.g. https://127.0.0.1:40123 (the path of each entry is appended). */
  url: string;
  /** PEM of the CA that signed the webhook's serving certificate. */
  caPem: string;
}

/**
 * The chart's Validating/MutatingWebhookConfigurations, re-pointed at a webhook running outside a
 * cluster: each entry's clientConfig.service becomes clientConfig.url (same path) with the given CA.
 * Everything else (rules, matchConditions, failurePolicy, namespaceSelector) is left as rendered.
 */
export async function renderWebhookConfigurations(
  target: LocalWebhookTarget,
  values: object = {},
  opts: RenderOptions = {},
): Promise<any[]> {
  const docs = await renderChart(values, opts);
  const caBundle = Buffer.from(target.caPem).toString("base64");
  const base = target.url.replace(/\/+$/, "");
  return docs
    .filter((d) => d.kind === "ValidatingWebhookConfiguration" || d.kind === "MutatingWebhookConfiguration")
    .map((cfg) => ({
      ...cfg,
      webhooks: cfg.webhooks.map((w: any) => ({
        ...w,
        clientConfig: { url: `${base}${w.clientConfig.service?.path ?? "/"}`, caBundle },
      })),
    }));
}
