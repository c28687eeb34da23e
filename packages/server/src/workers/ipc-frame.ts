import { BinaryReader } from "../bus/binary-reader.js";
import { BinaryWriter } from "../bus/binary-writer.js";
import type { BusNode } from "../core/ports/bus-link.js";
import { decodeDirectoryEntry, encodeDirectoryEntry } from "../bus/directory-entry-codec.js";

/**
 * Kinds of the frames in an IPC batch. A frame is its kind byte followed by
 * its body:
 *
 * ```
 * ENVELOPE     1 envelope                  an encodeEnvelope() message (it names its sender):
 *                                          worker → hub: for every other member; hub → worker: deliver
 * ENVELOPE_TO  2 toMember:string envelope  worker → hub: for one member
 * PRESENCE     3 presence                  an encodePresenceMessage() `event` of the sending member
 * MEMBER       4 snapshot                  the member's whole node set (see encodeMemberSnapshot)
 * LOST         5 memberId:string           hub → worker: the member is gone
 * ```
 *
 * `string` is a varint byte length plus UTF-8. A PRESENCE's `seq` numbers
 * the member's changes but is not checked: the channel is ordered and
 * reliable, and a new member's snapshot comes first. The hub forwards ENVELOPE,
 * PRESENCE and MEMBER bodies byte for byte; it rewrites an ENVELOPE_TO as
 * an ENVELOPE for its target only.
 */
export const IpcFrame = {
  ENVELOPE: 1,
  ENVELOPE_TO: 2,
  PRESENCE: 3,
  MEMBER: 4,
  LOST: 5,
} as const;

/** The node set of a member, as carried by a MEMBER frame. */
export interface MemberSnapshot {
  /** The member. */
  memberId: string;
  /** All its nodes (their `memberId` is `memberId`). */
  nodes: BusNode[];
}

/**
 * Encodes the body of a MEMBER frame:
 * `memberId:string count:varint (nodeId:string entryLength:varint entry)*`,
 * each entry an {@link encodeDirectoryEntry} (state and labels): about 25
 * bytes per node with two short labels.
 */
export function encodeMemberSnapshot(memberId: string, nodes: Iterable<BusNode>): Buffer {
  const list = [...nodes];
  const w = new BinaryWriter(32 + list.length * 48);
  w.string(memberId).varint(list.length);
  for (const node of list) {
    const entry = encodeDirectoryEntry(node.state, node.labels);
    w.string(node.nodeId).varint(entry.length).bytes(entry);
  }
  return w.finish();
}

/**
 * Decodes the body of a MEMBER frame.
 *
 * @throws RangeError for a malformed body
 */
export function decodeMemberSnapshot(body: Uint8Array): MemberSnapshot {
  let r = new BinaryReader(body);
  const memberId = r.string();
  const count = r.varint();
  if (count > r.remaining) throw new RangeError(`member snapshot claims ${count} nodes in ${r.remaining} bytes`);
  const nodes: BusNode[] = [];
  for (let i = 0; i < count; i++) {
    const nodeId = r.string();
    const length = r.varint();
    if (length > r.remaining) throw new RangeError(`directory entry of ${length} bytes, ${r.remaining} left`);
    const start = r.position;
    nodes.push(decodeDirectoryEntry(body.subarray(start, start + length), nodeId, memberId));
    r = new BinaryReader(body, start + length);
  }
  r.end();
  return { memberId, nodes };
}

/** Encodes a string as frames carry it (varint byte length plus UTF-8): a LOST body, the head of an ENVELOPE_TO. */
export function encodeFrameString(value: string): Buffer {
  return new BinaryWriter(8 + value.length * 3).string(value).finish();
}

/**
 * Decodes a body that is exactly one string (a LOST body).
 *
 * @throws RangeError for a malformed body
 */
export function decodeFrameString(body: Uint8Array): string {
  const r = new BinaryReader(body);
  const value = r.string();
  r.end();
  return value;
}

/**
 * The target member of an ENVELOPE_TO body and where its envelope starts.
 *
 * @throws RangeError for a malformed body
 */
export function readEnvelopeTo(body: Uint8Array): { toMember: string; envelopeAt: number } {
  const r = new BinaryReader(body);
  const toMember = r.string();
  return { toMember, envelopeAt: r.position };
}
