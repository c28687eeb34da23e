import { defineConfig } from "tsup";

export default defineConfig({
  // worker-main: the entry module of the worker processes (the `workerCount` option).
  entry: { index: "src/index.ts", "worker-main": "src/cluster/worker-main.ts" },
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node22",
});
