import { ErrorCode } from "@hb/codec";
import { decodeErrorScenario } from "./decode-error-scenario.js";

/** A length prefix whose 5th byte is > 0x0F is not a 32-bit varint → BAD_VARINT (PROTOCOL.md §3.2). */
export const decodeBadVarint = decodeErrorScenario(
  "decode-bad-varint",
  [0x80, 0x80, 0x80, 0x80, 0x10],
  ErrorCode.BAD_VARINT,
  "a length prefix that is not a 32-bit varint",
);
