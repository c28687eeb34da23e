import { randomUUID } from "node:crypto";
import { nodeIdProblem } from "@hb/codec";

export { MAX_NODE_ID_BYTES } from "@hb/codec";

/**
 * Checks a node id against the protocol's rules (1..128 bytes of UTF-8, no
 * control characters), with `nodeIdProblem` from @hb/codec.
 *
 * @returns `undefined` when valid, else a human-readable reason
 */
export function checkNodeId(id: string): string | undefined {
  return nodeIdProblem(id, "node id");
}

/**
 * Generates a node id for a Hello that left `node_id` empty: a random UUID
 * (36 ASCII characters), unique without coordination between servers.
 */
export function generateNodeId(): string {
  return randomUUID();
}
