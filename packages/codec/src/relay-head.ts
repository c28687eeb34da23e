import { varintSize, writeVarint32 } from "@hb/codec";

/** `Frame.delivery` field number (PROTOCOL.md §4.1). */
export const DELIVERY_FIELD = 19;
/** `Frame.reply` field number. */
export const REPLY_FIELD = 20;
/** `Frame.presence` field number. */
export const PRESENCE_FIELD = 21;

/**
 * Length (prefix excluded) of a Frame made of `Frame.channel` (omitted
 * when 0) and one length-delimited body field of `bodyLength` bytes.
 */
export function relayFrameLength(channel: number, field: number, bodyLength: number): number {
  return (channel === 0 ? 0 : 1 + varintSize(channel)) + varintSize((field << 3) | 2) + varintSize(bodyLength) + bodyLength;
}

/**
 * The per-recipient part of a relayed frame: length prefix, `Frame.channel`
 * and the body field's tag and length. `head` followed by the shared body
 * bytes is the frame's wire form, so a body encoded once can be queued on
 * many connections (`FrameScheduler.data(channel, [head, body])`), each
 * with its own channel. At most 18 bytes.
 */
export function relayHead(channel: number, field: number, bodyLength: number): Uint8Array {
  const tag = (field << 3) | 2;
  const frameLength = relayFrameLength(channel, field, bodyLength);
  const head = new Uint8Array(varintSize(frameLength) + frameLength - bodyLength);
  let pos = writeVarint32(head, 0, frameLength);
  if (channel !== 0) {
    head[pos++] = 0x08;
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
