import { ErrorCode, HbError } from "@hb/codec";

/** Longest subject or pattern, in UTF-8 bytes. */
export const MAX_SUBJECT_BYTES = 256;

/** Most tokens in a subject or pattern. */
export const MAX_SUBJECT_TOKENS = 16;

/** Prefix of the subjects reserved for hb itself. */
export const RESERVED_SUBJECT_PREFIX = "$hb.";

/** The reserved subject whose subscriptions receive presence events. */
export const PRESENCE_SUBJECT = "$hb.presence";

// Bytes 0x00–0x20 (controls and space) and 0x7F.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
const FORBIDDEN_CHARS = /[\u0000-\u0020\u007f]/;

/**
 * Checks a concrete subject (`pattern: false`: Publish, request targets) or
 * a subscription pattern (`pattern: true`) against the protocol's rules
 * (PROTOCOL.md §10.1–10.2): 1..256 bytes of UTF-8, at most 16 dot-separated
 * non-empty tokens, no space or control character; in a pattern a token
 * `*` matches one token and a last token `>` one or more; a token that
 * merely contains `*` or `>` is invalid, and a concrete subject has no
 * wildcard at all. The reserved `$hb.` space is not checked here.
 *
 * @returns `undefined` when valid, else a description of the problem
 */
export function subjectProblem(subject: unknown, pattern: boolean): string | undefined {
  const what = pattern ? "subject pattern" : "subject";
  if (typeof subject !== "string") return `${what} must be a string`;
  const fail = (why: string): string => `invalid ${what} ${JSON.stringify(subject.slice(0, 64))}: ${why}`;
  if (subject.length === 0) return fail("empty");
  if (subject.length > MAX_SUBJECT_BYTES || Buffer.byteLength(subject, "utf8") > MAX_SUBJECT_BYTES) {
    return fail(`longer than ${MAX_SUBJECT_BYTES} bytes`);
  }
  if (FORBIDDEN_CHARS.test(subject)) return fail("contains a space or a control character");
  const tokens = subject.split(".");
  if (tokens.length > MAX_SUBJECT_TOKENS) return fail(`more than ${MAX_SUBJECT_TOKENS} tokens`);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (t.length === 0) return fail("empty token");
    if (t === "*" || t === ">") {
      if (!pattern) return fail("wildcards '*' and '>' are only allowed when subscribing");
      if (t === ">" && i !== tokens.length - 1) return fail("'>' must be the last token");
    } else if (t.includes("*") || t.includes(">")) {
      return fail("'*' and '>' must stand alone as a token");
    }
  }
  return undefined;
}

/** Whether a subject or pattern lies in the reserved `$hb.` space. */
export function isReservedSubject(subject: string): boolean {
  return subject.startsWith(RESERVED_SUBJECT_PREFIX);
}

/**
 * Checks a subject for publishing: {@link subjectProblem} without
 * wildcards, and not in the reserved `$hb.` space.
 *
 * @throws {@link HbError} `INVALID_ARGUMENT` for a malformed subject,
 *   `FORBIDDEN` for a `$hb.` subject (what the server would answer)
 */
export function assertPublishSubject(subject: string): void {
  const problem = subjectProblem(subject, false);
  if (problem !== undefined) throw new HbError(ErrorCode.INVALID_ARGUMENT, problem);
  if (isReservedSubject(subject)) {
    throw new HbError(ErrorCode.FORBIDDEN, `subject ${JSON.stringify(subject)} is reserved: "$hb." subjects cannot be published to`);
  }
}
