import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** proto/testdata: the golden vectors every implementation is checked against. */
export const TESTDATA = fileURLToPath(new URL("../../../proto/testdata/", import.meta.url));

/** One seed input: a vector's wire bytes and its name. */
export interface Seed {
  readonly name: string;
  readonly kind: "valid" | "noncanonical" | "invalid";
  readonly bytes: Uint8Array;
}

/** Every vector of proto/testdata/manifest.json (valid, noncanonical and invalid), in manifest order. */
export function loadSeeds(manifestPath = join(TESTDATA, "manifest.json")): Seed[] {
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as Record<string, unknown>;
  const out: Seed[] = [];
  for (const kind of ["valid", "noncanonical", "invalid"] as const) {
    for (const v of (manifest[kind] ?? []) as { name: string; bin: string }[]) {
      out.push({ name: v.name, kind, bytes: new Uint8Array(readFileSync(join(dirname(manifestPath), v.bin))) });
    }
  }
  if (out.length === 0) throw new Error(`no vectors in ${manifestPath}`);
  return out;
}
