import { mergeConfig } from "vitest/config";
import base from "./vitest.config.js";

export default mergeConfig(base, {
  test: { include: [], benchmark: { include: ["packages/*/bench/**/*.bench.ts"] } },
});
