// Which pods a resource hook spec applies to: Velero's IncludesExcludes with gobwas/glob patterns
// (pkg/util/collections/includes_excludes.go), resource shortcut resolution, and metav1 label selectors.
import type { LabelSelector, ResourceHookSpec, Result } from "./types.js";

const globCache = new Map<string, RegExp | null>();

function escapeRegex(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/**
 * Compiles a gobwas/glob pattern (no separators): `*`, `?`, `[abc]`, `[!a-z]`, `{a,b}`, `\` escapes.
 * Returns null when the pattern does not compile (unclosed `[` or `{`, empty `[]`, trailing `\`).
 */
export function compileGlob(pattern: string): RegExp | null {
  const cached = globCache.get(pattern);
  if (cached !== undefined) return cached;
  const source = globSource(pattern);
  const compiled = source === null ? null : new RegExp(`^${source}$`, "s");
  if (globCache.size > 1000) globCache.clear();
  globCache.set(pattern, compiled);
  return compiled;
}

function globSource(p: string): string | null {
  let out = "";
  let depth = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "\\") {
      if (i + 1 >= p.length) return null;
      out += escapeRegex(p[++i]!);
    } else if (c === "*") {
      out += ".*";
    } else if (c === "?") {
      out += ".";
    } else if (c === "[") {
      const end = p.indexOf("]", i + 1);
      if (end < 0) return null;
      let body = p.slice(i + 1, end);
      const negate = body.startsWith("!");
      if (negate) body = body.slice(1);
      if (body === "") return null;
      out += `[${negate ? "^" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
      i = end;
    } else if (c === "{") {
      depth++;
      out += "(?:";
    } else if (c === "}" && depth > 0) {
      depth--;
      out += ")";
    } else if (c === "," && depth > 0) {
      out += "|";
    } else {
      out += escapeRegex(c);
    }
  }
  return depth === 0 ? out : null;
}

/** Velero's globStringSet.match: items in sorted order; a pattern that fails to compile ends with false. */
function setMatch(patterns: readonly string[], candidate: string): boolean {
  for (const pattern of [...new Set(patterns)].sort()) {
    const re = compileGlob(pattern);
    if (re === null) return false;
    if (re.test(candidate)) return true;
  }
  return false;
}

/** IncludesExcludes.ShouldInclude: excludes win; empty includes or `*` include everything. */
function shouldInclude(candidate: string, included: readonly string[], excluded: readonly string[]): boolean {
  if (setMatch(excluded, candidate)) return false;
  return included.length === 0 || included.includes("*") || setMatch(included, candidate);
}

export function matchNamespace(ns: string, included: string[], excluded: string[]): boolean {
  return shouldInclude(ns, included, excluded);
}

// Discovery-style resolution of the names users write (kubectl short names included).
const RESOURCE_ALIASES: Record<string, string> = {
  pods: "pods",
  pod: "pods",
  po: "pods",
  persistentvolumeclaims: "persistentvolumeclaims",
  persistentvolumeclaim: "persistentvolumeclaims",
  pvc: "persistentvolumeclaims",
  persistentvolumes: "persistentvolumes",
  persistentvolume: "persistentvolumes",
  pv: "persistentvolumes",
  deployments: "deployments.apps",
  deployment: "deployments.apps",
  deploy: "deployments.apps",
  statefulsets: "statefulsets.apps",
  statefulset: "statefulsets.apps",
  sts: "statefulsets.apps",
  daemonsets: "daemonsets.apps",
  daemonset: "daemonsets.apps",
  ds: "daemonsets.apps",
  replicasets: "replicasets.apps",
  replicaset: "replicasets.apps",
  rs: "replicasets.apps",
  jobs: "jobs.batch",
  job: "jobs.batch",
  cronjobs: "cronjobs.batch",
  cronjob: "cronjobs.batch",
  cj: "cronjobs.batch",
  services: "services",
  service: "services",
  svc: "services",
  configmaps: "configmaps",
  configmap: "configmaps",
  cm: "configmaps",
  secrets: "secrets",
  secret: "secrets",
  namespaces: "namespaces",
  namespace: "namespaces",
  ns: "namespaces",
};

/** A resource name as Velero's discovery helper resolves it; unresolvable names are kept verbatim. */
export function resolveResourceName(name: string): string {
  const key = name.toLowerCase();
  return Object.hasOwn(RESOURCE_ALIASES, key) ? RESOURCE_ALIASES[key]! : name;
}

/** Velero's GetResourceIncludesExcludes + ShouldInclude for a resolved resource like "pods". */
export function resourceIncluded(resource: string, included: string[], excluded: string[]): boolean {
  const target = resolveResourceName(resource);
  const inc = included.map((r) => (r === "*" ? r : resolveResourceName(r)));
  const exc = excluded.filter((r) => r !== "*").map(resolveResourceName); // `*` in excludes is ignored
  return shouldInclude(target, inc, exc);
}

const OPERATORS = new Set(["In", "NotIn", "Exists", "DoesNotExist"]);

/** metav1.LabelSelectorAsSelector + Matches. An undefined selector matches (nil parts are ignored). */
export function matchLabelSelector(
  sel: LabelSelector | undefined,
  labels: Record<string, string> | undefined,
): Result<boolean, string> {
  if (!sel) return { ok: true, value: true };
  const have = labels ?? {};
  let matches = true;
  const matchLabels: unknown = sel.matchLabels ?? {};
  if (typeof matchLabels !== "object" || matchLabels === null || Array.isArray(matchLabels))
    return { ok: false, error: "matchLabels must be a map" };
  for (const [key, value] of Object.entries(matchLabels)) {
    if (have[key] !== value) matches = false;
  }
  const exprs: unknown = sel.matchExpressions ?? [];
  if (!Array.isArray(exprs)) return { ok: false, error: "matchExpressions must be a list" };
  for (const expr of exprs as NonNullable<LabelSelector["matchExpressions"]>) {
    if (typeof expr !== "object" || expr === null)
      return { ok: false, error: "matchExpressions entries must be maps" };
    if (!OPERATORS.has(expr.operator))
      return { ok: false, error: `${JSON.stringify(expr.operator)} is not a valid label selector operator` };
    const values = Array.isArray(expr.values) ? expr.values : [];
    const present = Object.prototype.hasOwnProperty.call(have, expr.key);
    switch (expr.operator) {
      case "In":
      case "NotIn": {
        if (values.length === 0)
          return {
            ok: false,
            error: `values: Invalid value: for 'in', 'notin' operators, values set can't be empty`,
          };
        const inSet = present && values.includes(have[expr.key]!);
        if (expr.operator === "In" ? !inSet : inSet) matches = false;
        break;
      }
      default:
        if (values.length > 0)
          return {
            ok: false,
            error: `values: Invalid value: values set must be empty for exists and does not exist`,
          };
        if (expr.operator === "Exists" ? !present : present) matches = false;
    }
  }
  return { ok: true, value: matches };
}

/** ResourceHookSelector.applicableTo: namespace AND resource (pods) AND labels. Bad selectors never match. */
export function resourceHookAppliesTo(
  spec: ResourceHookSpec,
  pod: { namespace: string; labels?: Record<string, string> },
): boolean {
  return whyNotApplicable(spec, pod) === null;
}

/** null when the spec applies to the pod, else the reason (used for `skipped` explanations). */
export function whyNotApplicable(
  spec: ResourceHookSpec,
  pod: { namespace: string; labels?: Record<string, string> },
): string | null {
  if (!matchNamespace(pod.namespace, spec.includedNamespaces, spec.excludedNamespaces)) {
    return `namespace ${JSON.stringify(pod.namespace)} is not selected by includedNamespaces/excludedNamespaces`;
  }
  if (!resourceIncluded("pods", spec.includedResources, spec.excludedResources)) {
    return "includedResources/excludedResources do not select pods";
  }
  const labels = matchLabelSelector(spec.labelSelector, pod.labels);
  if (!labels.ok) return `invalid labelSelector: ${labels.error}`;
  if (!labels.value) return "pod labels do not match labelSelector";
  return null;
}
