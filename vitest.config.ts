import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources; `pnpm build` + publint check the published shape.
    // Subpaths first: an alias matches by prefix.
    alias: {
      "@hb/server/internal": fileURLToPath(new URL("./packages/server/src/internal.ts", import.meta.url)),
      "@hb/client/internal": fileURLToPath(new URL("./packages/client/src/internal.ts", import.meta.url)),
      "@hb/codec": src("codec"),
      "@hb/server": src("server"),
      "@hb/client": src("client"),
      "@hb/metrics": src("metrics"),
      "@hb/conformance": src("conformance"),
    },
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    reporters: ["default"],
  },
});
