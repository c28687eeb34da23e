// The option table is the one declaration of the server's options: the
// README's table and the TSDoc of HeartbeatServerOptions must say what it says.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NUMBER_OPTIONS, OTHER_OPTIONS, renderOptionTable } from "../src/options/server-option-table.js";
import { SERVER_OPTION_DEFAULTS, resolveServerOptions } from "../src/internal.js";

const read = (rel: string) => readFileSync(new URL(rel, import.meta.url), "utf8");

// The TSDoc of each member of HeartbeatServerOptions / RateLimitOptions, whitespace and `*` folded.
function tsdocOf(name: string): string {
  const src = read("../src/options/server-options.ts");
  const member = name.replace("rateLimit.", "");
  const re = new RegExp(`/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*${member}\\?:`, "g");
  const docs = [...src.matchAll(re)].map((m) => (m[1] as string).replace(/\s*\n\s*\*\s?/g, " ").replace(/\s+/g, " ").trim());
  expect(docs.length, `TSDoc of ${name}`).toBeGreaterThan(0);
  return docs.at(-1) as string;
}

describe("the option table", () => {
  it("is what packages/server/README.md shows", () => {
    const readme = read("../README.md");
    const start = readme.indexOf("<!-- option table:");
    const end = readme.indexOf("<!-- end of option table -->");
    expect(start).toBeGreaterThan(0);
    const shown = readme.slice(readme.indexOf("\n", start) + 1, end).trim();
    expect(shown).toBe(renderOptionTable());
  });

  it("is what the TSDoc of every numeric option says (default and range)", () => {
    for (const spec of NUMBER_OPTIONS) {
      const doc = tsdocOf(spec.name);
      expect(doc, spec.name).toContain(spec.defaultText);
      expect(doc, spec.name).toContain(spec.rangeText);
    }
  });

  it("names every option resolveServerOptions accepts, and its defaults are the resolver's", () => {
    const names = [...NUMBER_OPTIONS.map((o) => o.name.split(".")[0]), ...OTHER_OPTIONS.map((o) => o.name)];
    const resolved = resolveServerOptions({ workerCount: 1 });
    for (const key of Object.keys(resolved)) expect(names, key).toContain(key);
    expect(resolved.heartbeatTimeout).toBe(SERVER_OPTION_DEFAULTS.heartbeatTimeout);
    expect(resolved.rateLimit.burst).toBe(SERVER_OPTION_DEFAULTS.burst);
    expect(() => resolveServerOptions({ heartbeatCheckInterval: 40_000 })).toThrow(
      "heartbeatCheckInterval must be an integer in 10..heartbeatTimeout (30000), got 40000",
    );
  });
});
