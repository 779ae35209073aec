// Backup `spec.hooks` / Schedule `spec.template.hooks` -> typed resource hook specs + findings.
// Structure comes from an ajv schema (compiled once), semantics (durations, selectors, globs,
// names, pod applicability) from code below.
import { Ajv, type ErrorObject } from "ajv";
import addFormats from "ajv-formats";
import type {
  BackupHooksResult,
  ExecHook,
  Finding,
  LabelSelector,
  OnError,
  Phase,
  ResourceHookSpec,
} from "./types.js";
import { backupHooksSchema } from "./backup-schema.js";
import { checkArgv } from "./command.js";
import { DEFAULT_TIMEOUT_MS, checkTimeout, isValidOnError, onErrorFinding } from "./annotations.js";
import { nanosToMillis } from "./duration.js";
import { closest, error, q, shortValue, warning } from "./findings.js";
import { riskyCommandFindings } from "./risky-commands.js";
import { globMatchesSomeNamespace } from "./glob-overlap.js";
import { compileGlob, resourceIncluded } from "./selection.js";
import { isObject } from "./json.js";

const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, strict: true });
addFormats.default(ajv);
const validateShape = ajv.compile(backupHooksSchema);

export interface ParseBackupHooksOptions {
  /** Field path of the hooks object; "spec.hooks" (Backup) or "spec.template.hooks" (Schedule). */
  pathPrefix?: string;
}

/** `/resources/0/pre/1` -> `.resources[0].pre[1]` */
function jsonPointerToPath(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((seg) => seg.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`))
    .join("");
}

const RESTORE_ONLY: Record<string, string> = {
  execTimeout: `execTimeout is a restore-hook field, pruned here; use timeout`,
  waitTimeout: `waitTimeout is a restore-hook field, pruned here; backup hooks do not wait`,
  waitForReady: `waitForReady is a restore-hook field, pruned here; backup hooks do not wait`,
  init: `init hooks exist only for restores; backup hooks support exec only`,
  postHooks: `postHooks is the restore spec's field; backup hooks use pre and post`,
};

const FIELD_NAMES: Record<string, readonly string[]> = {
  hooks: ["resources"],
  resource: [
    "name",
    "includedNamespaces",
    "excludedNamespaces",
    "includedResources",
    "excludedResources",
    "labelSelector",
    "pre",
    "post",
  ],
  selector: ["matchLabels", "matchExpressions"],
  expression: ["key", "operator", "values"],
  hook: ["exec"],
  exec: ["container", "command", "onError", "timeout"],
};

function levelOf(pointer: string): keyof typeof FIELD_NAMES {
  if (pointer === "") return "hooks";
  if (/\/exec$/.test(pointer)) return "exec";
  if (/\/(pre|post)\/\d+$/.test(pointer)) return "hook";
  if (/\/matchExpressions\/\d+$/.test(pointer)) return "expression";
  if (/\/labelSelector$/.test(pointer)) return "selector";
  return "resource";
}

const TYPE_WORDS: Record<string, string> = {
  string: "a string",
  array: "a list",
  object: "a map",
  "array,null": "a list",
  "object,null": "a map",
};

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "a map" : `${typeof value} ${JSON.stringify(value)}`;
}

function shapeFinding(e: ErrorObject, base: string): Finding | undefined {
  const at = base + jsonPointerToPath(e.instancePath);
  switch (e.keyword) {
    case "required": {
      const field = (e.params as { missingProperty: string }).missingProperty;
      const msgs: Record<string, [string, string]> = {
        name: ["name-missing", `name is required; give each resource hook a unique name`],
        exec: ["exec-missing", `exec is required (the API server rejects the hook); add exec.command`],
        command: ["command-missing", `command is required; write a list such as ["/bin/sync"]`],
      };
      const [code, message] = Object.hasOwn(msgs, field)
        ? msgs[field]!
        : ["field-missing", `${field} is required`];
      return error(code, `${at}.${field}`, message);
    }
    case "additionalProperties": {
      const field = (e.params as { additionalProperty: string }).additionalProperty;
      const path = `${at}.${field}`;
      if (
        Object.hasOwn(RESTORE_ONLY, field) &&
        (field !== "postHooks" || levelOf(e.instancePath) === "resource")
      ) {
        return error("restore-only-field", path, RESTORE_ONLY[field]!);
      }
      const guess = closest(field, FIELD_NAMES[levelOf(e.instancePath)] ?? []);
      const hint = guess ? `; did you mean ${q(guess)}?` : "";
      return warning(
        "unknown-field",
        path,
        `unknown field ${shortValue(field, 24)} is pruned by the API server${hint}`,
      );
    }
    case "type": {
      const field = e.instancePath.split("/").pop() ?? "hooks";
      const want =
        TYPE_WORDS[String((e.params as { type: string | string[] }).type)] ??
        String((e.params as { type: string }).type);
      const extra = field === "timeout" ? `; quote it as a Go duration, e.g. "30s"` : "";
      return error(
        "type-invalid",
        at,
        `${/^\d+$/.test(field) ? "value" : field} must be ${want}, not ${describeType(e.data)}${extra}`,
      );
    }
    case "enum":
      return onErrorFinding(String(e.data), at, "onError");
    case "minItems":
      return error(
        "command-empty-array",
        at,
        `command [] is rejected by the API server; name a program to run`,
      );
    default:
      return error("schema-invalid", at, `${e.message ?? "invalid"}`);
  }
}

const stringsOf = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];

const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const name = slash < 0 ? key : key.slice(slash + 1);
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    return "prefix must be a DNS subdomain";
  if (name.length > 63 || !LABEL_NAME.test(name)) return "name must be 1-63 alphanumerics, '-', '_' or '.'";
  return undefined;
}
function labelValueProblem(value: string): boolean {
  return value !== "" && (value.length > 63 || !LABEL_NAME.test(value));
}

function selectorFindings(sel: unknown, path: string): Finding[] {
  if (!isObject(sel)) return [];
  const out: Finding[] = [];
  if (isObject(sel.matchLabels)) {
    for (const [key, value] of Object.entries(sel.matchLabels)) {
      const p = `${path}.matchLabels[${q(key)}]`;
      const keyProblem = labelKeyProblem(key);
      if (keyProblem)
        out.push(
          error(
            "selector-label-invalid",
            p,
            `label key ${shortValue(key)} is invalid (${keyProblem}); Velero fails the backup`,
          ),
        );
      else if (typeof value === "string" && labelValueProblem(value)) {
        out.push(
          error(
            "selector-label-invalid",
            p,
            `label value ${shortValue(value)} is invalid; Velero fails the backup`,
          ),
        );
      }
    }
  }
  const exprs = Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [];
  exprs.forEach((expr, k) => {
    if (!isObject(expr) || typeof expr.operator !== "string") return;
    const p = `${path}.matchExpressions[${k}]`;
    const values = stringsOf(expr.values);
    const op = expr.operator;
    if (!["In", "NotIn", "Exists", "DoesNotExist"].includes(op)) {
      const guess = closest(op, ["In", "NotIn", "Exists", "DoesNotExist"]);
      const hint = guess ? `did you mean ${q(guess)}?` : "use In, NotIn, Exists or DoesNotExist";
      out.push(
        error(
          "selector-operator-invalid",
          `${p}.operator`,
          `operator ${shortValue(op)} is not valid and makes the whole backup fail; ${hint}`,
        ),
      );
    } else if ((op === "In" || op === "NotIn") && values.length === 0) {
      out.push(
        error(
          "selector-values-missing",
          `${p}.values`,
          `${op} needs at least one value (Velero fails the backup); add values`,
        ),
      );
    } else if ((op === "Exists" || op === "DoesNotExist") && values.length > 0) {
      out.push(
        error(
          "selector-values-unexpected",
          `${p}.values`,
          `${op} must have no values (Velero fails the backup); remove values`,
        ),
      );
    }
  });
  return out;
}

/** A regex written where a glob belongs: `^prod-.*$` -> `prod-*`. */
function globFromRegex(pattern: string): string {
  return pattern
    .replace(/^\^/, "")
    .replace(/\$$/, "")
    .replace(/\.\*/g, "*")
    .replace(/\.\+/g, "?*")
    .replace(/\./g, "?");
}

/** Why a namespace pattern that compiles can still match no namespace name (DNS-1123 labels). */
function unmatchableMessage(pattern: string): string {
  const value = shortValue(pattern, 24);
  if (pattern.includes("."))
    return `namespace pattern ${value} has a ".", which no namespace has (globs, not regex); did you mean ${q(globFromRegex(pattern))}?`;
  if (pattern !== pattern.toLowerCase())
    return `namespace pattern ${value} has upper case, which no namespace has; did you mean ${q(pattern.toLowerCase())}?`;
  return `namespace pattern ${value} matches no namespace name (a-z, 0-9, "-" only); fix the pattern`;
}

function namespaceFindings(r: Record<string, unknown>, path: string): Finding[] {
  const out: Finding[] = [];
  for (const field of ["includedNamespaces", "excludedNamespaces"]) {
    stringsOf(r[field]).forEach((pattern, k) => {
      const at = `${path}.${field}[${k}]`;
      if (compileGlob(pattern) === null) {
        out.push(
          error(
            "namespace-glob-invalid",
            at,
            `namespace pattern ${shortValue(pattern)} is not a valid glob, so nothing matches; fix [ ] { } or \\`,
          ),
        );
      } else if (globMatchesSomeNamespace(pattern) === false) {
        out.push(error("namespace-pattern-unmatchable", at, unmatchableMessage(pattern)));
      }
    });
  }
  return out;
}

function resourceFindings(r: Record<string, unknown>, path: string): Finding[] {
  const included = stringsOf(r.includedResources);
  const excluded = stringsOf(r.excludedResources);
  if (resourceIncluded("pods", included, excluded)) return [];
  if (!resourceIncluded("pods", included, [])) {
    return [
      warning(
        "resources-exclude-pods",
        `${path}.includedResources`,
        `includedResources does not select pods, so the hook never runs; add "pods"`,
      ),
    ];
  }
  return [
    warning(
      "resources-exclude-pods",
      `${path}.excludedResources`,
      `excludedResources excludes pods, so the hook never runs; remove it`,
    ),
  ];
}

function buildSpecHook(
  raw: unknown,
  ctx: { phase: Phase; name: string; index: number; resourceIndex: number; path: string },
): { hook?: ExecHook; findings: Finding[] } {
  if (!isObject(raw) || !isObject(raw.exec)) return { findings: [] }; // Velero skips entries without exec
  const exec = raw.exec;
  const path = `${ctx.path}.exec`;
  const argv = stringsOf(exec.command);
  const checked =
    Array.isArray(exec.command) && argv.length > 0
      ? checkArgv(argv, (i) => `${path}.command[${i}]`)
      : { argv, blockers: [], warnings: [] };
  const warnings = [...checked.warnings];
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (typeof exec.timeout === "string") {
    const t = checkTimeout(exec.timeout, `${path}.timeout`);
    warnings.push(...t.findings);
    if (t.ns !== undefined && t.ns > 0) timeoutMs = nanosToMillis(t.ns);
  }
  const onErrorExplicit = isValidOnError(exec.onError as string | undefined);
  const container = typeof exec.container === "string" ? exec.container : "";
  const blockers = [...checked.blockers];
  if (Array.isArray(exec.command) && exec.command.length === 0) {
    blockers.push(
      error(
        "command-empty-array",
        `${path}.command`,
        `command [] is rejected by the API server; name a program to run`,
      ),
    );
  } else if (argv.length === 0) {
    blockers.push(
      error("command-missing", `${path}.command`, `command is required; write a list such as ["/bin/sync"]`),
    );
  }
  if (ctx.name === "")
    blockers.push(
      error(
        "name-empty",
        `${ctx.path.replace(/\.(pre|post)\[\d+\]$/, "")}.name`,
        `name is empty (Velero: hookName is required); set a unique name`,
      ),
    );
  const hook: ExecHook = {
    phase: ctx.phase,
    source: "spec",
    name: ctx.name,
    index: ctx.index,
    resourceIndex: ctx.resourceIndex,
    containerAsWritten: container,
    container,
    argv: checked.argv,
    onError: onErrorExplicit ? (exec.onError as OnError) : "Fail",
    onErrorExplicit,
    timeoutMs,
    legacy: false,
    blockers,
    warnings,
  };
  // The pods are not known here, so patterns that need the container's image are checked per pod
  // by nobody: only the command itself is judged.
  return {
    hook,
    findings: [
      ...checked.blockers,
      ...warnings,
      ...riskyCommandFindings(checked.argv, undefined, `${path}.command`),
    ],
  };
}

function parseResource(
  raw: unknown,
  index: number,
  base: string,
  seen: Map<string, number>,
): { spec?: ResourceHookSpec; findings: Finding[] } {
  if (!isObject(raw)) return { findings: [] };
  const path = `${base}.resources[${index}]`;
  const findings: Finding[] = [];
  const name = typeof raw.name === "string" ? raw.name : "";
  if (raw.name === "" || (typeof raw.name === "string" && name.trim() === "")) {
    findings.push(
      error("name-empty", `${path}.name`, `name is empty (Velero: hookName is required); set a unique name`),
    );
  } else if (typeof raw.name === "string") {
    const first = seen.get(name);
    if (first !== undefined) {
      findings.push(
        warning(
          "name-duplicate",
          `${path}.name`,
          `name ${shortValue(name, 24)} repeats resources[${first}]; hook status counts merge`,
        ),
      );
    } else seen.set(name, index);
  }
  findings.push(
    ...namespaceFindings(raw, path),
    ...resourceFindings(raw, path),
    ...selectorFindings(raw.labelSelector, `${path}.labelSelector`),
  );
  const spec: ResourceHookSpec = {
    name,
    index,
    includedNamespaces: stringsOf(raw.includedNamespaces),
    excludedNamespaces: stringsOf(raw.excludedNamespaces),
    includedResources: stringsOf(raw.includedResources),
    excludedResources: stringsOf(raw.excludedResources),
    pre: [],
    post: [],
  };
  if (isObject(raw.labelSelector)) spec.labelSelector = raw.labelSelector as LabelSelector;
  for (const phase of ["pre", "post"] as const) {
    const list = Array.isArray(raw[phase]) ? (raw[phase] as unknown[]) : [];
    list.forEach((entry, j) => {
      const built = buildSpecHook(entry, {
        phase,
        name,
        index: j,
        resourceIndex: index,
        path: `${path}.${phase}[${j}]`,
      });
      if (built.hook) spec[phase].push(built.hook);
      findings.push(...built.findings);
    });
  }
  if (!Array.isArray(raw.pre) && !Array.isArray(raw.post)) {
    findings.push(
      warning(
        "no-hooks",
        path,
        `resource hook ${shortValue(name, 24)} has no pre or post hooks; add some or drop it`,
      ),
    );
  }
  return { spec, findings };
}

/** Typed resource hook specs plus findings (schema shape first, then semantics, in field order). */
export function parseBackupHooks(hooks: unknown, opts: ParseBackupHooksOptions = {}): BackupHooksResult {
  const base = opts.pathPrefix ?? "spec.hooks";
  if (hooks === undefined || hooks === null) return { resources: [], findings: [] };
  const findings: Finding[] = [];
  if (!validateShape(hooks)) {
    for (const e of validateShape.errors ?? []) {
      const f = shapeFinding(e, base);
      if (f) findings.push(f);
    }
  }
  const resources: ResourceHookSpec[] = [];
  if (isObject(hooks) && Array.isArray(hooks.resources)) {
    const seen = new Map<string, number>();
    hooks.resources.forEach((raw, i) => {
      const parsed = parseResource(raw, i, base, seen);
      if (parsed.spec) resources.push(parsed.spec);
      findings.push(...parsed.findings);
    });
  }
  return { resources, findings: dedupe(findings) };
}

/** The schema and the semantic pass can both flag an empty command list: keep one finding per path+code. */
function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.code}\u0000${f.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
