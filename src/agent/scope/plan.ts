// `hookguard backup plan`: everything a Backup would do, resolved and not executed. ItemBlocks, and
// per pod and phase the hooks that would run (source, container, argv, on-error, timeout) or why
// not. Skip reasons are data (an ordered list of predicates), the same rules the agent applies.
import {
  buildItemBlocks,
  describeInclusion,
  EXCLUDE_LABEL,
  hookGate,
  type HookGate,
  matchNamespace,
  millisToGoDuration as goDurationMs,
  parseBackupHooks,
  resolvePodHooks,
  type Finding,
  type PodLike,
  type Result,
} from "../../domain/index.js";
import { collectItems } from "./collect.js";
import type { AgentCluster } from "../ports.js";
import type { BackupSpec } from "../../velero/types.js";

export interface PlannedHook {
  phase: "pre" | "post";
  source: "annotation" | "spec";
  name: string;
  container: string;
  argv: string[];
  onError: string;
  timeout: string;
  /** set when the agent would record this hook as failed without running it */
  /** why the agent would record this hook failed without executing it */
  blockedBy?: string[];
  /** why the agent would skip it (counted attempted, not failed) */
  skippedBecause?: string;
  warnings?: string[];
}

export interface PlannedPod {
  namespace: string;
  name: string;
  /** why the pod's hooks would not execute (pod state), if any */
  podSkip?: string;
  hooks: PlannedHook[];
  skipped: Array<{ phase: "pre" | "post"; hookName?: string; source: string; reason: string }>;
}

export interface BackupPlan {
  /** `pulledIn`: the block's items that did not match the selector, and what pulled each in. */
  blocks: Array<{ items: string[]; pulledIn: Array<{ item: string; why: string }>; pods: PlannedPod[] }>;
  excludedPods: Array<{ namespace: string; name: string; reason: string }>;
  findings: Finding[];
}

const EXCLUSION_RULES: Array<(p: PodLike) => string | null> = [
  (p) => (p.metadata?.deletionTimestamp ? "pod is being deleted" : null),
  (p) => (p.metadata?.labels?.[EXCLUDE_LABEL] === "true" ? `label ${EXCLUDE_LABEL}=true` : null),
];

const firstReason = <T>(rules: Array<(x: T) => string | null>, x: T): string | undefined => {
  for (const r of rules) {
    const why = r(x);
    if (why) return why;
  }
  return undefined;
};

/** What the agent would do instead of executing the hook, in the plan's fields. */
function gateOf(g: HookGate): { blockedBy?: string[]; skippedBecause?: string } {
  if (g.kind === "fail") return { blockedBy: [g.reason] };
  if (g.kind === "skip") return { skippedBecause: g.reason };
  return {};
}

export async function planBackup(
  cluster: AgentCluster,
  spec: BackupSpec,
): Promise<Result<BackupPlan, string>> {
  const parsed = parseBackupHooks(spec.hooks, { pathPrefix: "spec.hooks" });
  const collected = await collectItems(cluster, spec);
  if (!collected.ok) return collected;
  const blocks = buildItemBlocks(collected.value);
  const plan: BackupPlan = { blocks: [], excludedPods: [], findings: parsed.findings };
  for (const block of blocks) {
    const pods: PlannedPod[] = block.pods.map((pod) => {
      const planned: PlannedPod = {
        namespace: pod.metadata?.namespace ?? "",
        name: pod.metadata?.name ?? "",
        hooks: [],
        skipped: [],
      };
      // the agent's own rule (hookGate), for the pod as a whole: its phase
      const podGate = hookGate(pod, { blockers: [], container: "" });
      if (podGate.kind !== "run") planned.podSkip = podGate.reason;
      for (const phase of ["pre", "post"] as const) {
        const r = resolvePodHooks(pod, parsed.resources, phase);
        for (const h of r.hooks) {
          planned.hooks.push({
            phase,
            source: h.source,
            name: h.source === "annotation" ? "<from-annotation>" : h.name,
            container: h.container,
            argv: h.argv,
            onError: h.onError,
            timeout: goDurationMs(h.timeoutMs),
            ...gateOf(hookGate(pod, h)),
            ...(h.warnings.length > 0 ? { warnings: h.warnings.map((f) => f.message) } : {}),
          });
        }
        for (const s of r.skipped)
          planned.skipped.push({
            phase,
            source: s.source,
            reason: s.reason,
            ...(s.hookName !== undefined ? { hookName: s.hookName } : {}),
          });
      }
      return planned;
    });
    const items = block.items.map((i) =>
      i.namespace ? `${i.resource}/${i.namespace}/${i.name}` : `${i.resource}/${i.name}`,
    );
    const pulledIn = items.flatMap((item) => {
      const why = collected.value.why.get(item);
      return why && why.reason !== "selected" ? [{ item, why: describeInclusion(why) }] : [];
    });
    plan.blocks.push({ items, pulledIn, pods });
  }
  // pods in the selected namespaces that the backup leaves out, with the reason
  const all = await cluster.listPods();
  if (all.ok) {
    for (const p of all.value) {
      if (
        !matchNamespace(
          p.metadata?.namespace ?? "",
          spec.includedNamespaces ?? [],
          spec.excludedNamespaces ?? [],
        )
      )
        continue;
      const why = firstReason(EXCLUSION_RULES, p);
      if (why)
        plan.excludedPods.push({
          namespace: p.metadata?.namespace ?? "",
          name: p.metadata?.name ?? "",
          reason: why,
        });
    }
  }
  return { ok: true, value: plan };
}

export function formatPlan(plan: BackupPlan): string {
  const out: string[] = [];
  for (const f of plan.findings) out.push(`${f.severity}: ${f.path}: ${f.message}`);
  if (plan.findings.length > 0) out.push("");
  if (plan.blocks.length === 0) out.push("No items selected.");
  plan.blocks.forEach((b, i) => {
    out.push(`ItemBlock ${i + 1}: ${b.items.join(", ")}`);
    for (const p of b.pulledIn) out.push(`  pulled in: ${p.item} (${p.why})`);
    for (const p of b.pods) {
      out.push(`  Pod ${p.namespace}/${p.name}${p.podSkip ? `  (${p.podSkip})` : ""}`);
      for (const phase of ["pre", "post"] as const) {
        const hooks = p.hooks.filter((h) => h.phase === phase);
        if (hooks.length === 0) out.push(`    ${phase}: <no hooks>`);
        for (const h of hooks) {
          out.push(
            `    ${phase}: ${h.source} ${h.name} container=${h.container || "<none>"} onError=${h.onError} timeout=${h.timeout} argv=${JSON.stringify(h.argv)}`,
          );
          for (const b2 of h.blockedBy ?? []) out.push(`      would fail without running: ${b2}`);
          if (h.skippedBecause)
            out.push(`      would be skipped (counted attempted, not failed): ${h.skippedBecause}`);
          for (const w of h.warnings ?? []) out.push(`      warning: ${w}`);
        }
        for (const s of p.skipped.filter((x) => x.phase === phase))
          out.push(
            `    ${phase}: skipped ${s.source} hook ${s.hookName ?? ""}: ${s.reason}`.replace(
              "hook : ",
              "hook: ",
            ),
          );
      }
    }
  });
  if (plan.excludedPods.length > 0) {
    out.push("", "Excluded pods:");
    for (const p of plan.excludedPods) out.push(`  ${p.namespace}/${p.name}: ${p.reason}`);
  }
  return `${out.join("\n")}\n`;
}
