import js from "@eslint/js";
import boundaries from "eslint-plugin-boundaries";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

/**
 * Imports flow one way: shared (api, lib, components) -> features -> app. A feature uses shared code and
 * its own files, never another feature; only app/ puts features together (routes, shell).
 */
const layers = {
  "boundaries/elements": [
    { type: "app", pattern: "src/app" },
    { type: "feature", pattern: "src/features/*", capture: ["feature"] },
    { type: "shared", pattern: "src/{api,lib,components}" },
  ],
  "boundaries/include": ["src/**/*"],
  "import/resolver": { typescript: { project: "./tsconfig.json" }, node: true },
};

export default tseslint.config(
  { ignores: ["node_modules", "dist", "src/api/schema.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ["src/**/*.{ts,tsx}"],
    languageOptions: { globals: globals.browser },
    plugins: { "react-hooks": reactHooks, boundaries },
    settings: layers,
    rules: {
      ...reactHooks.configs.recommended.rules,
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-invalid-void-type": ["error", { allowAsThisParameter: false, allowInGenericTypeArguments: true }],
      "boundaries/dependencies": [
        "error",
        {
          default: "disallow",
          policies: [
            { from: { element: { type: "shared" } }, allow: { to: { element: { type: "shared" } } } },
            {
              from: { element: { type: "feature" } },
              allow: [
                { to: { element: { type: "shared" } } },
                { to: { element: { type: "feature", captured: { feature: "{{ from.element.captured.feature }}" } } } },
              ],
            },
            {
              from: { element: { type: "app" } },
              allow: { to: { element: { types: { anyOf: ["shared", "feature", "app"] } } } },
            },
          ],
        },
      ],
    },
  },
  {
    files: ["*.{js,cjs,ts}", "scripts/**/*.mjs"],
    languageOptions: { globals: globals.node },
  },
);
