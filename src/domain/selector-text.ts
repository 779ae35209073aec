// A label selector written as text, the way `kubectl -l` and `velero backup create -l` take it
// (`--backup-selector`, `backup create --selector/--or-selector`, `backup plan --selector`):
// equality-based and set-based terms, turned into the LabelSelector the rest of the domain matches with.
import type { LabelSelector, Result } from "./types.js";

const KEY = "[A-Za-z0-9._/-]+";
const VALUE = "[A-Za-z0-9._-]*";
const VALUE_RE = new RegExp(`^${VALUE}$`);

/** Splits on commas outside parentheses: `app in (a,b),tier` is two terms. */
function splitTerms(text: string): string[] | undefined {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    if (depth < 0 || depth > 1) return undefined;
    if (c === "," && depth === 0) {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) return undefined;
  terms.push(text.slice(start));
  return terms;
}

const USAGE = "use k=v, k!=v, k, !k, k in (v1,v2) or k notin (v1,v2)";

/** kubectl's -l syntax: `a=b,c!=d,e,!f,g in (x,y),h notin (z)`. */
export function parseLabelSelector(text: string): Result<LabelSelector, string> {
  const sel: Required<LabelSelector> = { matchLabels: {}, matchExpressions: [] };
  const terms = splitTerms(text);
  if (!terms) return { ok: false, error: `unbalanced parentheses in label selector ${JSON.stringify(text)}` };
  for (const raw of terms) {
    const part = raw.trim();
    if (part === "") return { ok: false, error: `empty term in label selector ${JSON.stringify(text)}` };
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^()]*)\\)$`).exec(part))) {
      const values = m[3]!.split(",").map((v) => v.trim());
      const bad = values.find((v) => v === "" || !VALUE_RE.test(v));
      if (bad !== undefined)
        return {
          ok: false,
          error: `label selector term ${JSON.stringify(part)}: ${bad === "" ? "empty value" : `invalid value ${JSON.stringify(bad)}`} in the set`,
        };
      sel.matchExpressions.push({ key: m[1]!, operator: m[2] === "in" ? "In" : "NotIn", values });
    } else if ((m = new RegExp(`^(${KEY})\\s*!=\\s*(${VALUE})$`).exec(part)))
      sel.matchExpressions.push({ key: m[1]!, operator: "NotIn", values: [m[2]!] });
    else if ((m = new RegExp(`^(${KEY})\\s*==?\\s*(${VALUE})$`).exec(part))) {
      // a second k=v for the same key is a second requirement (kubectl ANDs them), not an overwrite
      if (m[1]! in sel.matchLabels && sel.matchLabels[m[1]!] !== m[2]!)
        sel.matchExpressions.push({ key: m[1]!, operator: "In", values: [m[2]!] });
      else sel.matchLabels[m[1]!] = m[2]!;
    } else if ((m = new RegExp(`^!\\s*(${KEY})$`).exec(part)))
      sel.matchExpressions.push({ key: m[1]!, operator: "DoesNotExist" });
    else if ((m = new RegExp(`^(${KEY})$`).exec(part)))
      sel.matchExpressions.push({ key: m[1]!, operator: "Exists" });
    else return { ok: false, error: `cannot parse label selector term ${JSON.stringify(part)} (${USAGE})` };
  }
  return { ok: true, value: sel };
}

/** Velero's `--or-selector`: selectors separated by " or " (`app=a or tier in (db,cache)`); an item matching any one is selected. */
export function parseOrLabelSelectors(text: string): Result<LabelSelector[], string> {
  const out: LabelSelector[] = [];
  for (const one of text.split(/\s+or\s+/)) {
    const sel = parseLabelSelector(one.trim());
    if (!sel.ok) return sel;
    out.push(sel.value);
  }
  return { ok: true, value: out };
}
