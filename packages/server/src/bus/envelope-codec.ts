import { BinaryReader } from "./binary-reader.js";
import { varintLength, writeVarint } from "./binary-writer.js";
import type { BusEnvelope } from "../core/ports/bus-link.js";

// First byte of an encoded envelope. 0 and 6..255 are invalid (room for later versions).
const PUBLISH = 1;
const DIRECT = 2;
const BROADCAST = 3;
const BROADCAST_EXCEPT = 4;
const REPLY = 5;

/** An envelope read back by {@link decodeEnvelope}, with the member that sent it. */
export interface DecodedEnvelope {
  /** The message; its `body` is a view into the decoded input, not a copy. */
  envelope: BusEnvelope;
  /** The member it entered the bus at. */
  fromMember: string;
}

/**
 * Encodes a relayed message and its sender for the wire of a cross-process
 * link (Redis pub/sub, IPC):
 *
 * ```
 * type:u8  fromMember:string  [subject | nodeId | exceptNodeId]:string  body:rest
 * ```
 *
 * `string` is a varint byte length plus UTF-8; `type` is 1 publish (with
 * subject), 2 direct (nodeId), 3 broadcast, 4 broadcast with exceptNodeId,
 * 5 reply (nodeId). The body runs to the end of the message, so it is not
 * length-prefixed and decodes without a copy. Overhead: 2 bytes + the member
 * id + the subject or node id (a 20-byte server id and a 36-byte node id:
 * 58 bytes on top of the body).
 *
 * @param fromMember - the sending member id, or its UTF-8 bytes (callers
 *   that send often encode it once)
 * @returns a Buffer of exactly the encoded size
 */
export function encodeEnvelope(envelope: BusEnvelope, fromMember: string | Uint8Array): Buffer {
  const from = typeof fromMember === "string" ? Buffer.from(fromMember, "utf8") : fromMember;
  let type: number;
  let key: string | undefined;
  switch (envelope.type) {
    case "publish":
      type = PUBLISH;
      key = envelope.subject;
      break;
    case "direct":
      type = DIRECT;
      key = envelope.nodeId;
      break;
    case "broadcast":
      if (envelope.exceptNodeId === undefined) type = BROADCAST;
      else {
        type = BROADCAST_EXCEPT;
        key = envelope.exceptNodeId;
      }
      break;
    case "reply":
      type = REPLY;
      key = envelope.nodeId;
      break;
    default:
      throw new TypeError(`unknown envelope type ${(envelope as { type: unknown }).type}`);
  }
  const keyLength = key === undefined ? 0 : Buffer.byteLength(key, "utf8");
  const body = envelope.body;
  const size =
    1 +
    varintLength(from.length) +
    from.length +
    (key === undefined ? 0 : varintLength(keyLength) + keyLength) +
    body.length;
  const out = Buffer.allocUnsafe(size);
  out[0] = type;
  let pos = writeVarint(out, 1, from.length);
  out.set(from, pos);
  pos += from.length;
  if (key !== undefined) {
    pos = writeVarint(out, pos, keyLength);
    pos += out.write(key, pos, keyLength, "utf8");
  }
  out.set(body, pos);
  return out;
}

/**
 * Decodes what {@link encodeEnvelope} produced. The envelope's `body` is a
 * view into `input` (no copy): `input` must not be reused while it is in use.
 *
 * @throws RangeError for a truncated message or an unknown type byte
 */
export function decodeEnvelope(input: Uint8Array): DecodedEnvelope {
  const r = new BinaryReader(input);
  const type = r.byte();
  const fromMember = r.string();
  let envelope: BusEnvelope;
  switch (type) {
    case PUBLISH: {
      const subject = r.string();
      envelope = { type: "publish", subject, body: r.rest() };
      break;
    }
    case DIRECT: {
      const nodeId = r.string();
      envelope = { type: "direct", nodeId, body: r.rest() };
      break;
    }
    case BROADCAST:
      envelope = { type: "broadcast", body: r.rest() };
      break;
    case BROADCAST_EXCEPT: {
      const exceptNodeId = r.string();
      envelope = { type: "broadcast", body: r.rest(), exceptNodeId };
      break;
    }
    case REPLY: {
      const nodeId = r.string();
      envelope = { type: "reply", nodeId, body: r.rest() };
      break;
    }
    default:
      throw new RangeError(`unknown envelope type byte ${type}`);
  }
  return { envelope, fromMember };
}

/**
 * Whether an encoded envelope was sent by `fromMember` (its UTF-8 bytes),
 * read without decoding anything: a member subscribed to a channel it also
 * publishes on (Redis has no "no local") skips its own messages for a few
 * byte comparisons.
 */
export function isEnvelopeFrom(input: Uint8Array, fromMember: Uint8Array): boolean {
  let pos = 1;
  let length = 0;
  let scale = 1;
  for (;;) {
    const b = input[pos++];
    if (b === undefined || scale > 2 ** 21) return false;
    length += (b & 0x7f) * scale;
    if (b < 0x80) break;
    scale *= 128;
  }
  if (length !== fromMember.length || pos + length > input.length) return false;
  for (let i = 0; i < length; i++) if (input[pos + i] !== fromMember[i]) return false;
  return true;
}
