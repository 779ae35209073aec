// Hook commands: Velero's annotation command parser (`parseStringToCommand`) plus the checks that
// turn its silent reinterpretations into findings. Hooks never run in a shell unless argv[0] is one.
import type { Finding } from "./types.js";
import { error, q, shortValue, warning, whitespaceFix } from "./findings.js";

export interface CommandCheck {
  argv: string[];
  /** Errors that make the command unrunnable as written. */
  blockers: Finding[];
  warnings: Finding[];
}

/**
 * Velero's parser: JSON only when the first byte is `[` and the value decodes as an array of
 * strings; otherwise the whole value is one argv element (spaces are not split).
 */
export function parseCommandAnnotation(raw: string): string[] {
  if (raw.startsWith("[")) {
    const parsed = tryJsonStringArray(raw);
    if (parsed.ok) return parsed.value;
  }
  return [raw];
}

function tryJsonStringArray(raw: string): { ok: true; value: string[] } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, reason: "malformed JSON" };
  }
  if (!Array.isArray(value)) return { ok: false, reason: "not an array" };
  const bad = value.findIndex((element) => typeof element !== "string");
  if (bad >= 0) return { ok: false, reason: `element ${bad} is not a string` };
  return { ok: true, value: value as string[] };
}

const TYPOGRAPHIC = /[\u201c\u201d\u2018\u2019\u201e\u201f\u00ab\u00bb]/;
const SHELLS = new Set(["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "fish", "pwsh", "powershell"]);
// &&, ||, |, ;, >, $VAR / ${VAR} / $(...), backticks
const SHELL_SYNTAX = /&&|\|\||\||;|>|\$[A-Za-z_{(]|`/;

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** argv[0] is a shell, also through `env` or `busybox` (e.g. ["/usr/bin/env","bash","-c",...]). */
export function isShellArgv(argv: readonly string[]): boolean {
  const first = basename(argv[0] ?? "");
  if (SHELLS.has(first)) return true;
  if ((first === "env" || first === "busybox") && argv.length > 1) return SHELLS.has(basename(argv[1]!));
  return false;
}

/**
 * The words a shell would make of `text` (quotes and backslashes as POSIX sh reads them, no
 * expansion), so a suggested JSON array is built from what the user wrote; undefined when a quote
 * is left open.
 */
export function shellWords(text: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return undefined;
      word = (word ?? "") + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let quoted = "";
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === "\\" && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) j++;
        quoted += text[j];
      }
      if (j >= text.length) return undefined;
      word = (word ?? "") + quoted;
      i = j;
    } else if (c === "\\" && i + 1 < text.length) {
      word = (word ?? "") + text[++i];
    } else word = (word ?? "") + c;
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** A JSON array for a suggestion; "a JSON array" when the user's words make one too long to quote. */
function arrayHint(words: readonly string[] | undefined, max = 60): string {
  const json = words && words.length > 0 ? JSON.stringify(words) : undefined;
  return json && json.length <= max ? json : "a JSON array";
}

/** Checks shared by annotation and spec commands once argv is known. */
export function checkArgv(argv: readonly string[], elementPath: (i: number) => string): CommandCheck {
  const blockers: Finding[] = [];
  const warnings: Finding[] = [];
  argv.forEach((element, i) => {
    if (element === "") {
      blockers.push(
        error("command-empty-element", elementPath(i), `command element ${i} is an empty string; remove it`),
      );
    } else if (TYPOGRAPHIC.test(element)) {
      blockers.push(
        error(
          "command-typographic-quotes",
          elementPath(i),
          `command element ${shortValue(element)} has typographic quotes; use straight quotes`,
        ),
      );
    }
  });
  const program = argv[0] ?? "";
  const trimmed = program.trim();
  if (trimmed !== "" && trimmed !== program && !/\s/.test(trimmed)) {
    // A YAML block scalar (`|`) keeps a trailing newline: no program has that name.
    blockers.push(
      error(
        "command-program-whitespace",
        elementPath(0),
        `program name ${shortValue(program, 28)} ${whitespaceFix(program)}`,
      ),
    );
  } else if (argv.length === 1 && /\s/.test(trimmed)) {
    const words = shellWords(trimmed);
    const first = words?.[0] ?? trimmed.split(/\s+/)[0]!;
    if (SHELLS.has(basename(first))) {
      // `/bin/sh -c "..."` as one string names a program called "/bin/sh -c ...": it can never run.
      blockers.push(
        error(
          "command-shell-string",
          elementPath(0),
          `${shortValue(trimmed, 28)} is one program name, not a shell call; write ${arrayHint(words, 200)}`,
        ),
      );
    } else {
      warnings.push(
        warning(
          "command-whitespace",
          elementPath(0),
          `${shortValue(trimmed, 28)} runs as one program (no shell); write ${arrayHint(words)}`,
        ),
      );
    }
  } else if (argv.length > 0 && !isShellArgv(argv)) {
    const i = argv.findIndex((element) => SHELL_SYNTAX.test(element));
    if (i >= 0) {
      warnings.push(
        warning(
          "command-shell-syntax",
          elementPath(i),
          `${shortValue(argv[i]!, 24)} is shell syntax but no shell runs; use /bin/sh -c`,
        ),
      );
    }
  }
  return { argv: [...argv], blockers, warnings };
}

/**
 * The argv a user meant by a value that starts with "[" but is not JSON: `['/bin/sync']` or
 * `[/bin/sync, -f]` -> ["/bin/sync"] / ["/bin/sync","-f"]. Elements are split at commas outside
 * quotes, and each loses its surrounding quotes.
 */
export function intendedArgv(raw: string): string[] | undefined {
  const inner = raw.trim().replace(/^\[/, "").replace(/\]$/, "");
  const words: string[] = [];
  let current = "";
  let quote: string | undefined;
  for (const c of inner) {
    if (quote) {
      if (c === quote) quote = undefined;
      else current += c;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === ",") {
      words.push(current.trim());
      current = "";
    } else current += c;
  }
  if (quote) return undefined;
  words.push(current.trim());
  const argv = words.filter((w) => w !== "");
  return argv.length > 0 && argv.every((w) => !/[[\]{}]/.test(w)) ? argv : undefined;
}

/** Parses and checks an annotation command value (present and non-empty). */
export function checkCommandAnnotation(raw: string, path: string): CommandCheck {
  const argv = parseCommandAnnotation(raw);
  if (raw.trim() === "") {
    return {
      argv,
      blockers: [
        error("command-blank", path, `command ${q(raw)} is only whitespace; write the program to run`),
      ],
      warnings: [],
    };
  }
  if (TYPOGRAPHIC.test(raw)) {
    return {
      argv,
      blockers: [
        error(
          "command-typographic-quotes",
          path,
          `command contains typographic quotes (\u201c \u201d \u2018 \u2019); use straight quotes "`,
        ),
      ],
      warnings: [],
    };
  }
  if (/^\s+\[/.test(raw)) {
    return {
      argv,
      blockers: [
        error(
          "command-leading-whitespace",
          path,
          `command has whitespace before "[" so it is not read as JSON; remove it`,
        ),
      ],
      warnings: [],
    };
  }
  if (raw.startsWith("[")) {
    const parsed = tryJsonStringArray(raw);
    if (!parsed.ok) {
      return {
        argv,
        blockers: [
          error(
            "command-json-invalid",
            path,
            `command ${shortValue(raw)} starts with "[" but is not a JSON array of strings (${parsed.reason}); write ${arrayHint(intendedArgv(raw), 200)}`,
          ),
        ],
        warnings: [],
      };
    }
    if (parsed.value.length === 0) {
      return {
        argv,
        blockers: [
          error(
            "command-empty-array",
            path,
            `command [] runs nothing (Velero: "command is required"); name a program`,
          ),
        ],
        warnings: [],
      };
    }
  }
  return checkArgv(argv, () => path);
}
