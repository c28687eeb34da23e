import { labelsProblem } from "@hb/codec";

export { MAX_LABELS, MAX_LABEL_KEY_BYTES, MAX_LABEL_VALUE_BYTES } from "@hb/codec";

/** Node metadata: string keys to string values. */
export type NodeLabels = Readonly<Record<string, string>>;

/**
 * Checks labels against the protocol's limits (at most 32 entries, keys
 * 1..64 bytes, values at most 256 bytes of UTF-8), with `labelsProblem`
 * from @hb/codec.
 *
 * @returns `undefined` when valid, else a human-readable reason
 */
export function checkLabels(labels: Record<string, string>): string | undefined {
  return labelsProblem(labels, "labels");
}
