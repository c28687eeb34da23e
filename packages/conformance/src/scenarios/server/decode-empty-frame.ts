import { ErrorCode } from "@hb/codec";
import { decodeErrorScenario } from "./decode-error-scenario.js";

/** A frame of length 0 has no body → EMPTY_FRAME (PROTOCOL.md §3.4). */
export const decodeEmptyFrame = decodeErrorScenario("decode-empty-frame", [0x00], ErrorCode.EMPTY_FRAME, "a frame of length 0");
