import { create, toBinary } from "@bufbuild/protobuf";
import { PresenceEventSchema, type PresenceKind } from "@hb/codec";
import type { NodeLabels } from "../registry/node-labels.js";

/**
 * Encodes a `PresenceEvent` message body (PROTOCOL.md §4.21), once per
 * event: every matching `$hb.presence` subscription gets the same bytes
 * behind its own head.
 */
export function encodePresenceEvent(
  kind: PresenceKind,
  nodeId: string,
  labels: NodeLabels,
  timeMs: number,
  reason: string,
  serverId: string,
): Uint8Array {
  return toBinary(
    PresenceEventSchema,
    create(PresenceEventSchema, { kind, nodeId, labels: { ...labels }, timeMs: BigInt(timeMs), reason, serverId }),
  );
}
