import { defineConfig } from "tsup";

export default defineConfig({
  entry: { "hb-server": "src/bin/hb-server.ts", hb: "src/bin/hb.ts" },
  format: ["esm"],
  dts: false,
  sourcemap: true,
  clean: true,
  target: "node22",
});
