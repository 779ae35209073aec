// Whether dist/ (tsc's output, what `npm ci` builds through `prepare`) still matches src/. Shared by
// the bin and the test runner. It compares every source file's mtime with the stamp that
// scripts/build.mjs writes only after a successful compile (dated when that compile STARTED, so an
// edit made during a build counts as newer). An image has no src/: its dist/ is current by definition.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export const STAMP = "dist/.build-stamp";

/** Newest mtime (ms) of any file under dir, 0 when there is none. */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    const t = entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

/** "current", "stale" (src edited since the last build, or the last build failed) or "missing". */
export function distState(root) {
  const stamp = join(root, STAMP);
  if (!existsSync(join(root, "dist/cli/main.js"))) return "missing";
  const src = join(root, "src");
  if (!existsSync(src)) return "current";
  if (!existsSync(stamp)) return "stale";
  return newestMtime(src) > statSync(stamp).mtimeMs ? "stale" : "current";
}
