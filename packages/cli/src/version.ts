import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** @hb/cli's version, from its package.json (found above this module, in src/ or dist/). */
export function cliVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "@hb/cli") return pkg.version ?? "0.0.0";
    } catch {
      // not here
    }
    dir = dirname(dir);
  }
  return "0.0.0";
}
