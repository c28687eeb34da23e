/** Longest node id, in UTF-8 bytes (docs/PROTOCOL.md §14: 1..128 bytes). */
export const MAX_NODE_ID_BYTES = 128;
/** Most labels a node may carry. */
export const MAX_LABELS = 32;
/** Longest label key, in UTF-8 bytes (keys are 1..64 bytes). */
export const MAX_LABEL_KEY_BYTES = 64;
/** Longest label value, in UTF-8 bytes (values are 0..256 bytes). */
export const MAX_LABEL_VALUE_BYTES = 256;

// U+0000–U+001F and U+007F are refused in node ids.
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

const encoder = new TextEncoder();

/** Whether the UTF-8 encoding of `s` is longer than `max` bytes (a UTF-16 unit takes 1..3 bytes). */
function longerThan(s: string, max: number): boolean {
  if (s.length > max) return true;
  if (s.length * 3 <= max) return false;
  return encoder.encode(s).length > max;
}

/**
 * Checks a node id against the protocol's rules: 1..128 bytes of UTF-8, no
 * control characters (U+0000–U+001F, U+007F). One implementation for the
 * client, the server and other tools, so they cannot drift apart; it only
 * measures the UTF-8 length when the UTF-16 length leaves doubt.
 *
 * @param nodeId - the id to check
 * @param what - how to name it in the message, e.g. `"nodeId"`
 * @returns `undefined` when valid, else a description of the problem
 */
export function nodeIdProblem(nodeId: unknown, what = "node id"): string | undefined {
  if (typeof nodeId !== "string") return `${what} must be a string`;
  if (nodeId.length === 0) return `${what} must be 1..${MAX_NODE_ID_BYTES} bytes of UTF-8, got 0 bytes`;
  if (longerThan(nodeId, MAX_NODE_ID_BYTES)) {
    return `${what} must be 1..${MAX_NODE_ID_BYTES} bytes of UTF-8, got ${encoder.encode(nodeId).length} bytes`;
  }
  if (CONTROL_CHARS.test(nodeId)) return `${what} must not contain control characters (U+0000-U+001F, U+007F)`;
  return undefined;
}

/**
 * Checks labels against the protocol's limits: at most 32 entries, key
 * 1..64 bytes, value 0..256 bytes (UTF-8).
 *
 * @param labels - the labels to check
 * @param what - how to name them in the message, e.g. `"metadata"`
 * @returns `undefined` when valid, else a description of the problem
 */
export function labelsProblem(labels: unknown, what = "labels"): string | undefined {
  if (labels === null || typeof labels !== "object" || Array.isArray(labels)) {
    return `${what} must be an object of string keys to string values`;
  }
  let n = 0;
  for (const key in labels) {
    if (++n > MAX_LABELS) return `${what} must have at most ${MAX_LABELS} entries, got ${Object.keys(labels).length}`;
    if (key.length === 0 || longerThan(key, MAX_LABEL_KEY_BYTES)) {
      return `${what} keys must be 1..${MAX_LABEL_KEY_BYTES} bytes, got ${encoder.encode(key).length} bytes for ${JSON.stringify(key.slice(0, 80))}`;
    }
    const value = (labels as Record<string, unknown>)[key];
    if (typeof value !== "string") return `${what}[${JSON.stringify(key)}] must be a string`;
    if (longerThan(value, MAX_LABEL_VALUE_BYTES)) {
      return `${what}[${JSON.stringify(key)}] must be 0..${MAX_LABEL_VALUE_BYTES} bytes, got ${encoder.encode(value).length} bytes`;
    }
  }
  return undefined;
}
