import { ErrorCode } from "@hb/codec";

/**
 * Error codes that auto-reconnect does not retry: trying again with the same
 * Hello would be refused the same way, or (for `DUPLICATE_NODE`) would take
 * the node id back from the newer connection that replaced this one, and
 * two clients with one id would then evict each other forever.
 */
export const PERMANENT_ERROR_CODES: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.UNAUTHORIZED,
  ErrorCode.UNSUPPORTED_VERSION,
  ErrorCode.INVALID_ARGUMENT,
  ErrorCode.DUPLICATE_NODE,
]);

/** Whether a fatal error with this code ends the client instead of a reconnect. */
export function isPermanentErrorCode(code: ErrorCode): boolean {
  return PERMANENT_ERROR_CODES.has(code);
}
