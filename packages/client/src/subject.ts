import { HbError, publishProblem } from "@hb/codec";

// The rules live in @hb/codec so the client and the server cannot drift apart.
export {
  MAX_SUBJECT_BYTES,
  MAX_SUBJECT_TOKENS,
  PRESENCE_SUBJECT,
  RESERVED_SUBJECT_PREFIX,
  isReservedSubject,
  subjectProblem,
} from "@hb/codec";

/**
 * Checks a subject for publishing: {@link subjectProblem} without
 * wildcards, and not in the reserved `$hb.` space.
 *
 * @throws {@link HbError} `INVALID_ARGUMENT` for a malformed subject,
 *   `FORBIDDEN` for a `$hb.` subject (what the server would answer)
 */
export function assertPublishSubject(subject: string): void {
  const problem = publishProblem(subject);
  if (problem !== undefined) throw new HbError(problem.code, problem.message);
}
