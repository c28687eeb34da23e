// docs/OPERATIONS.md is checked against the code it documents: every setting (key, variable,
// flag) and every exported metric name is there.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { METRIC_NAMES } from "@hb/metrics";
import { describe, expect, it } from "vitest";
import { SETTINGS, envName, flagName } from "../src/config/config-schema.js";

const doc = readFileSync(fileURLToPath(new URL("../../../docs/OPERATIONS.md", import.meta.url)), "utf8");

describe("docs/OPERATIONS.md", () => {
  it("lists every hb-server setting with its variable, flag and live flag", () => {
    for (const s of SETTINGS) {
      const row = doc.split("\n").find((l) => l.startsWith(`| \`${s.path}\``));
      expect(row, s.path).toBeDefined();
      expect(row).toContain(`\`${envName(s)}\``);
      expect(row).toContain(`\`--${flagName(s)}\``);
      expect(row?.includes("| yes |"), `${s.path} live`).toBe(s.live === true);
    }
  });

  it("explains every exported metric", () => {
    for (const name of Object.values(METRIC_NAMES)) expect(doc, name).toContain(`\`${name}`);
  });
});
