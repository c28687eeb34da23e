import { ErrorCode } from "@hb/codec";
import { decodeErrorScenario } from "./decode-error-scenario.js";

/** Invalid UTF-8 in a string field is a malformed frame → MALFORMED_FRAME (PROTOCOL.md §3.4). */
export const decodeInvalidUtf8 = decodeErrorScenario(
  "decode-invalid-utf8",
  [0x06, 0x2a, 0x04, 0x0a, 0x02, 0xff, 0xfe],
  ErrorCode.MALFORMED_FRAME,
  "a Goodbye whose reason is invalid UTF-8 (ff fe)",
);
