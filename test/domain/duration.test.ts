import { test } from "node:test";
import assert from "node:assert/strict";
import { seededInts } from "../helpers/seeded-random.js";
import { formatGoDuration, parseGoDuration } from "../../src/domain/index.js";

const S = 1e9;
const MS = 1e6;
const US = 1e3;
const MIN = 60 * S;
const H = 60 * MIN;

// Valid inputs and values from Go's own time_test.go parseDurationTests.
const valid: Array<[string, number]> = [
  ["0", 0],
  ["5s", 5 * S],
  ["30s", 30 * S],
  ["1478s", 1478 * S],
  ["-5s", -5 * S],
  ["+5s", 5 * S],
  ["-0", 0],
  ["+0", 0],
  ["0s", 0],
  ["5.0s", 5 * S],
  ["5.6s", 5 * S + 600 * MS],
  ["5.s", 5 * S],
  [".5s", 500 * MS],
  ["1.0s", S],
  ["1.00s", S],
  ["1.004s", S + 4 * MS],
  ["1.0040s", S + 4 * MS],
  ["100.00100s", 100 * S + MS],
  ["10ns", 10],
  ["11us", 11 * US],
  ["12\u00b5s", 12 * US],
  ["12\u03bcs", 12 * US],
  ["13ms", 13 * MS],
  ["14s", 14 * S],
  ["15m", 15 * MIN],
  ["16h", 16 * H],
  ["3h30m", 3 * H + 30 * MIN],
  ["90m", 90 * MIN],
  ["10.5s4m", 4 * MIN + 10.5 * S],
  ["-2m3.4s", -(2 * MIN + 3.4 * S)],
  ["1h2m3s4ms5us6ns", H + 2 * MIN + 3 * S + 4 * MS + 5 * US + 6],
  ["39h9m14.425s", 39 * H + 9 * MIN + 14.425 * S],
  ["52763797000ns", 52763797000],
  ["0.3333333333333333333h", 20 * MIN],
  ["-9223372036854775808ns", -(2 ** 63)],
  ["-2562047h47m16.854775808s", -(2 ** 63)],
  ["0.100000000000000000000h", 6 * MIN],
  ["0.830103483285477580700h", 49 * MIN + 48 * S + 372539827],
];

test("parseGoDuration accepts what Go's time.ParseDuration accepts, with the same value", () => {
  for (const [text, ns] of valid) {
    assert.deepEqual(parseGoDuration(text), { ok: true, value: ns }, text);
  }
});

// Error texts exactly as Go prints them.
const invalid: Array<[string, string]> = [
  ["", `time: invalid duration ""`],
  ["3", `time: missing unit in duration "3"`],
  ["300", `time: missing unit in duration "300"`],
  ["-", `time: invalid duration "-"`],
  ["s", `time: invalid duration "s"`],
  [".", `time: invalid duration "."`],
  ["-.", `time: invalid duration "-."`],
  [".s", `time: invalid duration ".s"`],
  ["+.s", `time: invalid duration "+.s"`],
  ["1d", `time: unknown unit "d" in duration "1d"`],
  ["30 seconds", `time: unknown unit " seconds" in duration "30 seconds"`],
  ["1h 30m", `time: unknown unit "h " in duration "1h 30m"`],
  ["5S", `time: unknown unit "S" in duration "5S"`],
  ["1\u00e9", `time: unknown unit "\\xc3\\xa9" in duration "1\\xc3\\xa9"`],
  ['1"x', `time: unknown unit "\\"x" in duration "1\\"x"`],
  ["9223372036854775808ns", `time: invalid duration "9223372036854775808ns"`],
  ["9223372036854775.808us", `time: invalid duration "9223372036854775.808us"`],
  ["9223372036854ms775us808ns", `time: invalid duration "9223372036854ms775us808ns"`],
  ["-9223372036854775809ns", `time: invalid duration "-9223372036854775809ns"`],
];

test("parseGoDuration rejects what Go rejects, with Go's exact error text", () => {
  for (const [text, message] of invalid) {
    assert.deepEqual(parseGoDuration(text), { ok: false, error: message }, text);
  }
});

// Go's durationTests (String()).
const formats: Array<[number, string]> = [
  [0, "0s"],
  [1, "1ns"],
  [1100, "1.1\u00b5s"],
  [2200 * US, "2.2ms"],
  [3300 * MS, "3.3s"],
  [4 * MIN + 5 * S, "4m5s"],
  [4 * MIN + 5001 * MS, "4m5.001s"],
  [5 * H + 6 * MIN + 7001 * MS, "5h6m7.001s"],
  [8 * MIN + 1, "8m0.000000001s"],
  [-(2 ** 63), "-2562047h47m16.854775808s"],
  [90 * MIN, "1h30m0s"],
  [30 * S, "30s"],
  [1.5 * S, "1.5s"],
  [100 * MS, "100ms"],
  [-5 * S, "-5s"],
  [H, "1h0m0s"],
];

test("formatGoDuration prints Go's canonical Duration.String form", () => {
  for (const [ns, text] of formats) assert.equal(formatGoDuration(ns), text, text);
});

test("parse then format round-trips to Go's canonical form", () => {
  for (const [text, canonical] of [
    ["90m", "1h30m0s"],
    ["1h30m", "1h30m0s"],
    ["0.5m", "30s"],
    ["1500ms", "1.5s"],
    ["-0", "0s"],
  ]) {
    const parsed = parseGoDuration(text!);
    assert.ok(parsed.ok, text);
    assert.equal(formatGoDuration(parsed.value), canonical);
  }
});

test("very long inputs are rejected without blowing the stack", () => {
  const long = `1${"x".repeat(300_000)}`;
  const r = parseGoDuration(long);
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.error.startsWith(`time: unknown unit "xxx`));
});

test("integer durations with ASCII units, the ones people write, have the exact Go value at any size", () => {
  // The webhook parses these on a fast path of plain numbers (exact below 2^53 ns) and falls back to
  // the byte-level parser beyond; the expected values here are BigInt sums, independent of both.
  const units: Array<[string, bigint]> = [
    ["ns", 1n],
    ["us", 1_000n],
    ["ms", 1_000_000n],
    ["s", 1_000_000_000n],
    ["m", 60_000_000_000n],
    ["h", 3_600_000_000_000n],
  ];
  const next = seededInts(17);
  const cases = ["2501999h", "2502h", "9007199254740991ns", "9007199254740993ns", "104d", "1h30m", "0s0ms"];
  for (let k = 0; k < 2000; k++) {
    let text = "";
    for (let c = 0, parts = 1 + next(4); c < parts; c++) {
      const digits = 1 + next(17);
      for (let d = 0; d < digits; d++) text += String(next(10));
      text += units[next(units.length)]![0];
    }
    cases.push(text);
  }
  for (const text of cases) {
    let total = 0n;
    let valid = true;
    for (const m of text.matchAll(/(\d+)([a-z]+)/g)) {
      const unit = units.find(([u]) => u === m[2]);
      if (!unit) valid = false;
      else total += BigInt(m[1]!) * unit[1];
    }
    const parsed = parseGoDuration(text);
    if (!valid || total > 2n ** 63n - 1n) assert.equal(parsed.ok, false, text);
    else assert.deepEqual(parsed, { ok: true, value: Number(total) }, text);
  }
});
