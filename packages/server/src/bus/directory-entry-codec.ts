import type { BusNode } from "../core/ports/bus-link.js";
import { NodeState } from "../gen/hb/internal/v1/bus_pb.js";
import { ProtoReader, encodeLabels } from "./proto-bytes.js";

// hb.internal.v1.DirectoryEntry (proto/hb/internal/v1/bus.proto): state (1),
// labels (2). Hand-tuned, see proto-bytes.ts.
const STATE = 0x08;
const LABELS_FIELD = 2;

/** Bytes of the DirectoryEntry of a node in `state` with `labels`. */
export function directoryEntrySize(labels: Readonly<Record<string, string>>): number {
  return 2 + encodeLabels(LABELS_FIELD, labels).length;
}

/** Writes the DirectoryEntry of a node at `pos`; returns the position after it. */
export function writeDirectoryEntry(out: Buffer, pos: number, state: BusNode["state"], labels: Readonly<Record<string, string>>): number {
  out[pos++] = STATE;
  out[pos++] = state === "suspect" ? NodeState.SUSPECT : NodeState.ONLINE;
  const l = encodeLabels(LABELS_FIELD, labels);
  out.set(l, pos);
  return pos + l.length;
}

/**
 * Encodes the stored form of a node in a member's directory hash (the field
 * is the node id, the member is the hash's): an `hb.internal.v1.DirectoryEntry`
 * (state and labels). A node with two short labels takes about 25 bytes. A
 * Buffer, as ioredis sends binary arguments.
 */
export function encodeDirectoryEntry(state: BusNode["state"], labels: Readonly<Record<string, string>>): Buffer {
  const out = Buffer.allocUnsafe(directoryEntrySize(labels));
  writeDirectoryEntry(out, 0, state, labels);
  return out;
}

/**
 * Reads a DirectoryEntry between `r.pos` and `end` as node `nodeId` held by
 * `memberId` (labels interned).
 *
 * @throws RangeError for malformed input
 */
export function readDirectoryEntry(r: ProtoReader, end: number, nodeId: string, memberId: string): BusNode {
  let state = 0;
  let labels: Readonly<Record<string, string>> | undefined;
  while (r.pos < end) {
    if (r.buf[r.pos] === ((LABELS_FIELD << 3) | 2)) {
      labels = r.labels(LABELS_FIELD, end);
      continue;
    }
    const t = r.tag(end);
    if (t === STATE) state = r.length(end);
    else r.skip(t & 7, end);
  }
  if (state !== NodeState.ONLINE && state !== NodeState.SUSPECT) throw new RangeError(`unknown node state ${state}`);
  return { nodeId, labels: labels ?? r.labels(LABELS_FIELD, end), state: state === NodeState.SUSPECT ? "suspect" : "online", memberId };
}

/**
 * Decodes a stored directory entry of node `nodeId` held by `memberId`.
 *
 * @throws RangeError for malformed input
 */
export function decodeDirectoryEntry(input: Uint8Array, nodeId: string, memberId: string): BusNode {
  const r = new ProtoReader(input);
  return readDirectoryEntry(r, r.buf.length, nodeId, memberId);
}
