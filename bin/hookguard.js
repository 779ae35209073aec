#!/usr/bin/env node
// Entry point for `npx hookguard`. A production image runs the compiled dist/; a checkout runs the
// TypeScript sources through tsx, so there is no build step between `npm ci` and a working CLI.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const compiled = join(root, "dist/cli/main.js");
if (existsSync(compiled) && !existsSync(join(root, "src/cli/main.ts"))) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(join(root, "src/cli/main.ts")).href);
}
