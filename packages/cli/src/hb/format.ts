/** Left-aligned columns with two spaces between them; the header row first. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** `k=v k2=v2`, keys sorted; `-` for none. */
export function labels(l: Readonly<Record<string, string>>): string {
  const entries = Object.entries(l).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? "-" : entries.map(([k, v]) => `${k}=${v}`).join(" ");
}

/** How long ago `epochMs` was: `850ms`, `12s`, `3m`, `2h`. */
export function ago(epochMs: number, now = Date.now()): string {
  return `${duration(Math.max(0, now - epochMs))} ago`;
}

/** A duration in ms for people: `850ms`, `12.3s`, `3m`, `2h`. */
export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m`;
  return `${Math.floor(ms / 3_600_000)}h`;
}

/** Seconds as milliseconds with 2 decimals (`0.42 ms`), or `-`. */
export function millis(seconds: number | null | undefined): string {
  return seconds === null || seconds === undefined ? "-" : `${(seconds * 1_000).toFixed(2)} ms`;
}

/** A clock time `HH:MM:SS.mmm` (local). */
export function clock(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** Bytes for people: `512 B`, `3.2 MiB`. */
export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}
