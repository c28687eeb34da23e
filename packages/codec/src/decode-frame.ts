import { fromBinary } from "@bufbuild/protobuf";
import { ErrorCode } from "./gen/hb/v1/error_pb.js";
import { type Frame, FrameSchema } from "./gen/hb/v1/frame_pb.js";
import { HbError } from "./hb-error.js";
import { findWireTypeMismatch } from "./wire-type-check.js";

// Unknown fields are not kept: a hostile peer must not make us hold bytes we
// will never use.
const READ_OPTIONS = { readUnknownFields: false } as const;

/**
 * Decodes the bytes of one Frame (without its length prefix).
 *
 * `bytes` fields of the result (payloads) are views into `bytes`, not
 * copies: keep `bytes` unchanged for as long as the frame is used.
 *
 * @throws {@link HbError} `MALFORMED_FRAME` when the bytes are not a valid
 *   protobuf `Frame` (including invalid UTF-8 in a string, or a known field
 *   with the wrong wire type), `EMPTY_FRAME`
 *   when no body is set (also when only fields unknown to this version are).
 */
export function decodeFrame(bytes: Uint8Array): Frame {
  const field = findWireTypeMismatch(FrameSchema, bytes);
  if (field !== 0) {
    throw new HbError(ErrorCode.MALFORMED_FRAME, `malformed frame: field ${field} has the wrong wire type`);
  }
  const frame = parse(bytes);
  if (frame.body.case === undefined) {
    throw new HbError(ErrorCode.EMPTY_FRAME, "frame has no body");
  }
  return frame;
}

// Kept apart so that decodeFrame itself has no try/catch.
function parse(bytes: Uint8Array): Frame {
  try {
    return fromBinary(FrameSchema, bytes, READ_OPTIONS);
  } catch (cause) {
    throw new HbError(
      ErrorCode.MALFORMED_FRAME,
      `malformed frame: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}
