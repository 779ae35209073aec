#!/usr/bin/env node
// Entry point for `hookguard` / `npx hookguard`. It runs the compiled dist/ (built by `npm ci` through
// the `prepare` script, and by the image's build stage): loading the TypeScript through tsx costs
// seconds per call. When a developer has edited src/ since the last build (or dist/ was never built,
// e.g. `npm ci --ignore-scripts`), it runs the sources through tsx instead, so an edit is never
// silently ignored; `npm run build` makes it fast again. The check stats src/ (~100 files, about a
// millisecond), far cheaper than a rebuild on every call.
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";
import { distState } from "./dist-current.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
if (distState(root) === "current") {
  await import(pathToFileURL(join(root, "dist/cli/main.js")).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(join(root, "src/cli/main.ts")).href);
}
