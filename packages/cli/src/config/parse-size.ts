const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  kib: 1_024,
  mib: 1_024 ** 2,
  gib: 1_024 ** 3,
};

/**
 * Parses a byte size: a bare integer (bytes) or a number with a unit
 * (`64KiB`, `1MiB`, `2GB`; case-insensitive).
 *
 * @returns the bytes, or `undefined` when `text` is not such a size
 */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (m === null) return undefined;
  const unit = (m[2] as string).toLowerCase() || "b";
  const size = UNITS[unit];
  if (size === undefined) return undefined;
  const n = Number(m[1]) * size;
  return Number.isInteger(n) ? n : undefined;
}
