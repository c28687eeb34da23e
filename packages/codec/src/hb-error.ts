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
   * The server's `retry_after_ms` when it refused a connection (PROTOCOL.md
   * §6.6): wait at least this long before connecting again. `undefined`
   * when the server gave no hint (0 on the wire) or the error is not a
   * refusal.
   */
  readonly retryAfterMs: number | undefined;

  /**
   * @param code - stable protocol error code
   * @param message - human-readable detail
   * @param options - standard `ErrorOptions` (e.g. `cause`), and the
   *   server's `retryAfterMs` hint (ignored unless > 0)
   */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions & { retryAfterMs?: number }) {
    super(message, options);
    this.name = "HbError";
    this.code = code;
    const retryAfter = options?.retryAfterMs;
    this.retryAfterMs = retryAfter !== undefined && retryAfter > 0 ? retryAfter : undefined;
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
