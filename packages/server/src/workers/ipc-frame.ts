import { type VarintCursor, readVarint32, varintSize, writeVarint32 } from "@hb/codec";
import type { BusNode } from "../core/ports/bus-link.js";
import { directoryEntrySize, readDirectoryEntry, writeDirectoryEntry } from "../bus/directory-entry-codec.js";
import { ProtoReader, lenField, writeString } from "../bus/proto-bytes.js";
import { EnvelopeToSchema, IpcBatchSchema } from "../gen/hb/internal/v1/ipc_pb.js";

const fieldNo = (name: keyof typeof IpcBatchSchema.field): number => IpcBatchSchema.field[name]?.number as number;

/**
 * Kinds of the frames in an IPC batch: the field numbers of
 * `hb.internal.v1.IpcBatch` (proto/hb/internal/v1/ipc.proto). A batch's
 * fields are its frames, in order; a field's number is the kind and its
 * value the body:
 *
 * ```
 * ENVELOPE     an Envelope (it names its sender): worker → hub: for every other member; hub → worker: deliver
 * ENVELOPE_TO  an EnvelopeTo (to_member, envelope): worker → hub: for one member; an empty
 *              to_member: for the holder of the envelope's node, resolved by the hub
 * PRESENCE     a PresenceEventMessage of the sending member
 * MEMBER       a MemberSnapshot: the member's whole node set
 * LOST         a member id (UTF-8): hub → worker: the member is gone
 * UNRESOLVED   an Envelope: hub → worker: one it asked the hub to resolve, whose node nobody holds
 * SYNC         empty: worker → hub: a barrier; hub → worker: everything before it is applied and forwarded
 * OBSERVER     a PresenceEventMessage (JOINED / LEFT, seq 0): worker → hub → every other worker: the
 *              sender holds an observer's id from now on, or no longer (PROTOCOL.md §5.7); not presence
 * ```
 *
 * A PRESENCE's `seq` numbers the member's changes but is not checked: the
 * channel is ordered and reliable, and a new member's snapshot comes first.
 * The hub forwards ENVELOPE, PRESENCE and MEMBER bodies byte for byte; it
 * forwards the envelope of an ENVELOPE_TO as an ENVELOPE to its target only.
 */
export const IpcFrame = {
  ENVELOPE: fieldNo("envelope"),
  ENVELOPE_TO: fieldNo("envelopeTo"),
  PRESENCE: fieldNo("presence"),
  MEMBER: fieldNo("member"),
  LOST: fieldNo("lost"),
  UNRESOLVED: fieldNo("unresolved"),
  SYNC: fieldNo("sync"),
  OBSERVER: fieldNo("observer"),
} as const;

/** The node set of a member, as carried by a MEMBER frame. */
export interface MemberSnapshot {
  /** The member. */
  memberId: string;
  /** All its nodes (their `memberId` is `memberId`). */
  nodes: BusNode[];
}

// hb.internal.v1.MemberSnapshot (member_id 1, nodes 2) / MemberNode
// (node_id 1, entry 2). Hand-tuned, see bus/proto-bytes.ts.
const SNAP_MEMBER = 0x0a;
const SNAP_NODES = 0x12;
const NODE_ID = 0x0a;
const NODE_ENTRY = 0x12;

/** Encodes the body of a MEMBER frame: a `MemberSnapshot` (about 30 bytes per node with two short labels). */
export function encodeMemberSnapshot(memberId: string, nodes: Iterable<BusNode>): Uint8Array {
  const list: { node: BusNode; id: number; entry: number; size: number }[] = [];
  const memberLength = Buffer.byteLength(memberId, "utf8");
  let size = memberLength === 0 ? 0 : lenField(memberLength);
  for (const node of nodes) {
    const id = Buffer.byteLength(node.nodeId, "utf8");
    const entry = directoryEntrySize(node.labels);
    const inner = (id === 0 ? 0 : lenField(id)) + lenField(entry);
    list.push({ node, id, entry, size: inner });
    size += lenField(inner);
  }
  const out = Buffer.allocUnsafe(size);
  let pos = memberLength === 0 ? 0 : writeString(out, 0, SNAP_MEMBER, memberId, memberLength);
  for (const { node, id, entry, size: inner } of list) {
    out[pos++] = SNAP_NODES;
    pos = writeVarint32(out, pos, inner);
    if (id > 0) pos = writeString(out, pos, NODE_ID, node.nodeId, id);
    out[pos++] = NODE_ENTRY;
    pos = writeVarint32(out, pos, entry);
    pos = writeDirectoryEntry(out, pos, node.state, node.labels);
  }
  return out;
}

/**
 * Decodes the body of a MEMBER frame (labels interned).
 *
 * @throws RangeError for a malformed body
 */
export function decodeMemberSnapshot(body: Uint8Array): MemberSnapshot {
  const r = new ProtoReader(body);
  const end = r.buf.length;
  let memberId = "";
  const entries: [string, number, number][] = [];
  while (r.pos < end) {
    const t = r.tag(end);
    if (t === SNAP_MEMBER) memberId = r.string(end);
    else if (t === SNAP_NODES) {
      const to = r.fieldEnd(end);
      let nodeId = "";
      let entry: [number, number] = [to, to];
      while (r.pos < to) {
        const u = r.tag(to);
        if (u === NODE_ID) nodeId = r.string(to);
        else if (u === NODE_ENTRY) {
          const entryEnd = r.fieldEnd(to);
          entry = [r.pos, entryEnd];
          r.pos = entryEnd;
        } else r.skip(u & 7, to);
      }
      entries.push([nodeId, entry[0], entry[1]]);
    } else r.skip(t & 7, end);
  }
  const nodes = entries.map(([nodeId, from, to]) => {
    r.pos = from;
    return readDirectoryEntry(r, to, nodeId, memberId);
  });
  return { memberId, nodes };
}

/** Encodes a string body (a LOST frame's member id): its UTF-8 bytes. */
export function encodeFrameString(value: string): Buffer {
  return Buffer.from(value, "utf8");
}

/** Decodes a string body (a LOST frame). */
export function decodeFrameString(body: Uint8Array): string {
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
}

const TO_MEMBER = ((EnvelopeToSchema.field.toMember?.number as number) << 3) | 2;
const ENVELOPE = ((EnvelopeToSchema.field.envelope?.number as number) << 3) | 2;
const cursor: VarintCursor = { pos: 0 };

/**
 * The head of an ENVELOPE_TO body for `toMember` and an envelope of
 * `envelopeLength` bytes: the body is this head followed by the envelope.
 */
export function envelopeToHead(toMember: Uint8Array, envelopeLength: number): Buffer {
  const head = Buffer.allocUnsafe(1 + varintSize(toMember.length) + toMember.length + 1 + varintSize(envelopeLength));
  head[0] = TO_MEMBER;
  let pos = writeVarint32(head, 1, toMember.length);
  head.set(toMember, pos);
  pos += toMember.length;
  head[pos++] = ENVELOPE;
  writeVarint32(head, pos, envelopeLength);
  return head;
}

/**
 * The target member of an ENVELOPE_TO body and where its envelope starts
 * (it runs to the end of the body).
 *
 * @throws RangeError for a malformed body
 */
export function readEnvelopeTo(body: Uint8Array): { toMember: string; envelopeAt: number } {
  const end = body.length;
  if (body[0] !== TO_MEMBER) throw new RangeError("ENVELOPE_TO without its target first");
  const n = readVarint32(body, 1, end, cursor);
  if (n < 0 || cursor.pos + n > end) throw new RangeError("truncated ENVELOPE_TO target");
  const toMember = Buffer.from(body.buffer, body.byteOffset + cursor.pos, n).toString("utf8");
  let pos = cursor.pos + n;
  if (body[pos++] !== ENVELOPE) throw new RangeError("ENVELOPE_TO without its envelope last");
  const length = readVarint32(body, pos, end, cursor);
  if (length < 0 || cursor.pos + length !== end) throw new RangeError("malformed ENVELOPE_TO envelope");
  return { toMember, envelopeAt: cursor.pos };
}
