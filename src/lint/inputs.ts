// Reading lint inputs: files, directories (their *.yaml, *.yml, *.json; subdirectories only with
// `recursive`, as kubectl's `-f DIR` and `-R`, dot-directories and node_modules skipped) and "-"
// for stdin. A file reached through two given paths is read once. Failures are data, so one bad
// path does not hide others.
import { readFile, readdir, realpath, stat } from "node:fs/promises";
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

export interface ReadOptions {
  /** Descend into subdirectories of a directory argument. */
  recursive?: boolean;
}

async function walk(dir: string, recursive: boolean): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (recursive && !entry.name.startsWith(".") && entry.name !== "node_modules")
        files.push(...(await walk(path, recursive)));
    } else if (MANIFEST.test(entry.name)) files.push(path);
  }
  return files;
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin)
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
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
export async function readInputs(
  paths: string[],
  stdin: NodeJS.ReadableStream,
  opts: ReadOptions = {},
): Promise<{ sources: LintSource[]; problems: InputProblem[] }> {
  const sources: LintSource[] = [];
  const problems: InputProblem[] = [];
  const seen = new Set<string>();
  for (const path of paths) {
    if (path === "-") {
      sources.push({ file: "<stdin>", text: await readStdin(stdin) });
      continue;
    }
    try {
      const info = await stat(path);
      const files = info.isDirectory() ? await walk(path, opts.recursive === true) : [path];
      for (const file of files) {
        try {
          // `lint a.yaml .` or a symlink: the same file is reported once, under the first name given
          const real = await realpath(file);
          if (seen.has(real)) continue;
          seen.add(real);
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
