import { ErrorCode, HbError } from "@hb/codec";

/** Longest node id, in UTF-8 bytes (PROTOCOL: node id is 1..128 bytes). */
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

const utf8Length = (s: string): number => Buffer.byteLength(s, "utf8");

/**
 * Checks a node id against the protocol's rules: 1..128 bytes of UTF-8, no
 * control characters.
 *
 * @param nodeId - the id to check
 * @param what - how to name it in the message, e.g. `"nodeId"`
 * @returns `undefined` when valid, else a description of the problem
 */
export function nodeIdProblem(nodeId: unknown, what: string): string | undefined {
  if (typeof nodeId !== "string") return `${what} must be a string`;
  const n = utf8Length(nodeId);
  if (n < 1 || n > MAX_NODE_ID_BYTES) {
    return `${what} must be 1..${MAX_NODE_ID_BYTES} bytes of UTF-8, got ${n} bytes`;
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
export function labelsProblem(labels: unknown, what: string): string | undefined {
  if (labels === null || typeof labels !== "object" || Array.isArray(labels)) {
    return `${what} must be an object of string keys to string values`;
  }
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) return `${what} must have at most ${MAX_LABELS} entries, got ${entries.length}`;
  for (const [key, value] of entries) {
    const k = utf8Length(key);
    if (k < 1 || k > MAX_LABEL_KEY_BYTES) {
      return `${what} keys must be 1..${MAX_LABEL_KEY_BYTES} bytes, got ${k} bytes for ${JSON.stringify(key)}`;
    }
    if (typeof value !== "string") return `${what}[${JSON.stringify(key)}] must be a string`;
    const v = utf8Length(value);
    if (v > MAX_LABEL_VALUE_BYTES) {
      return `${what}[${JSON.stringify(key)}] must be 0..${MAX_LABEL_VALUE_BYTES} bytes, got ${v} bytes`;
    }
  }
  return undefined;
}

/**
 * Throws `HbError(INVALID_ARGUMENT)` when `problem` is set: the same code the
 * server would answer with, so callers match one code wherever the check
 * happened.
 */
export function throwInvalidArgument(problem: string | undefined): void {
  if (problem !== undefined) throw new HbError(ErrorCode.INVALID_ARGUMENT, problem);
}
