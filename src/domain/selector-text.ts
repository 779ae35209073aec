// A label selector written as text, the way `kubectl -l` takes it (`--backup-selector`,
// `backup create --selector`): the equality-based subset, turned into the LabelSelector the rest of
// the domain matches with.
import type { LabelSelector, Result } from "./types.js";

/** Equality-based selector syntax like kubectl's -l: `a=b,c!=d,e,!f`. */
export function parseLabelSelector(text: string): Result<LabelSelector, string> {
  const sel: Required<LabelSelector> = { matchLabels: {}, matchExpressions: [] };
  for (const raw of text.split(",")) {
    const part = raw.trim();
    if (part === "") return { ok: false, error: `empty term in label selector ${JSON.stringify(text)}` };
    let m: RegExpExecArray | null;
    if ((m = /^([A-Za-z0-9._/-]+)\s*!=\s*([A-Za-z0-9._-]*)$/.exec(part))) sel.matchExpressions.push({ key: m[1]!, operator: "NotIn", values: [m[2]!] });
    else if ((m = /^([A-Za-z0-9._/-]+)\s*==?\s*([A-Za-z0-9._-]*)$/.exec(part))) sel.matchLabels[m[1]!] = m[2]!;
    else if ((m = /^!([A-Za-z0-9._/-]+)$/.exec(part))) sel.matchExpressions.push({ key: m[1]!, operator: "DoesNotExist" });
    else if ((m = /^([A-Za-z0-9._/-]+)$/.exec(part))) sel.matchExpressions.push({ key: m[1]!, operator: "Exists" });
    else return { ok: false, error: `cannot parse label selector term ${JSON.stringify(part)} (use k=v, k!=v, k or !k)` };
  }
  return { ok: true, value: sel };
}
