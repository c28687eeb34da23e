import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const file = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));
const src = (pkg: string) => file(`${pkg}/src/index.ts`);

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources; `pnpm build` + publint check the published shape.
    // Exact matches: a subpath such as @hb/server/admin maps to its own entry.
    alias: [
      { find: /^@hb\/codec$/, replacement: src("codec") },
      { find: /^@hb\/server$/, replacement: src("server") },
      { find: /^@hb\/server\/internal$/, replacement: file("server/src/internal.ts") },
      { find: /^@hb\/server\/admin$/, replacement: file("server/src/admin/index.ts") },
      { find: /^@hb\/server\/redis$/, replacement: file("server/src/redis.ts") },
      { find: /^@hb\/server\/memory$/, replacement: file("server/src/memory.ts") },
      { find: /^@hb\/client$/, replacement: src("client") },
      { find: /^@hb\/client\/internal$/, replacement: file("client/src/internal.ts") },
      { find: /^@hb\/metrics$/, replacement: src("metrics") },
      { find: /^@hb\/conformance$/, replacement: src("conformance") },
    ],
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    reporters: ["default"],
  },
});
