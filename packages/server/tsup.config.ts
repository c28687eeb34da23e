import { defineConfig } from "tsup";

export default defineConfig({
  // internal: the @hb/server/internal subpath (tools, tests, benchmarks).
  // worker-main: the entry module of the worker processes (the `workerCount` option).
  // redis and admin: subpaths, so that their optional peers (ioredis, @hb/metrics) load only when used;
  // memory: the in-process bus, for tests and simulations.
  // auth and bus: types only (the auth options and hooks; the bus port), kept off the root's export list.
  entry: {
    index: "src/index.ts",
    auth: "src/auth.ts",
    bus: "src/bus.ts",
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
