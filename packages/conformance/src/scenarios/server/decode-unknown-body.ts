import { ErrorCode } from "@hb/codec";
import { decodeErrorScenario } from "./decode-error-scenario.js";

/** A frame holding only a field unknown to v1 has no body → EMPTY_FRAME (PROTOCOL.md §3.4). */
export const decodeUnknownBody = decodeErrorScenario(
  "decode-unknown-body",
  [0x03, 0x98, 0x06, 0x01],
  ErrorCode.EMPTY_FRAME,
  "a frame holding only unknown field 99",
);
