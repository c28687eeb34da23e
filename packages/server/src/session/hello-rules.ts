import { ErrorCode, type Hello, MAX_FRAME_SIZE_LIMIT, Role, MIN_MAX_FRAME_SIZE, PROTOCOL_VERSION, labelsProblem, nodeIdProblem } from "@hb/codec";
import type { Refusal } from "../core/ports/frame-handlers.js";
import { checkWill } from "../registry/node-will.js";

/**
 * Checks a Hello (PROTOCOL.md §5.1): the protocol version
 * (`UNSUPPORTED_VERSION`), then node id, labels, will, max frame size and
 * role, and an observer's will (`INVALID_ARGUMENT`). Every refusal is fatal.
 */
export function helloProblem(hello: Hello): Refusal | undefined {
  if (hello.protocolVersion !== PROTOCOL_VERSION) {
    return {
      code: ErrorCode.UNSUPPORTED_VERSION,
      message: `protocol version ${hello.protocolVersion} is not supported (this server speaks ${PROTOCOL_VERSION})`,
      fatal: true,
    };
  }
  const mfs = hello.maxFrameSize;
  const invalid =
    (hello.nodeId === "" ? undefined : nodeIdProblem(hello.nodeId)) ??
    labelsProblem(hello.labels) ??
    (hello.will === undefined ? undefined : checkWill(hello.will)) ??
    (mfs !== 0 && (mfs < MIN_MAX_FRAME_SIZE || mfs > MAX_FRAME_SIZE_LIMIT)
      ? `max_frame_size must be 0 or 1024..${MAX_FRAME_SIZE_LIMIT}, got ${mfs}`
      : undefined) ??
    // §5.7: ROLE_UNSPECIFIED, ROLE_NODE or ROLE_OBSERVER.
    (hello.role < 0 || hello.role > 2 ? `role must be 0, 1 or 2, got ${hello.role}` : undefined) ??
    // §5.7: an observer is never "lost", so it has no will.
    (hello.role === Role.OBSERVER && hello.will !== undefined ? "an observer (role ROLE_OBSERVER) must not have a will" : undefined);
  return invalid === undefined ? undefined : { code: ErrorCode.INVALID_ARGUMENT, message: invalid, fatal: true };
}
