// The findings of issue 12 through the chart's webhook configurations and the real kubectl: the
// webhook says what `hookguard lint examples/broken/` says, for the broken examples as shipped.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startE2e, type E2e } from "./harness.js";

let e: E2e;

before(async () => {
  e = await startE2e({ namespaces: ["demo"] });
});

after(async () => {
  await e?.stop();
});

describe("the webhook refuses what lint reports as errors", () => {
  test("hooks on a StatefulSet's own metadata: refused, naming the pod template", async () => {
    const r = await e.run("apply", "-f", "examples/broken/hooks-on-workload-metadata.yaml");
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(
      r.stderr,
      /denied the request: metadata\.annotations\["pre\.hook\.backup\.velero\.io\/command"\]: Velero runs only pods' hooks; move it to spec\.template\.metadata\.annotations/,
    );
  });

  test("/bin/sh -c as one string: refused with the JSON array of the same words", async () => {
    const r = await e.run("apply", "-f", "examples/broken/shell-string-command.yaml");
    assert.notEqual(r.code, 0, r.stdout);
    assert.ok(
      r.stderr.includes(`is one program name, not a shell call; write ["/bin/sh","-c","sync && echo done"]`),
      r.stderr,
    );
  });

  test("a one-shot FLUSH TABLES WITH READ LOCK: admitted, with a warning that keeps its fix", async () => {
    const r = await e.run("apply", "-f", "examples/broken/one-shot-database-locks.yaml");
    assert.equal(r.code, 0, r.stderr);
    const warnings = r.stderr.split("\n").filter((l) => l.startsWith("Warning: "));
    assert.ok(
      warnings.includes(
        "Warning: pre.hook.backup.velero.io/command: FLUSH TABLES WITH READ LOCK ends as mysql exits; freeze the volume instead",
      ),
      r.stderr,
    );
    assert.ok(
      warnings.includes(
        `Warning: pre.hook.backup.velero.io/command: image "postgres:16-alpine" has no bash (Alpine ships BusyBox sh); use /bin/sh`,
      ),
      r.stderr,
    );
    assert.ok(
      warnings.every((w) => !w.includes("...")),
      "each fits whole",
    );
  });
});
