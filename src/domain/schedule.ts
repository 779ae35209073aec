// A Schedule's `spec.schedule`, parsed exactly as Velero parses it (robfig/cron v3's standard
// parser): an optional `CRON_TZ=<zone> ` or `TZ=<zone> ` prefix; then either a descriptor
// (@yearly @annually @monthly @weekly @daily @midnight @hourly, or `@every <Go duration>`) or exactly
// five fields, minute hour day-of-month month day-of-week. Fields take `*`, `?`, numbers, names
// (JAN-DEC, SUN-SAT, any case), ranges `a-b`, steps `/n` and comma lists. Day matching is robfig's:
// when day-of-month or day-of-week starts with `*` or `?` (and has no step above 1) both must
// match, otherwise either may. Messages are hookguard's own. Pure: the time zone is checked with
// Intl, no I/O.
import { parseGoDuration } from "./duration.js";
import type { Result } from "./types.js";

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly FieldDef[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
  },
  { name: "day-of-week", min: 0, max: 6, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

const DESCRIPTORS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const FORM = "minute hour day-of-month month day-of-week";

export type ScheduleSpec =
  | {
      kind: "cron";
      timezone: string;
      /** The allowed values of each field, ascending. */
      minute: number[];
      hour: number[];
      dayOfMonth: number[];
      month: number[];
      dayOfWeek: number[];
      /** robfig's star bit: a `*`/`?` day field (no step above 1) makes day matching an AND. */
      dayOfMonthStar: boolean;
      dayOfWeekStar: boolean;
      /**
       * The same schedule as five explicit fields, day fields written `*` when starred: a standard
       * 5-field cron line any Vixie-style evaluator reads with robfig's meaning.
       */
      normalized: string;
    }
  | {
      kind: "every";
      timezone: string;
      /** whole seconds, at least one (robfig rounds down, then up to 1s) */ everyMs: number;
    };

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Parses `spec.schedule`; the error says what is wrong and how Velero wants it written. */
export function parseSchedule(input: unknown): Result<ScheduleSpec, string> {
  if (typeof input !== "string" || input.trim() === "") {
    return {
      ok: false,
      error: `schedule is empty; write e.g. "0 2 * * *" (${FORM}), "@daily" or "@every 6h"`,
    };
  }
  let spec = input.trim();
  let timezone = "UTC";
  const tz = /^(CRON_TZ|TZ)=(\S*)(?:\s+(.*))?$/s.exec(spec);
  if (tz) {
    timezone = tz[2]!;
    if (tz[3] === undefined || tz[3].trim() === "")
      return {
        ok: false,
        error: `schedule ${JSON.stringify(input)} has a ${tz[1]}= prefix but no schedule after it`,
      };
    if (timezone === "" || !isTimeZone(timezone))
      return {
        ok: false,
        error: `schedule time zone ${JSON.stringify(timezone)} is not a known IANA zone; write e.g. ${tz[1]}=Europe/Berlin`,
      };
    spec = tz[3].trim();
  }
  if (spec.startsWith("@")) {
    const every = /^@every(?:\s+(.*))?$/s.exec(spec);
    if (every) {
      const text = (every[1] ?? "").trim();
      const d = parseGoDuration(text);
      if (!d.ok)
        return {
          ok: false,
          error: `schedule ${JSON.stringify(input)}: ${JSON.stringify(text)} is not a Go duration; write e.g. "@every 6h" or "@every 90m"`,
        };
      // robfig drops the sub-second part and runs at least every second
      const ms = Math.max(1000, Math.floor(d.value / 1e9) * 1000);
      return { ok: true, value: { kind: "every", timezone, everyMs: ms } };
    }
    // case-sensitive, as robfig's switch
    const fields = Object.hasOwn(DESCRIPTORS, spec) ? DESCRIPTORS[spec] : undefined;
    if (!fields) {
      return {
        ok: false,
        error: `schedule ${JSON.stringify(input)}: unknown descriptor ${JSON.stringify(spec)}; use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or "@every <duration>"`,
      };
    }
    spec = fields;
  }
  const parts = spec.split(/\s+/);
  if (parts.length !== 5) {
    const hint =
      parts.length === 6
        ? "Velero's parser has no seconds field; drop the first field"
        : parts.length < 5
          ? `e.g. "0 2 * * *" runs daily at 02:00`
          : "";
    return {
      ok: false,
      error: `schedule ${JSON.stringify(input)} has ${parts.length} fields; Velero takes exactly 5 (${FORM})${hint ? `: ${hint}` : ""}`,
    };
  }
  const values: number[][] = [];
  const stars: boolean[] = [];
  for (let i = 0; i < 5; i++) {
    const f = parseField(parts[i]!, FIELDS[i]!);
    if (!f.ok) return { ok: false, error: `schedule ${JSON.stringify(input)}: ${f.error}` };
    values.push(f.value.values);
    stars.push(f.value.star);
  }
  const list = (v: number[]): string => v.join(",");
  const normalized = [
    list(values[0]!),
    list(values[1]!),
    stars[2] ? "*" : list(values[2]!),
    list(values[3]!),
    stars[4] ? "*" : list(values[4]!),
  ].join(" ");
  return {
    ok: true,
    value: {
      kind: "cron",
      timezone,
      minute: values[0]!,
      hour: values[1]!,
      dayOfMonth: values[2]!,
      month: values[3]!,
      dayOfWeek: values[4]!,
      dayOfMonthStar: stars[2]!,
      dayOfWeekStar: stars[4]!,
      normalized,
    },
  };
}

function parseValue(text: string, f: FieldDef): Result<number, string> {
  const byName = f.names?.indexOf(text.toLowerCase()) ?? -1;
  if (byName >= 0) return { ok: true, value: byName + f.min };
  if (!/^\d+$/.test(text)) {
    const names = f.names ? ` or a name (${f.names[0]!.toUpperCase()}-${f.names.at(-1)!.toUpperCase()})` : "";
    return { ok: false, error: `${f.name} field: ${JSON.stringify(text)} is not a number${names}` };
  }
  return { ok: true, value: Number(text) };
}

function parseField(text: string, f: FieldDef): Result<{ values: number[]; star: boolean }, string> {
  const set = new Set<number>();
  let star = false;
  for (const part of text.split(",")) {
    if (part === "")
      return { ok: false, error: `${f.name} field ${JSON.stringify(text)} has an empty list element` };
    const slash = part.split("/");
    if (slash.length > 2)
      return { ok: false, error: `${f.name} field ${JSON.stringify(part)} has more than one "/"` };
    const range = slash[0]!.split("-");
    if (range.length > 2)
      return { ok: false, error: `${f.name} field ${JSON.stringify(part)} has more than one "-"` };
    let start: number;
    let end: number;
    let isStar = false;
    if (range[0] === "*" || range[0] === "?") {
      if (range.length > 1)
        return { ok: false, error: `${f.name} field ${JSON.stringify(part)}: "*" cannot start a range` };
      start = f.min;
      end = f.max;
      isStar = true;
    } else {
      const a = parseValue(range[0]!, f);
      if (!a.ok) return a;
      start = a.value;
      end = start;
      if (range.length === 2) {
        const b = parseValue(range[1]!, f);
        if (!b.ok) return b;
        end = b.value;
      }
    }
    let step = 1;
    if (slash.length === 2) {
      if (!/^\d+$/.test(slash[1]!) || Number(slash[1]) === 0)
        return {
          ok: false,
          error: `${f.name} field ${JSON.stringify(part)}: the step must be a whole number above 0`,
        };
      step = Number(slash[1]);
      // robfig: "N/step" means N through the field's maximum
      if (!isStar && range.length === 1) end = f.max;
      if (step > 1) isStar = false;
    }
    if (start < f.min || end > f.max)
      return {
        ok: false,
        error: `${f.name} field ${JSON.stringify(part)} is out of range ${f.min}-${f.max}`,
      };
    if (start > end)
      return { ok: false, error: `${f.name} field ${JSON.stringify(part)}: the range starts after it ends` };
    for (let v = start; v <= end; v += step) set.add(v);
    star ||= isStar;
  }
  return { ok: true, value: { values: [...set].sort((a, b) => a - b), star } };
}
