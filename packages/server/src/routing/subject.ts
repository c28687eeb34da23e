import { ErrorCode, HbError, RESERVED_SUBJECT_PREFIX, subjectProblem } from "@hb/codec";

// The rules live in @hb/codec so the client and the server cannot drift apart.
export { MAX_SUBJECT_BYTES, MAX_SUBJECT_TOKENS, PRESENCE_SUBJECT, isReservedSubject } from "@hb/codec";

/** Prefix of subjects reserved for hb itself (`"$hb."`). */
export const RESERVED_PREFIX = RESERVED_SUBJECT_PREFIX;

/**
 * Checks a subject (`wildcards: false`, for publishing) or a subscription
 * pattern (`wildcards: true`) with the protocol's rules (`subjectProblem`
 * in @hb/codec) and returns its tokens.
 *
 * @throws `HbError` with code `INVALID_ARGUMENT` naming what is wrong
 */
export function parseSubject(subject: string, wildcards: boolean): string[] {
  const problem = subjectProblem(subject, wildcards);
  if (problem !== undefined) throw new HbError(ErrorCode.INVALID_ARGUMENT, problem);
  return subject.split(".");
}

/** Whether a pattern contains a wildcard token. */
export function hasWildcard(tokens: readonly string[]): boolean {
  return tokens.includes("*") || tokens.includes(">");
}
