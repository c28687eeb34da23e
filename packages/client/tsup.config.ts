import { defineConfig } from "tsup";

export default defineConfig({
  // internal: the @hb/client/internal subpath (tools, tests).
  entry: ["src/index.ts", "src/internal.ts"],
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node22",
});
