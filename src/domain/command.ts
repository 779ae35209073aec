// Hook commands: Velero's annotation command parser (`parseStringToCommand`) plus the checks that
// turn its silent reinterpretations into findings. Hooks never run in a shell unless argv[0] is one.
import type { Finding } from "./types.js";
import { error, q, shortValue, warning } from "./findings.js";

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

/** Checks shared by annotation and spec commands once argv is known. */
export function checkArgv(argv: readonly string[], elementPath: (i: number) => string): CommandCheck {
  const blockers: Finding[] = [];
  const warnings: Finding[] = [];
  argv.forEach((element, i) => {
    if (element === "") {
      blockers.push(error("command-empty-element", elementPath(i), `command element ${i} is an empty string; remove it`));
    } else if (TYPOGRAPHIC.test(element)) {
      blockers.push(
        error("command-typographic-quotes", elementPath(i), `command element ${shortValue(element)} has typographic quotes; use straight quotes`),
      );
    }
  });
  if (argv.length === 1 && /\s/.test(argv[0]!) && argv[0]!.trim() !== "") {
    warnings.push(
      warning("command-whitespace", elementPath(0), `${shortValue(argv[0]!, 28)} runs as one program (no shell); use a JSON array`),
    );
  } else if (argv.length > 0 && !isShellArgv(argv)) {
    const i = argv.findIndex((element) => SHELL_SYNTAX.test(element));
    if (i >= 0) {
      warnings.push(
        warning("command-shell-syntax", elementPath(i), `${shortValue(argv[i]!, 24)} is shell syntax but no shell runs; use /bin/sh -c`),
      );
    }
  }
  return { argv: [...argv], blockers, warnings };
}

/** Parses and checks an annotation command value (present and non-empty). */
export function checkCommandAnnotation(raw: string, path: string): CommandCheck {
  const argv = parseCommandAnnotation(raw);
  if (raw.trim() === "") {
    return { argv, blockers: [error("command-blank", path, `command ${q(raw)} is only whitespace; write the program to run`)], warnings: [] };
  }
  if (TYPOGRAPHIC.test(raw)) {
    return {
      argv,
      blockers: [error("command-typographic-quotes", path, `command contains typographic quotes (\u201c \u201d \u2018 \u2019); use straight quotes "`)],
      warnings: [],
    };
  }
  if (/^\s+\[/.test(raw)) {
    return {
      argv,
      blockers: [error("command-leading-whitespace", path, `command has whitespace before "[" so it is not read as JSON; remove it`)],
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
            `command ${shortValue(raw)} starts with "[" but is not a JSON array of strings (${parsed.reason}); write e.g. ["/bin/fsfreeze","--freeze","/data"]`,
          ),
        ],
        warnings: [],
      };
    }
    if (parsed.value.length === 0) {
      return { argv, blockers: [error("command-empty-array", path, `command [] runs nothing (Velero: "command is required"); name a program`)], warnings: [] };
    }
  }
  return checkArgv(argv, () => path);
}
