const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration with a unit (`500ms`, `30s`, `1.5s`, `5m`, `1h`) into
 * milliseconds (an integer; fractions of a millisecond are refused).
 * `0` needs no unit.
 *
 * @returns the milliseconds, or `undefined` when `text` is not such a duration
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === "0") return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(t);
  if (m === null) return undefined;
  const ms = Number(m[1]) * (UNITS[m[2] as string] as number);
  return Number.isInteger(ms) ? ms : undefined;
}

/** Milliseconds as the shortest exact duration text (`30s`, `1500ms`, `5m`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0";
  for (const [unit, size] of [["h", 3_600_000], ["m", 60_000], ["s", 1_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
