import { ErrorCode } from "./gen/hb/v1/error_pb.js";

/** Longest subject or pattern, in UTF-8 bytes (docs/PROTOCOL.md §10.1). */
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

/** UTF-8 length of a string without allocating (lone surrogates count 3, as TextEncoder writes U+FFFD). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Checks a concrete subject (`pattern: false`: Publish, request targets,
 * wills) or a subscription pattern (`pattern: true`) against the protocol's
 * rules (docs/PROTOCOL.md §10.1–10.2): 1..256 bytes of UTF-8, at most 16
 * dot-separated non-empty tokens, no space or control character; in a
 * pattern a token `*` matches one token and a last token `>` one or more; a
 * token that merely contains `*` or `>` is invalid, and a concrete subject
 * has no wildcard at all. The reserved `$hb.` space is not checked here.
 *
 * One implementation for the client, the server and the conformance runner,
 * so they cannot drift apart.
 *
 * @returns `undefined` when valid, else a description of the problem
 */
export function subjectProblem(subject: unknown, pattern: boolean): string | undefined {
  const what = pattern ? "subject pattern" : "subject";
  if (typeof subject !== "string") return `${what} must be a string`;
  const fail = (why: string): string => `invalid ${what} ${JSON.stringify(subject.slice(0, 64))}: ${why}`;
  if (subject.length === 0) return fail("empty");
  if (subject.length > MAX_SUBJECT_BYTES || utf8Length(subject) > MAX_SUBJECT_BYTES) {
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

/** Why a subject cannot be published to: the code a server answers, and why. */
export interface PublishProblem {
  /** `INVALID_ARGUMENT` for a malformed subject, `FORBIDDEN` for one in `$hb.`. */
  code: ErrorCode;
  /** What is wrong, for people. */
  message: string;
}

/**
 * The rule for a subject a node (or the server application, or a will)
 * publishes to (PROTOCOL.md §10.1, §10.5): a concrete subject
 * ({@link subjectProblem} without wildcards) outside the reserved `$hb.`
 * space. One rule for the client's early check and the server's answer.
 *
 * @returns `undefined` when `subject` may be published to
 */
export function publishProblem(subject: unknown): PublishProblem | undefined {
  const problem = subjectProblem(subject, false);
  if (problem !== undefined) return { code: ErrorCode.INVALID_ARGUMENT, message: problem };
  if (isReservedSubject(subject as string)) {
    return {
      code: ErrorCode.FORBIDDEN,
      message: `publishing to "${RESERVED_SUBJECT_PREFIX}" subjects is not allowed (${subject as string})`,
    };
  }
  return undefined;
}
