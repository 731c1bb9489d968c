// Lint rules for every package: the recommended TypeScript set, plus the few rules
// that catch the bugs we care about most (floating promises lose errors silently).
import { readdirSync } from "node:fs";
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";

// The core's modules are the folders of packages/server/src. A module's index.ts is its public
// face: a src file imports another module only through it (tests may import internals by path).
const SERVER_MODULES = readdirSync(new URL("./packages/server/src/", import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
const intoModuleInternals = `^(\\./|(\\.\\./)+)(${SERVER_MODULES.join("|")})/(?!index\\.ts$)`;

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", ".vantage/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts", "**/*.tsx"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      eqeqeq: ["error", "always", { null: "ignore" }],
    },
  },
  {
    files: ["packages/server/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: intoModuleInternals,
              message: "Import another module only through its index.ts (its public face); export what you need there.",
            },
          ],
        },
      ],
    },
  },
  // The web UI: hooks called in the same order every render, with the dependencies they read.
  { files: ["packages/web/**/*.tsx", "packages/web/**/*.ts"], ...reactHooks.configs.flat.recommended },
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
);
