import { defineConfig } from "tsup";

export default defineConfig({
  // internal: the @hb/server/internal subpath (tools, tests, benchmarks).
  // worker-main: the entry module of the worker processes (the `workerCount` option).
  // redis and admin: subpaths, so that their optional peers (ioredis, @hb/metrics) load only when used;
  // memory: the in-process bus, for tests and simulations.
  entry: {
    index: "src/index.ts",
    internal: "src/internal.ts",
    redis: "src/redis.ts",
    memory: "src/memory.ts",
    admin: "src/admin/index.ts",
    "worker-main": "src/worker-main.ts",
  },
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node22",
});
