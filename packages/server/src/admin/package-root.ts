import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where @hb/server is installed and its version. */
export interface PackageRoot {
  /** Directory holding @hb/server's package.json (the dashboard is in `dashboard/` under it). */
  dir: string;
  /** Its version. */
  version: string;
}

let cached: PackageRoot | undefined;

/**
 * Finds @hb/server's own directory by walking up from this module (it runs
 * from `src/admin/` in the repository and from `dist/` once built).
 *
 * @throws Error when no package.json named `@hb/server` is found above it
 */
export function packageRoot(): PackageRoot {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "@hb/server") return (cached = { dir, version: pkg.version ?? "0.0.0" });
    } catch {
      // No package.json here: go up.
    }
    dir = dirname(dir);
  }
  throw new Error("cannot find @hb/server's package.json above the admin module");
}
