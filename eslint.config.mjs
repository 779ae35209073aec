// ESLint flat config: eslint's and typescript-eslint's recommended rules, syntax only (no type
// information, so `npm run lint` stays fast on a small machine). Layout and line length belong to
// prettier (.prettierrc.json), not to ESLint.
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

export default defineConfig(
  {
    // build and benchmark output, the Helm chart (its templates are not JavaScript), generated
    // certificates and byte-exact test fixtures
    ignores: ["node_modules/", "dist/", ".bench-out/", "coverage/", "charts/", "certs/", "test/fixtures/"],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: "module",
      globals: { ...globals.node },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // a `_` prefix marks a deliberately unused name: express's 4-argument error handler, a key
      // dropped by rest destructuring (`const { a: _a, ...rest } = o`)
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // a `let` read by a closure before its one assignment (e.g. a timer cleared by a callback that
      // may run first) cannot be a const without a temporal-dead-zone error
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
      // tests match aligned columns (tabwriter output) literally: `/HooksAttempted:  1/`
      "no-regex-spaces": "off",
    },
  },
  {
    // The API-server double, chart renders and dashboards walk arbitrary JSON and YAML; `any` there
    // is a choice. Product code (src/) stays free of it.
    files: ["test/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
