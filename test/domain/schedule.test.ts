// The Schedule grammar (robfig/cron's standard parser, as Velero uses it), table-tested, and the
// finding lint and the webhook report for a Schedule whose spec.schedule Velero would refuse.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSchedule, validateObject } from "../../src/domain/index.js";

const H = "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23";
const M = "1,2,3,4,5,6,7,8,9,10,11,12";
const accepted: Array<[string, string]> = [
  ["0 2 * * *", `0 2 * ${M} *`],
  ["*/15 * * * *", `0,15,30,45 ${H} * ${M} *`],
  ["0 0 1,15 * MON", `0 0 1,15 ${M} 1`],
  ["30 4 ? jan-mar sun-sat", "30 4 * 1,2,3 0,1,2,3,4,5,6"],
  ["5/20 0 1 * *", `5,25,45 0 1 ${M} *`],
  ["0 0 */2 * *", `0 0 1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31 ${M} *`],
  ["@daily", `0 0 * ${M} *`],
  ["@yearly", "0 0 1 1 *"],
  ["@weekly", `0 0 * ${M} 0`],
  ["CRON_TZ=Europe/Berlin 0 3 * * *", `0 3 * ${M} *`],
  ["TZ=America/New_York @hourly", `0 ${H} * ${M} *`],
];

for (const [spec, normalized] of accepted) {
  test(`schedule ${JSON.stringify(spec)} is accepted`, () => {
    const r = parseSchedule(spec);
    assert.ok(r.ok, !r.ok ? r.error : "");
    assert.equal(r.value.kind === "cron" ? r.value.normalized : r.value.kind, normalized);
  });
}

test("normalized fields are exact for the plain cases", () => {
  const r = parseSchedule("0 2 * * *");
  assert.ok(r.ok && r.value.kind === "cron");
  assert.deepEqual(
    [r.value.minute, r.value.hour, r.value.dayOfMonthStar, r.value.dayOfWeekStar],
    [[0], [2], true, true],
  );
  const d = parseSchedule("0 0 1,15 * MON");
  assert.ok(d.ok && d.value.kind === "cron");
  assert.deepEqual(
    [d.value.dayOfMonth, d.value.dayOfWeek, d.value.dayOfMonthStar, d.value.dayOfWeekStar],
    [[1, 15], [1], false, false],
  );
  const tz = parseSchedule("CRON_TZ=Europe/Berlin 0 3 * * *");
  assert.ok(tz.ok && tz.value.timezone === "Europe/Berlin");
});

test("@every takes a Go duration, whole seconds, at least one", () => {
  assert.deepEqual(parseSchedule("@every 6h"), {
    ok: true,
    value: { kind: "every", timezone: "UTC", everyMs: 6 * 3600_000 },
  });
  assert.deepEqual(parseSchedule("@every 1h30m"), {
    ok: true,
    value: { kind: "every", timezone: "UTC", everyMs: 90 * 60_000 },
  });
  assert.deepEqual(parseSchedule("@every 10ms"), {
    ok: true,
    value: { kind: "every", timezone: "UTC", everyMs: 1000 },
  });
});

const refused: Array<[string, RegExp]> = [
  [
    "0 2 * *",
    /^schedule "0 2 \* \*" has 4 fields; Velero takes exactly 5 \(minute hour day-of-month month day-of-week\): e\.g\. "0 2 \* \* \*" runs daily at 02:00$/,
  ],
  ["0 0 2 * * *", /has 6 fields; Velero takes exactly 5 .*no seconds field; drop the first field$/],
  ["61 * * * *", /minute field "61" is out of range 0-59/],
  ["0 0 * * 7", /day-of-week field "7" is out of range 0-6/],
  ["0 0 * FOO *", /month field: "FOO" is not a number or a name \(JAN-DEC\)/],
  ["*/0 * * * *", /the step must be a whole number above 0/],
  ["0 5-2 * * *", /hour field "5-2": the range starts after it ends/],
  ["@every 6", /"6" is not a Go duration; write e\.g\. "@every 6h"/],
  ["@fortnightly", /unknown descriptor "@fortnightly"/],
  ["@Daily", /unknown descriptor/],
  ["CRON_TZ=Mars/Olympus 0 * * * *", /time zone "Mars\/Olympus" is not a known IANA zone/],
  ["TZ=UTC", /has a TZ= prefix but no schedule after it/],
  ["", /^schedule is empty/],
];

for (const [spec, message] of refused) {
  test(`schedule ${JSON.stringify(spec)} is refused with a clear message`, () => {
    const r = parseSchedule(spec);
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.error, message);
    assert.doesNotMatch(r.ok ? "" : r.error, /croner|CronPattern/i);
  });
}

const schedule = (s: unknown) => ({
  apiVersion: "velero.io/v1",
  kind: "Schedule",
  metadata: { name: "s", namespace: "velero" },
  spec: { schedule: s, template: {} },
});

test("lint and the webhook (validateObject) refuse a Schedule Velero would refuse, and accept @every", () => {
  for (const bad of ["0 2 * *", "0 0 2 * * *", undefined]) {
    const f = validateObject(schedule(bad)).findings;
    assert.deepEqual(
      f.map((x) => [x.severity, x.code, x.path]),
      [["error", "invalid-schedule", "spec.schedule"]],
      String(bad),
    );
  }
  assert.deepEqual(validateObject(schedule("@every 6h")).findings, []);
  assert.deepEqual(validateObject(schedule("CRON_TZ=Europe/Berlin 0 3 * * 1-5")).findings, []);
});

test("hookguard lint reports the 4-field and 6-field forms at the schedule's line, with the fix", async () => {
  const { lintSource, formatText } = await import("../../src/lint/lint.js");
  const doc = (s: string) =>
    `apiVersion: velero.io/v1\nkind: Schedule\nmetadata:\n  name: nightly\n  namespace: velero\nspec:\n  schedule: "${s}"\n  template: {}\n`;
  const four = lintSource({ file: "s.yaml", text: doc("0 2 * *") });
  assert.deepEqual(four.findings.map(formatText), [
    's.yaml:7: error: Schedule velero/nightly: spec.schedule: schedule "0 2 * *" has 4 fields; Velero takes exactly 5 (minute hour day-of-month month day-of-week): e.g. "0 2 * * *" runs daily at 02:00',
  ]);
  const six = lintSource({ file: "s.yaml", text: doc("0 0 2 * * *") });
  assert.match(
    six.findings.map(formatText).join("\n"),
    /s\.yaml:7: error: .*spec\.schedule: .*has 6 fields.*drop the first field/,
  );
  assert.deepEqual(lintSource({ file: "s.yaml", text: doc("@every 6h") }).findings, []);
});
