/** Collects repeated `--label k=v` flags (commander's reducer). */
export function collectLabel(value: string, previous: string[] = []): string[] {
  if (value.indexOf("=") <= 0) throw new Error(`--label must be key=value, got "${value}"`);
  return [...previous, value];
}

/** `["k=v", …]` → `{ k: "v" }`. */
export function labelObject(entries: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const eq = e.indexOf("=");
    out[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return out;
}
