// Maps a finding's field path (e.g. `spec.template.metadata.annotations["k"]`) to a line of the
// YAML/JSON source through the yaml package's node ranges; falls back to the nearest ancestor.
import { type Document, type LineCounter, isNode } from "yaml";

export type PathSegment = string | number;

/** `a.b["c/d"][0].e` -> ["a", "b", "c/d", 0, "e"] */
export function splitFieldPath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  const re = /\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([^.[\]]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path)) !== null) {
    if (m[1] !== undefined) out.push(Number(m[1]));
    else if (m[2] !== undefined) out.push(JSON.parse(m[2]) as string);
    else if (m[3] !== undefined) out.push(m[3]);
  }
  return out;
}

/** 1-based line of the deepest existing node on the path under `base`. */
export function lineOf(
  doc: Document,
  counter: LineCounter,
  base: PathSegment[],
  path: string,
): number | undefined {
  const segments = [...base, ...splitFieldPath(path)];
  for (let n = segments.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(segments.slice(0, n), true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}
