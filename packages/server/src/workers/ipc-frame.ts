import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { type VarintCursor, readVarint32, varintSize, writeVarint32 } from "@hb/codec";
import type { BusNode } from "../core/ports/bus-link.js";
import { busNode, directoryEntry } from "../bus/directory-entry-codec.js";
import { EnvelopeToSchema, IpcFrameSchema, MemberSnapshotSchema } from "../gen/hb/internal/v1/ipc_pb.js";

const fieldNo = (name: keyof typeof IpcFrameSchema.field): number => IpcFrameSchema.field[name]?.number as number;

/**
 * Kinds of the frames in an IPC batch: the field numbers of
 * `hb.internal.v1.IpcFrame` (proto/hb/internal/v1/ipc.proto). A batch is a
 * sequence of size-delimited IpcFrames; each carries one field, whose
 * number is the kind and whose value is the body:
 *
 * ```
 * ENVELOPE     an Envelope (it names its sender): worker → hub: for every other member; hub → worker: deliver
 * ENVELOPE_TO  an EnvelopeTo (to_member, envelope): worker → hub: for one member
 * PRESENCE     a PresenceEventMessage of the sending member
 * MEMBER       a MemberSnapshot: the member's whole node set
 * LOST         a member id (UTF-8): hub → worker: the member is gone
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
} as const;

/** The node set of a member, as carried by a MEMBER frame. */
export interface MemberSnapshot {
  /** The member. */
  memberId: string;
  /** All its nodes (their `memberId` is `memberId`). */
  nodes: BusNode[];
}

/** Encodes the body of a MEMBER frame: a `MemberSnapshot` (about 30 bytes per node with two short labels). */
export function encodeMemberSnapshot(memberId: string, nodes: Iterable<BusNode>): Uint8Array {
  const list = [];
  for (const node of nodes) list.push({ nodeId: node.nodeId, entry: directoryEntry(node.state, node.labels) });
  return toBinary(MemberSnapshotSchema, create(MemberSnapshotSchema, { memberId, nodes: list }));
}

/**
 * Decodes the body of a MEMBER frame (labels interned).
 *
 * @throws RangeError for a malformed body
 */
export function decodeMemberSnapshot(body: Uint8Array): MemberSnapshot {
  let m: ReturnType<typeof fromBinary<typeof MemberSnapshotSchema>>;
  try {
    m = fromBinary(MemberSnapshotSchema, body);
  } catch (err) {
    throw new RangeError(`malformed member snapshot: ${(err as Error).message}`);
  }
  return { memberId: m.memberId, nodes: m.nodes.map((n) => busNode(n.entry, n.nodeId, m.memberId)) };
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
