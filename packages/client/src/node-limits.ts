import { ErrorCode, HbError } from "@hb/codec";

// The rules live in @hb/codec so the client and the server cannot drift apart.
export {
  MAX_LABELS,
  MAX_LABEL_KEY_BYTES,
  MAX_LABEL_VALUE_BYTES,
  MAX_NODE_ID_BYTES,
  labelsProblem,
  nodeIdProblem,
} from "@hb/codec";

/**
 * Throws `HbError(INVALID_ARGUMENT)` when `problem` is set: the same code the
 * server would answer with, so callers match one code wherever the check
 * happened.
 */
export function throwInvalidArgument(problem: string | undefined): void {
  if (problem !== undefined) throw new HbError(ErrorCode.INVALID_ARGUMENT, problem);
}
