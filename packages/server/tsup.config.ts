import { defineConfig } from "tsup";

export default defineConfig({
  // worker-main: the entry module of the worker processes (the `workerCount` option).
  // redis and admin: subpaths, so that their optional peers (ioredis, @hb/metrics) load only when used.
  entry: {
    index: "src/index.ts",
    redis: "src/redis.ts",
    admin: "src/admin/index.ts",
    "worker-main": "src/cluster/worker-main.ts",
  },
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node22",
});
