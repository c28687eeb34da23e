import { ErrorCode } from "./gen/hb/v1/error_pb.js";

/**
 * The error every hb package throws or reports for protocol-level failures.
 *
 * `code` is a stable {@link ErrorCode} from the protocol's error enum, the
 * same number that travels in a `ProtocolError` frame, so code can match on
 * it across languages. `message` is for people and may change.
 */
export class HbError extends Error {
  /** Stable protocol error code. */
  readonly code: ErrorCode;

  /**
   * @param code - stable protocol error code
   * @param message - human-readable detail
   * @param options - standard `ErrorOptions` (e.g. `cause`)
   */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "HbError";
    this.code = code;
  }

  /** The code's enum name without prefix, e.g. `"FRAME_TOO_LARGE"`. */
  get codeName(): string {
    return errorCodeName(this.code);
  }
}

/**
 * The enum name of an error code without its `ERROR_CODE_` prefix, e.g.
 * `errorCodeName(ErrorCode.BAD_VARINT) === "BAD_VARINT"`. Unknown numbers
 * (from a newer peer) are returned as `"UNKNOWN_<n>"`.
 */
export function errorCodeName(code: ErrorCode): string {
  const name = ErrorCode[code];
  return name === undefined ? `UNKNOWN_${code}` : name;
}
