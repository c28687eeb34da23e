import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const file = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));
const src = (pkg: string) => file(`${pkg}/src/index.ts`);

const ALL = ["packages/*/test/**/*.test.ts", "examples/**/*.test.ts"];
const EXCLUDED = ["**/node_modules/**", "**/.git/**"];
const ALONE = [
  "packages/bench/test/**/*.test.ts",
  "packages/server/test/hostile/*.test.ts",
  "packages/server/test/liveness/*.test.ts",
  "packages/server/test/turn-budget.test.ts",
  "packages/server/test/backpressure.test.ts",
  "packages/server/test/scale.test.ts",
];

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
      { find: /^@hb\/server\/auth$/, replacement: file("server/src/auth.ts") },
      { find: /^@hb\/server\/bus$/, replacement: file("server/src/bus.ts") },
      { find: /^@hb\/client$/, replacement: src("client") },
      { find: /^@hb\/client\/internal$/, replacement: file("client/src/internal.ts") },
      { find: /^@hb\/metrics$/, replacement: src("metrics") },
      { find: /^@hb\/conformance$/, replacement: src("conformance") },
    ],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    reporters: ["default"],
    projects: [
      {
        extends: true,
        test: { name: "suite", include: ALL, exclude: [...EXCLUDED, ...ALONE] },
      },
      {
        // Tests that load the machine (tens of thousands of connections) or assert timing under a load of their
        // own (the hostile battery's witness RTT, stalls, turn budgets): one at a time, after the rest, so that
        // neither disturbs the other. They still pass on a machine loaded by something else.
        extends: true,
        test: { name: "alone", include: ALONE, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
