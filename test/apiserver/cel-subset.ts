// An honest evaluator for the small CEL subset webhook matchConditions use here: field selection,
// index, has(), .exists/.all(v, pred) over lists and map keys, .matches/.startsWith/.endsWith/
// .contains, size(), ==, !=, <, <=, >, >=, in, !, &&, ||, ?:, string/int/bool/null literals and
// list literals. && and || follow CEL's commutative error semantics (true || error is true). Anything
// outside the subset is a CelError naming the construct: never a silent true.

export class CelError extends Error {}

type Node =
  | { t: "lit"; v: unknown }
  | { t: "ident"; name: string }
  | { t: "select"; obj: Node; field: string }
  | { t: "index"; obj: Node; idx: Node }
  | { t: "call"; target: Node | undefined; fn: string; args: Node[] }
  | { t: "list"; items: Node[] }
  | { t: "unary"; op: "!" | "-"; x: Node }
  | { t: "bin"; op: string; l: Node; r: Node }
  | { t: "cond"; c: Node; a: Node; b: Node };

interface Tok {
  k: "id" | "str" | "num" | "op" | "end";
  v: string;
  pos: number;
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < src.length && /[A-Za-z0-9_]/.test(src[j]!)) j++;
      out.push({ k: "id", v: src.slice(i, j), pos: i });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i;
      while (j < src.length && /[0-9]/.test(src[j]!)) j++;
      if (src[j] === "." || src[j] === "e" || src[j] === "u" || src[j] === "x")
        throw new CelError(`unsupported numeric literal at ${i} (only decimal ints are in the subset)`);
      out.push({ k: "num", v: src.slice(i, j), pos: i });
      i = j;
      continue;
    }
    if (c === '"' || c === "'") {
      if (src.startsWith(c.repeat(3), i))
        throw new CelError("triple-quoted strings are not in the supported CEL subset");
      let j = i + 1;
      let s = "";
      while (j < src.length && src[j] !== c) {
        if (src[j] === "\\") {
          const n = src[j + 1];
          const map: Record<string, string> = {
            n: "\n",
            t: "\t",
            r: "\r",
            "\\": "\\",
            '"': '"',
            "'": "'",
            "/": "/",
          };
          if (n === undefined || map[n] === undefined)
            throw new CelError(`unsupported escape sequence \\${n ?? ""} in string literal`);
          s += map[n];
          j += 2;
        } else s += src[j++];
      }
      if (j >= src.length) throw new CelError("unterminated string literal");
      out.push({ k: "str", v: s, pos: i });
      i = j + 1;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (["==", "!=", "<=", ">=", "&&", "||"].includes(two)) {
      out.push({ k: "op", v: two, pos: i });
      i += 2;
      continue;
    }
    if ("()[].,!<>?:-".includes(c)) {
      out.push({ k: "op", v: c, pos: i });
      i++;
      continue;
    }
    throw new CelError(`unsupported character '${c}' at ${i} (outside the supported CEL subset)`);
  }
  out.push({ k: "end", v: "", pos: src.length });
  return out;
}

export function parseCel(src: string): Node {
  const toks = tokenize(src);
  let p = 0;
  const peek = (): Tok => toks[p]!;
  const eat = (v: string): boolean => {
    if (peek().k === "op" && peek().v === v) {
      p++;
      return true;
    }
    return false;
  };
  const expect = (v: string): void => {
    if (!eat(v))
      throw new CelError(`expected '${v}' at ${peek().pos}, found '${peek().v || "end of expression"}'`);
  };
  const cond = (): Node => {
    const c = or();
    if (eat("?")) {
      const a = cond();
      expect(":");
      return { t: "cond", c, a, b: cond() };
    }
    return c;
  };
  const or = (): Node => {
    let l = and();
    while (eat("||")) l = { t: "bin", op: "||", l, r: and() };
    return l;
  };
  const and = (): Node => {
    let l = rel();
    while (eat("&&")) l = { t: "bin", op: "&&", l, r: rel() };
    return l;
  };
  const rel = (): Node => {
    let l = unary();
    for (;;) {
      const t = peek();
      if (t.k === "op" && ["==", "!=", "<", "<=", ">", ">="].includes(t.v)) {
        p++;
        l = { t: "bin", op: t.v, l, r: unary() };
      } else if (t.k === "id" && t.v === "in") {
        p++;
        l = { t: "bin", op: "in", l, r: unary() };
      } else return l;
    }
  };
  const unary = (): Node => {
    if (eat("!")) return { t: "unary", op: "!", x: unary() };
    if (eat("-")) return { t: "unary", op: "-", x: unary() };
    return member();
  };
  const member = (): Node => {
    let n = primary();
    for (;;) {
      if (eat(".")) {
        const id = peek();
        if (id.k !== "id") throw new CelError(`expected a field name at ${id.pos}`);
        p++;
        if (eat("(")) n = { t: "call", target: n, fn: id.v, args: args() };
        else n = { t: "select", obj: n, field: id.v };
      } else if (eat("[")) {
        const idx = cond();
        expect("]");
        n = { t: "index", obj: n, idx };
      } else return n;
    }
  };
  const args = (): Node[] => {
    const a: Node[] = [];
    if (eat(")")) return a;
    do a.push(cond());
    while (eat(","));
    expect(")");
    return a;
  };
  const primary = (): Node => {
    const t = peek();
    if (t.k === "str") {
      p++;
      return { t: "lit", v: t.v };
    }
    if (t.k === "num") {
      p++;
      return { t: "lit", v: Number(t.v) };
    }
    if (t.k === "id") {
      p++;
      if (t.v === "true" || t.v === "false") return { t: "lit", v: t.v === "true" };
      if (t.v === "null") return { t: "lit", v: null };
      if (eat("(")) return { t: "call", target: undefined, fn: t.v, args: args() };
      return { t: "ident", name: t.v };
    }
    if (eat("(")) {
      const e = cond();
      expect(")");
      return e;
    }
    if (eat("[")) {
      const items: Node[] = [];
      if (!eat("]")) {
        do items.push(cond());
        while (eat(","));
        expect("]");
      }
      return { t: "list", items };
    }
    throw new CelError(`unexpected '${t.v || "end of expression"}' at ${t.pos}`);
  };
  const e = cond();
  if (peek().k !== "end") throw new CelError(`unexpected '${peek().v}' at ${peek().pos}`);
  return e;
}

type Env = Record<string, unknown>;

function typeName(v: unknown): string {
  if (v === null || v === undefined) return "null_type";
  if (Array.isArray(v)) return "list";
  if (typeof v === "object") return "map";
  if (typeof v === "number") return "int";
  return typeof v === "boolean" ? "bool" : "string";
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function equal(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && equal(a[k], b[k]));
  }
  return a === b;
}

function toRegex(re: string): RegExp {
  // RE2 syntax overlaps JavaScript's for the patterns used; constructs JS lacks or reads differently are refused.
  if (/\(\?[imsU]|\\[zAQE]|\[\[:/.test(re))
    throw new CelError(`regular expression '${re}' uses RE2 syntax outside the supported subset`);
  try {
    return new RegExp(re, "u");
  } catch (e) {
    throw new CelError(`invalid regular expression '${re}': ${(e as Error).message}`);
  }
}

function evalNode(n: Node, env: Env): unknown {
  switch (n.t) {
    case "lit":
      return n.v;
    case "ident":
      if (!(n.name in env)) throw new CelError(`undeclared reference to '${n.name}' (in container '')`);
      return env[n.name];
    case "select": {
      const o = evalNode(n.obj, env);
      if (!isMap(o)) throw new CelError(`no such key: ${n.field}`);
      if (!(n.field in o) || o[n.field] === undefined) throw new CelError(`no such key: ${n.field}`);
      return o[n.field];
    }
    case "index": {
      const o = evalNode(n.obj, env);
      const i = evalNode(n.idx, env);
      if (Array.isArray(o) && typeof i === "number") {
        if (i < 0 || i >= o.length) throw new CelError(`index out of bounds: ${i}`);
        return o[i];
      }
      if (isMap(o) && typeof i === "string") {
        if (!(i in o)) throw new CelError(`no such key: ${i}`);
        return o[i];
      }
      throw new CelError(`no such overload: ${typeName(o)}[${typeName(i)}]`);
    }
    case "list":
      return n.items.map((x) => evalNode(x, env));
    case "unary": {
      const v = evalNode(n.x, env);
      if (n.op === "!") {
        if (typeof v !== "boolean") throw new CelError(`no such overload: !${typeName(v)}`);
        return !v;
      }
      if (typeof v !== "number") throw new CelError(`no such overload: -${typeName(v)}`);
      return -v;
    }
    case "cond": {
      const c = evalNode(n.c, env);
      if (typeof c !== "boolean") throw new CelError(`no such overload: ${typeName(c)} ? _ : _`);
      return c ? evalNode(n.a, env) : evalNode(n.b, env);
    }
    case "bin":
      return evalBinary(n, env);
    case "call":
      return evalCall(n, env);
  }
}

function tryEval(n: Node, env: Env): { v?: unknown; err?: CelError } {
  try {
    return { v: evalNode(n, env) };
  } catch (e) {
    if (e instanceof CelError) return { err: e };
    throw e;
  }
}

function evalBinary(n: Extract<Node, { t: "bin" }>, env: Env): unknown {
  if (n.op === "||" || n.op === "&&") {
    const short = n.op === "||";
    const l = tryEval(n.l, env);
    if (l.err === undefined && l.v === short) return short;
    const r = tryEval(n.r, env);
    if (r.err === undefined && r.v === short) return short;
    if (l.err) throw l.err;
    if (r.err) throw r.err;
    if (typeof l.v !== "boolean" || typeof r.v !== "boolean")
      throw new CelError(`no such overload: ${typeName(l.v)} ${n.op} ${typeName(r.v)}`);
    return !short;
  }
  const l = evalNode(n.l, env);
  const r = evalNode(n.r, env);
  switch (n.op) {
    case "==":
      return equal(l, r);
    case "!=":
      return !equal(l, r);
    case "in":
      if (Array.isArray(r)) return r.some((x) => equal(x, l));
      if (isMap(r)) return typeof l === "string" && l in r;
      throw new CelError(`no such overload: ${typeName(l)} in ${typeName(r)}`);
    default: {
      if (typeof l !== typeof r || (typeof l !== "number" && typeof l !== "string"))
        throw new CelError(`no such overload: ${typeName(l)} ${n.op} ${typeName(r)}`);
      const a = l as number | string;
      const b = r as number | string;
      return n.op === "<" ? a < b : n.op === "<=" ? a <= b : n.op === ">" ? a > b : a >= b;
    }
  }
}

function evalCall(n: Extract<Node, { t: "call" }>, env: Env): unknown {
  if (n.target === undefined) {
    if (n.fn === "has") {
      const a = n.args[0];
      if (n.args.length !== 1 || !a || a.t !== "select")
        throw new CelError("invalid argument to has() macro");
      const o = evalNode(a.obj, env);
      if (!isMap(o)) throw new CelError(`no such key: ${a.field}`);
      return a.field in o && o[a.field] !== undefined && o[a.field] !== null;
    }
    if (n.fn === "size" && n.args.length === 1) return size(evalNode(n.args[0]!, env));
    throw new CelError(`function '${n.fn}' is not in the supported CEL subset`);
  }
  if (n.fn === "exists" || n.fn === "all") {
    const [v, pred] = n.args;
    if (n.args.length !== 2 || v?.t !== "ident" || !pred)
      throw new CelError(`invalid arguments to ${n.fn}() macro`);
    const coll = evalNode(n.target, env);
    const items = Array.isArray(coll) ? coll : isMap(coll) ? Object.keys(coll) : undefined;
    if (!items) throw new CelError(`no such overload: ${typeName(coll)}.${n.fn}`);
    let firstErr: CelError | undefined;
    for (const item of items) {
      const r = tryEval(pred, { ...env, [v.name]: item });
      if (r.err) {
        firstErr ??= r.err;
        continue;
      }
      if (typeof r.v !== "boolean")
        throw new CelError(`no such overload: ${n.fn} predicate returned ${typeName(r.v)}`);
      if (n.fn === "exists" && r.v) return true;
      if (n.fn === "all" && !r.v) return false;
    }
    if (firstErr) throw firstErr;
    return n.fn === "all";
  }
  if (!["matches", "startsWith", "endsWith", "contains", "size"].includes(n.fn))
    throw new CelError(`function '${n.fn}' is not in the supported CEL subset`);
  const target = evalNode(n.target, env);
  const args = n.args.map((a) => evalNode(a, env));
  const str = (): string => {
    if (typeof target !== "string" || args.length !== 1 || typeof args[0] !== "string") {
      throw new CelError(`no such overload: ${typeName(target)}.${n.fn}(${args.map(typeName).join(", ")})`);
    }
    return args[0];
  };
  switch (n.fn) {
    case "matches":
      return toRegex(str()).test(target as string);
    case "startsWith":
      return (target as string).startsWith(str());
    case "endsWith":
      return (target as string).endsWith(str());
    case "contains":
      return (target as string).includes(str());
    case "size":
      if (args.length === 0) return size(target);
      break;
  }
  throw new CelError(`function '${n.fn}' is not in the supported CEL subset`);
}

function size(v: unknown): number {
  if (typeof v === "string") return [...v].length;
  if (Array.isArray(v)) return v.length;
  if (isMap(v)) return Object.keys(v).length;
  throw new CelError(`no such overload: size(${typeName(v)})`);
}

/** Evaluates a boolean expression; CelError for parse/eval errors or a non-bool result. */
export function evaluateCel(src: string, env: Env): boolean {
  const v = evalNode(parseCel(src), env);
  if (typeof v !== "boolean") throw new CelError(`expression must evaluate to a bool, got ${typeName(v)}`);
  return v;
}
