import { FrameSchema } from "./gen/hb/v1/frame_pb.js";
import { varintSize, writeVarint32 } from "./varint.js";

// Read from the schema, never written out: a renumbering in proto/ moves them too.
/** `Frame.delivery` field number (PROTOCOL.md §4.1), from the schema. */
export const DELIVERY_FIELD: number = FrameSchema.field.delivery?.number as number;
/** `Frame.reply` field number, from the schema. */
export const REPLY_FIELD: number = FrameSchema.field.reply?.number as number;
/** `Frame.presence` field number, from the schema. */
export const PRESENCE_FIELD: number = FrameSchema.field.presence?.number as number;
/** `Frame.channel` field number, from the schema. */
const CHANNEL_TAG = ((FrameSchema.field.channel?.number as number) << 3) | 0;

/**
 * Length (prefix excluded) of a Frame made of `Frame.channel` (omitted
 * when 0) and one length-delimited body field of `bodyLength` bytes.
 */
export function relayFrameLength(channel: number, field: number, bodyLength: number): number {
  return (channel === 0 ? 0 : varintSize(CHANNEL_TAG) + varintSize(channel)) + varintSize((field << 3) | 2) + varintSize(bodyLength) + bodyLength;
}

/**
 * The per-recipient part of a relayed frame: length prefix, `Frame.channel`
 * and the body field's tag and length. `head` followed by the shared body
 * bytes is the frame's wire form, so a body encoded once can be queued on
 * many connections (`FrameScheduler.relay(channel, head, body)`), each
 * with its own channel. At most 18 bytes.
 */
export function relayHead(channel: number, field: number, bodyLength: number): Uint8Array {
  const tag = (field << 3) | 2;
  const frameLength = relayFrameLength(channel, field, bodyLength);
  const head = new Uint8Array(varintSize(frameLength) + frameLength - bodyLength);
  let pos = writeVarint32(head, 0, frameLength);
  if (channel !== 0) {
    head[pos++] = CHANNEL_TAG;
    pos = writeVarint32(head, pos, channel);
  }
  pos = writeVarint32(head, pos, tag);
  writeVarint32(head, pos, bodyLength);
  return head;
}

/**
 * The Frame encoding (length prefix excluded) of `head` + `body`: a copy,
 * for the rare frame too large for its recipient that must be cut into
 * fragments.
 */
export function joinRelayFrame(head: Uint8Array, body: Uint8Array, frameLength: number): Uint8Array {
  const prefix = varintSize(frameLength);
  const out = new Uint8Array(frameLength);
  out.set(head.subarray(prefix), 0);
  out.set(body, head.length - prefix);
  return out;
}
