// Reading lint inputs: files, directories (recursively *.yaml, *.yml, *.json; dot-directories and
// node_modules skipped) and "-" for stdin. Failures are data, so one bad path does not hide others.
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";

export interface LintSource {
  file: string;
  text: string;
}
export interface InputProblem {
  file: string;
  message: string;
}

const MANIFEST = /\.(ya?ml|json)$/i;

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith(".") && entry.name !== "node_modules") files.push(...(await walk(path)));
    } else if (MANIFEST.test(entry.name)) files.push(path);
  }
  return files;
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  return err instanceof Error ? err.message : String(err);
}

/** Expands the PATH arguments into sources; unreadable paths become problems. */
export async function readInputs(paths: string[], stdin: NodeJS.ReadableStream): Promise<{ sources: LintSource[]; problems: InputProblem[] }> {
  const sources: LintSource[] = [];
  const problems: InputProblem[] = [];
  for (const path of paths) {
    if (path === "-") {
      sources.push({ file: "<stdin>", text: await readStdin(stdin) });
      continue;
    }
    try {
      const info = await stat(path);
      const files = info.isDirectory() ? await walk(path) : [path];
      for (const file of files) {
        try {
          sources.push({ file, text: await readFile(file, "utf8") });
        } catch (err) {
          problems.push({ file, message: `cannot read: ${describe(err)}` });
        }
      }
    } catch (err) {
      problems.push({ file: path, message: `cannot read: ${describe(err)}` });
    }
  }
  return { sources, problems };
}
