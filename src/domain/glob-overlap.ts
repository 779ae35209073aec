// Whether namespace globs can ever meet: the languages of gobwas/glob patterns (as Velero matches
// namespaces, see selection.ts) over the characters a namespace name may hold (DNS-1123 labels:
// a-z, 0-9, '-'). Patterns are small, so plain automata suffice: braces are expanded into
// alternatives, `*` is a self-loop, and inclusion determinises the covering pattern on the fly.
// Every answer is "provably": when a pattern is invalid or too large to expand, callers get
// undefined and say nothing.

type Token =
  { t: "lit"; c: string } | { t: "any" } | { t: "star" } | { t: "class"; chars: string; negate: boolean };
type Alternatives = Token[][];

export const NAMESPACE_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-";
const MAX_ALTERNATIVES = 64;
const MAX_STATES = 20_000;

function expandClass(body: string): string {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    if (body[i + 1] === "-" && i + 2 < body.length) {
      for (let c = body.charCodeAt(i); c <= body.charCodeAt(i + 2); c++) out += String.fromCharCode(c);
      i += 2;
    } else out += body[i];
  }
  return out;
}

/** Brace-free alternatives of a gobwas glob; undefined when it does not compile or expands too far. */
export function globAlternatives(pattern: string): Alternatives | undefined {
  let i = 0;
  // seq := (token | "{" seq ("," seq)* "}")*, stopping at "," or "}" inside braces
  function seq(depth: number): Alternatives | undefined {
    let alts: Alternatives = [[]];
    const append = (tok: Token) => alts.forEach((a) => a.push(tok));
    while (i < pattern.length) {
      const c = pattern[i]!;
      if (depth > 0 && (c === "," || c === "}")) return alts;
      i++;
      if (c === "\\") {
        if (i >= pattern.length) return undefined;
        append({ t: "lit", c: pattern[i++]! });
      } else if (c === "*") append({ t: "star" });
      else if (c === "?") append({ t: "any" });
      else if (c === "[") {
        const end = pattern.indexOf("]", i);
        if (end < 0) return undefined;
        let body = pattern.slice(i, end);
        const negate = body.startsWith("!");
        if (negate) body = body.slice(1);
        if (body === "") return undefined;
        append({ t: "class", chars: expandClass(body), negate });
        i = end + 1;
      } else if (c === "{") {
        const options: Alternatives = [];
        for (;;) {
          const inner = seq(depth + 1);
          if (!inner || i >= pattern.length) return undefined;
          options.push(...inner);
          if (pattern[i++] === "}") break;
        }
        const next: Alternatives = [];
        for (const a of alts) for (const o of options) next.push([...a, ...o]);
        if (next.length > MAX_ALTERNATIVES) return undefined;
        alts = next;
      } else append({ t: "lit", c });
    }
    return depth === 0 ? alts : undefined;
  }
  return seq(0);
}

function accepts(tok: Token | undefined, c: string): boolean {
  if (!tok) return false;
  switch (tok.t) {
    case "lit":
      return tok.c === c;
    case "any":
    case "star":
      return true;
    case "class":
      return tok.chars.includes(c) !== tok.negate;
  }
}

/** Positions reachable without consuming a character (past any `*`). */
function closure(alt: Token[], pos: number): number[] {
  const out = [pos];
  while (alt[pos]?.t === "star") out.push(++pos);
  return out;
}

function step(alt: Token[], pos: number, c: string): number | undefined {
  const tok = alt[pos];
  if (!accepts(tok, c)) return undefined;
  return tok!.t === "star" ? pos : pos + 1;
}

/** Whether some namespace name matches both patterns; undefined when that cannot be decided. */
export function globsMeet(a: string, b: string): boolean | undefined {
  const as = globAlternatives(a);
  const bs = globAlternatives(b);
  if (!as || !bs) return undefined;
  let visited = 0;
  for (const x of as) {
    for (const y of bs) {
      const seen = new Set<string>();
      const queue: Array<[number, number]> = [];
      const push = (i: number, j: number) => {
        for (const ci of closure(x, i)) {
          for (const cj of closure(y, j)) {
            const key = `${ci},${cj}`;
            if (!seen.has(key)) {
              seen.add(key);
              queue.push([ci, cj]);
            }
          }
        }
      };
      push(0, 0);
      while (queue.length > 0) {
        if (++visited > MAX_STATES) return undefined;
        const [i, j] = queue.shift()!;
        if (i === x.length && j === y.length) return true;
        for (const c of NAMESPACE_ALPHABET) {
          const ni = step(x, i, c);
          const nj = step(y, j, c);
          if (ni !== undefined && nj !== undefined) push(ni, nj);
        }
      }
    }
  }
  return false;
}

/** Whether some namespace name matches the pattern at all (a `.` or upper case makes it never). */
export function globMatchesSomeNamespace(pattern: string): boolean | undefined {
  return globsMeet(pattern, "*");
}

/** Whether every namespace name `inner` matches, `outer` matches too; undefined when undecidable. */
export function globCovers(outer: string, inner: string): boolean | undefined {
  const os = globAlternatives(outer);
  const is = globAlternatives(inner);
  if (!os || !is) return undefined;
  // A set of outer states is a list of "alternative:position" keys, kept sorted for identity.
  const start = os.flatMap((alt, k) => closure(alt, 0).map((p) => `${k}:${p}`));
  const advance = (set: string[], c: string): string[] => {
    const next = new Set<string>();
    for (const key of set) {
      const [k, p] = key.split(":").map(Number) as [number, number];
      const n = step(os[k]!, p, c);
      if (n !== undefined) for (const q of closure(os[k]!, n)) next.add(`${k}:${q}`);
    }
    return [...next].sort();
  };
  const accepting = (set: string[]) =>
    set.some((key) => {
      const [k, p] = key.split(":").map(Number) as [number, number];
      return p === os[k]!.length;
    });
  let visited = 0;
  for (const alt of is) {
    const seen = new Set<string>();
    const queue: Array<[number, string[]]> = [];
    const push = (i: number, set: string[]) => {
      for (const ci of closure(alt, i)) {
        const key = `${ci}|${set.join(",")}`;
        if (!seen.has(key)) {
          seen.add(key);
          queue.push([ci, set]);
        }
      }
    };
    push(0, start.sort());
    while (queue.length > 0) {
      if (++visited > MAX_STATES) return undefined;
      const [i, set] = queue.shift()!;
      if (i === alt.length && !accepting(set)) return false;
      for (const c of NAMESPACE_ALPHABET) {
        const ni = step(alt, i, c);
        if (ni !== undefined) push(ni, advance(set, c));
      }
    }
  }
  return true;
}
