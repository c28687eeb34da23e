import { randomUUID } from "node:crypto";

/** Longest node id, in UTF-8 bytes. */
export const MAX_NODE_ID_BYTES = 128;

// U+0000–U+001F and U+007F.
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * Checks a node id against the protocol's rules: 1..128 bytes of UTF-8, no
 * control characters (U+0000–U+001F, U+007F).
 *
 * @returns `undefined` when valid, else a human-readable reason
 */
export function checkNodeId(id: string): string | undefined {
  if (id.length === 0) return "node id is empty";
  // A JS string of n UTF-16 units takes at least n UTF-8 bytes and at most 3n.
  if (id.length > MAX_NODE_ID_BYTES || (id.length * 3 > MAX_NODE_ID_BYTES && Buffer.byteLength(id, "utf8") > MAX_NODE_ID_BYTES)) {
    return `node id is longer than ${MAX_NODE_ID_BYTES} bytes`;
  }
  if (CONTROL_CHARS.test(id)) return "node id contains a control character";
  return undefined;
}

/**
 * Generates a node id for a Hello that left `node_id` empty: a random UUID
 * (36 ASCII characters), unique without coordination between servers.
 */
export function generateNodeId(): string {
  return randomUUID();
}
