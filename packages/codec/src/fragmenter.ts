import { toBinary } from "@bufbuild/protobuf";
import { type Frame, FrameSchema } from "./gen/hb/v1/frame_pb.js";
import { makeFrame } from "./make-frame.js";
import { type VarintCursor, readVarint32 } from "./varint.js";

/**
 * Room left in every fragment frame for its own envelope: Frame.channel
 * (≤ 6 bytes), the body tag and length (≤ 7), Fragment.id (≤ 6),
 * Fragment.total_length (≤ 11), the data tag and length (≤ 6) and
 * Fragment.final (2), rounded up.
 */
export const FRAGMENT_OVERHEAD = 64;

/** Options of {@link fragmentFrame}. */
export interface FragmentOptions {
  /** Fragment id, unique among the sender's unfinished fragmented frames. */
  id: number;
  /** The receiver's max frame size; every fragment frame fits in it. */
  maxFrameSize: number;
}

/**
 * Whether a frame must travel as fragments: its encoding is longer than the
 * receiver's max frame size.
 */
export function needsFragmenting(encodedLength: number, maxFrameSize: number): boolean {
  return encodedLength > maxFrameSize;
}

/**
 * Cuts a frame into Fragment frames that each fit in `maxFrameSize`.
 *
 * `frame` is a Frame, its protobuf encoding (length prefix excluded), or
 * that encoding in two parts whose concatenation it is (`[head, body]`:
 * a relayed frame's per-recipient head and its shared body, never joined).
 * The fragments carry the original `Frame.channel`, are yielded in order and
 * lazily, so a scheduler can send one, then a heartbeat ack, then the next.
 * The first carries `total_length`; the last has `final` set. Data are views
 * of the encoding, not copies, except the one piece that straddles the two
 * parts (a copy of at most one piece).
 *
 * @throws RangeError if `maxFrameSize` leaves no room for data
 */
export function* fragmentFrame(
  frame: Frame | Uint8Array | readonly [Uint8Array, Uint8Array],
  options: FragmentOptions,
): Generator<Frame, void, undefined> {
  let head: Uint8Array;
  let body: Uint8Array;
  let channel: number;
  if (frame instanceof Uint8Array) {
    head = EMPTY;
    body = frame;
    channel = channelOf(frame);
  } else if (Array.isArray(frame)) {
    head = frame[0] as Uint8Array;
    body = frame[1] as Uint8Array;
    channel = channelOf(head.length > 0 ? head : body);
  } else {
    const f = frame as Frame;
    head = EMPTY;
    body = toBinary(FrameSchema, f);
    channel = f.channel;
  }
  const piece = options.maxFrameSize - FRAGMENT_OVERHEAD;
  if (piece < 1) throw new RangeError(`maxFrameSize ${options.maxFrameSize} leaves no room for fragment data`);
  const split = head.length;
  const total = split + body.length;
  for (let off = 0; off < total || off === 0; off += piece) {
    const end = Math.min(total, off + piece);
    let data: Uint8Array;
    if (off >= split) data = body.subarray(off - split, end - split);
    else if (end <= split) data = head.subarray(off, end);
    else {
      data = new Uint8Array(end - off);
      data.set(head.subarray(off), 0);
      data.set(body.subarray(0, end - split), split - off);
    }
    yield makeFrame("fragment", { id: options.id, totalLength: off === 0 ? BigInt(total) : 0n, data, final: end === total }, channel);
    if (end === total) return;
  }
}

const EMPTY = new Uint8Array(0);
const cursor: VarintCursor = { pos: 0 };

/** Reads Frame.channel (field 1) if it is the first field of an encoding, else 0. */
function channelOf(bytes: Uint8Array): number {
  if (bytes[0] !== 0x08) return 0;
  const value = readVarint32(bytes, 1, bytes.length, cursor);
  return value < 0 ? 0 : value;
}
