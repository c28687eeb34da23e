import { ErrorCode } from "@hb/codec";
import { decodeErrorScenario } from "./decode-error-scenario.js";

/** A body that is not protobuf (a Hello field claiming 5 bytes, holding 1) → MALFORMED_FRAME (PROTOCOL.md §3.4). */
export const decodeMalformedFrame = decodeErrorScenario(
  "decode-malformed-frame",
  [0x03, 0x12, 0x05, 0x08],
  ErrorCode.MALFORMED_FRAME,
  "a 3-byte frame that is not valid protobuf (field 2 claims 5 bytes, 1 follows)",
);
