import { ErrorCode } from "@hb/codec";
import { decodeErrorScenario } from "./decode-error-scenario.js";

/** A length prefix of 2^32-1 exceeds any max_frame_size → FRAME_TOO_LARGE, before buffering (PROTOCOL.md §3.2). */
export const decodeFrameTooLarge = decodeErrorScenario(
  "decode-frame-too-large",
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  ErrorCode.FRAME_TOO_LARGE,
  "a length prefix of 4294967295 with no body",
);
