import { defineConfig } from "tsup";

export default defineConfig({
  // worker-main: the entry module of the worker processes (the `workerCount` option).
  // redis: a subpath, so that its optional peer (ioredis) loads only when used.
  entry: {
    index: "src/index.ts",
    redis: "src/redis.ts",
    "worker-main": "src/cluster/worker-main.ts",
  },
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node22",
});
