/** Node metadata: string keys to string values. */
export type NodeLabels = Readonly<Record<string, string>>;

/** Most label entries a node may have. */
export const MAX_LABELS = 32;
/** Longest label key, in UTF-8 bytes (keys are at least 1 byte). */
export const MAX_LABEL_KEY_BYTES = 64;
/** Longest label value, in UTF-8 bytes. */
export const MAX_LABEL_VALUE_BYTES = 256;

/**
 * Checks labels against the protocol's limits: at most 32 entries, keys
 * 1..64 bytes, values at most 256 bytes (UTF-8).
 *
 * @returns `undefined` when valid, else a human-readable reason
 */
export function checkLabels(labels: Record<string, string>): string | undefined {
  let n = 0;
  for (const key in labels) {
    if (++n > MAX_LABELS) return `more than ${MAX_LABELS} labels`;
    if (key.length === 0) return "empty label key";
    if (longerThan(key, MAX_LABEL_KEY_BYTES)) return `label key longer than ${MAX_LABEL_KEY_BYTES} bytes`;
    const value = labels[key] as string;
    if (longerThan(value, MAX_LABEL_VALUE_BYTES)) {
      return `label "${key.slice(0, 64)}" has a value longer than ${MAX_LABEL_VALUE_BYTES} bytes`;
    }
  }
  return undefined;
}

/** Whether the UTF-8 encoding of `s` is longer than `max` bytes (a UTF-16 unit takes 1..3 bytes). */
function longerThan(s: string, max: number): boolean {
  if (s.length > max) return true;
  if (s.length * 3 <= max) return false;
  return Buffer.byteLength(s, "utf8") > max;
}
