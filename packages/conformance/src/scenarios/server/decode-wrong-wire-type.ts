import { ErrorCode } from "@hb/codec";
import { decodeErrorScenario } from "./decode-error-scenario.js";

/**
 * A known field with a wire type its type cannot have (Frame.heartbeat, a
 * message, as varint 0) → MALFORMED_FRAME (PROTOCOL.md §3.4); many protobuf
 * runtimes would silently accept it.
 */
export const decodeWrongWireType = decodeErrorScenario(
  "decode-wrong-wire-type",
  [0x02, 0x38, 0x00],
  ErrorCode.MALFORMED_FRAME,
  "a frame whose heartbeat field (a message) arrives as a varint",
);
