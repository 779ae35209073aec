import { test } from "node:test";
import assert from "node:assert/strict";
import { seededInts } from "../helpers/seeded-random.js";
import { annotationPath, levenshtein } from "../../src/domain/findings.js";

/** The textbook full-matrix distance, as the oracle. */
function reference(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(
        d[i - 1]![j]! + 1,
        d[i]![j - 1]! + 1,
        d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
  return d[a.length]![b.length]!;
}

test("levenshtein gives the edit distance, and more than the bound past it, for short and long strings", () => {
  const next = seededInts(5);
  const word = (max: number): string => Array.from({ length: next(max) }, () => "abcd./-"[next(7)]).join("");
  const pairs: Array<[string, string]> = [
    ["kubectl.kubernetes.io", "hook.backup.velero.io"],
    ["pre.hook.backup.velero.io", "pre.hook.backup.velero.oi"],
    ["", "abc"],
    ["x".repeat(400), "y".repeat(401)], // longer than the shared row
  ];
  for (let k = 0; k < 400; k++) pairs.push([word(12), word(12)]);
  for (const [a, b] of pairs) {
    const want = reference(a, b);
    assert.equal(levenshtein(a, b), want, `${a} / ${b}`);
    for (const bound of [0, 1, 2, 5]) {
      const got = levenshtein(a, b, bound);
      if (want <= bound) assert.equal(got, want, `${a} / ${b} / ${bound}`);
      else assert.ok(got > bound, `${a} / ${b} / ${bound}: ${got}`);
    }
  }
});

test("annotation paths quote the key, under any prefix, however many distinct keys were seen", () => {
  for (let i = 0; i < 1500; i++) {
    const key = `example.com/key-${i}"\\`;
    const prefix = i % 2 ? "spec.template." : "";
    const want = `${prefix}metadata.annotations[${JSON.stringify(key)}]`;
    assert.equal(annotationPath(prefix, key), want);
    assert.equal(annotationPath(prefix, key), want);
  }
});
