import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { BusNode } from "../core/ports/bus-link.js";
import { type DirectoryEntry, DirectoryEntrySchema, NodeState } from "../gen/hb/internal/v1/bus_pb.js";
import { internLabels } from "./label-interner.js";

/** The `hb.internal.v1.DirectoryEntry` of a node (proto/hb/internal/v1/bus.proto). */
export function directoryEntry(state: BusNode["state"], labels: Readonly<Record<string, string>>): DirectoryEntry {
  return create(DirectoryEntrySchema, { state: state === "suspect" ? NodeState.SUSPECT : NodeState.ONLINE, labels: { ...labels } });
}

/**
 * Encodes the stored form of a node in a member's directory hash (the field
 * is the node id, the member is the hash's): an `hb.internal.v1.DirectoryEntry`
 * (state and labels). A node with two short labels takes about 25 bytes.
 */
export function encodeDirectoryEntry(state: BusNode["state"], labels: Readonly<Record<string, string>>): Buffer {
  const bytes = toBinary(DirectoryEntrySchema, directoryEntry(state, labels));
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The {@link BusNode} of a decoded entry of node `nodeId` held by `memberId` (labels interned). */
export function busNode(entry: DirectoryEntry | undefined, nodeId: string, memberId: string): BusNode {
  const state = entry?.state;
  if (state !== NodeState.ONLINE && state !== NodeState.SUSPECT) throw new RangeError(`unknown node state ${state}`);
  return { nodeId, labels: internLabels(entry?.labels ?? {}), state: state === NodeState.SUSPECT ? "suspect" : "online", memberId };
}

/**
 * Decodes a stored directory entry of node `nodeId` held by `memberId`.
 *
 * @throws RangeError for malformed input
 */
export function decodeDirectoryEntry(input: Uint8Array, nodeId: string, memberId: string): BusNode {
  let entry: DirectoryEntry;
  try {
    entry = fromBinary(DirectoryEntrySchema, input);
  } catch (err) {
    throw new RangeError(`malformed directory entry: ${(err as Error).message}`);
  }
  return busNode(entry, nodeId, memberId);
}
