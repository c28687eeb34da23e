import { readFileSync } from "node:fs";
import { nodeScenarios, serverScenarios, serverSetupScenarios } from "@hb/conformance";
import { describe, expect, it } from "vitest";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const listed = new Set([...readme.matchAll(/^\| `([a-z][a-z0-9-]*)` \|/gm)].map((m) => m[1]));

describe("README", () => {
  it("lists every scenario, and no other", () => {
    const names = [...serverScenarios, ...serverSetupScenarios, ...nodeScenarios].map((s) => s.name);
    expect(names.filter((n) => !listed.has(n)), "scenarios missing from the README tables").toEqual([]);
    const stale = [...listed].filter((n) => !names.includes(n as string));
    expect(stale, "README rows naming no scenario").toEqual([]);
  });
});
