// Go's renderings that show up in Velero's logs and status, written independently of src/domain
// (hookguard deliberately differs from Velero; this double must not): strconv.Quote (logrus' %q),
// time.ParseDuration and time.Duration.String.

/** Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u;

/** strconv.Quote: what fmt's %q prints for a string. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case "\\":
        out += "\\\\";
        continue;
      case "\x07":
        out += "\\a";
        continue;
      case "\b":
        out += "\\b";
        continue;
      case "\f":
        out += "\\f";
        continue;
      case "\n":
        out += "\\n";
        continue;
      case "\r":
        out += "\\r";
        continue;
      case "\t":
        out += "\\t";
        continue;
      case "\v":
        out += "\\v";
        continue;
    }
    if (ch === " " || PRINTABLE.test(ch)) out += ch;
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp >= 0xd800 && cp <= 0xdfff)
      out += "\\ufffd"; // a lone surrogate is not valid UTF-8
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return out + '"';
}

const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

export type DurationResult = { ok: true; ns: number } | { ok: false; error: string };

/** time.ParseDuration, with Go's error texts (`time: missing unit in duration "300"`). */
export function parseGoDuration(input: string): DurationResult {
  const quoted = goQuote(input);
  let s = input;
  let neg = false;
  if (s !== "" && (s[0] === "-" || s[0] === "+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return { ok: true, ns: 0 };
  if (s === "") return { ok: false, error: `time: invalid duration ${quoted}` };
  let total = 0;
  while (s !== "") {
    const num = /^(\d*)(\.(\d*))?/.exec(s)!;
    const whole = num[1] ?? "";
    const frac = num[3] ?? "";
    if (whole === "" && frac === "") return { ok: false, error: `time: invalid duration ${quoted}` };
    if (num[2] !== undefined && whole === "" && frac === "")
      return { ok: false, error: `time: invalid duration ${quoted}` };
    s = s.slice(num[0].length);
    const unit = /^[^\d.]*/.exec(s)![0];
    if (unit === "") return { ok: false, error: `time: missing unit in duration ${quoted}` };
    const mult = UNITS[unit];
    if (mult === undefined)
      return { ok: false, error: `time: unknown unit ${goQuote(unit)} in duration ${quoted}` };
    s = s.slice(unit.length);
    total += (Number(whole || "0") + (frac ? Number(`0.${frac}`) : 0)) * mult;
    // Go durations are int64 nanoseconds; a double is exact enough to tell overflow (2^63)
    if (total > 2 ** 63 - 1) return { ok: false, error: `time: invalid duration ${quoted}` };
  }
  return { ok: true, ns: Math.round(neg ? -total : total) };
}

/** time.Duration.String: "30s", "1h30m0s", "1.5s", "250ms", "0s". */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < 1e9) {
    const [unit, div] = u < 1e3 ? ["ns", 1] : u < 1e6 ? ["µs", 1e3] : ["ms", 1e6];
    out = `${trimFraction(u / (div as number))}${unit}`;
  } else {
    const h = Math.floor(u / 3600e9);
    u -= h * 3600e9;
    const m = Math.floor(u / 60e9);
    u -= m * 60e9;
    const secs = `${trimFraction(u / 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${secs}` : m > 0 ? `${m}m${secs}` : secs;
  }
  return neg ? `-${out}` : out;
}

function trimFraction(v: number): string {
  return String(Number(v.toFixed(9)));
}
