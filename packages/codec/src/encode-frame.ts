import { toBinary } from "@bufbuild/protobuf";
import { type Frame, FrameSchema } from "./gen/hb/v1/frame_pb.js";
import { varintSize, writeVarint32 } from "./varint.js";

/**
 * Encodes one Frame in its wire form: the varint length prefix followed by
 * the protobuf bytes (protobuf's size-delimited form).
 *
 * To write many frames with one socket write, use {@link FrameEncoder}.
 */
export function encodeFrame(frame: Frame): Uint8Array {
  return sizeDelimit(toBinary(FrameSchema, frame));
}

/**
 * Prefixes already-encoded Frame bytes with their varint length.
 */
export function sizeDelimit(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(varintSize(body.length) + body.length);
  out.set(body, writeVarint32(out, 0, body.length));
  return out;
}
