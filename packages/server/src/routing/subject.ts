import { ErrorCode, HbError } from "@hb/codec";

/** Longest subject or pattern, in UTF-8 bytes. */
export const MAX_SUBJECT_BYTES = 256;

/** Most tokens in a subject or pattern. */
export const MAX_SUBJECT_TOKENS = 16;

/** Prefix of subjects reserved for hb itself. */
export const RESERVED_PREFIX = "$hb.";

/** The reserved subject that delivers presence events. */
export const PRESENCE_SUBJECT = "$hb.presence";

const encoder = new TextEncoder();

/**
 * Checks a subject (`wildcards: false`, for publishing) or a subscription
 * pattern (`wildcards: true`) and returns its tokens.
 *
 * Subjects are dot-separated, non-empty tokens without spaces or control
 * characters. In a pattern, a token `*` matches exactly one token and a last
 * token `>` matches one or more tokens (NATS style).
 *
 * @throws `HbError` `INVALID_ARGUMENT` naming what is wrong
 */
export function parseSubject(subject: string, wildcards: boolean): string[] {
  const fail = (why: string): never => {
    throw new HbError(ErrorCode.INVALID_ARGUMENT, `invalid ${wildcards ? "subject pattern" : "subject"} ${JSON.stringify(subject.slice(0, 64))}: ${why}`);
  };
  if (subject.length === 0) fail("empty");
  if (subject.length > MAX_SUBJECT_BYTES || encoder.encode(subject).length > MAX_SUBJECT_BYTES) {
    fail(`longer than ${MAX_SUBJECT_BYTES} bytes`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
  if (/[\u0000-\u0020\u007f]/.test(subject)) fail("contains a space or a control character");
  const tokens = subject.split(".");
  if (tokens.length > MAX_SUBJECT_TOKENS) fail(`more than ${MAX_SUBJECT_TOKENS} tokens`);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (t.length === 0) fail("empty token");
    if (t === "*" || t === ">") {
      if (!wildcards) fail("wildcards are only allowed when subscribing");
      if (t === ">" && i !== tokens.length - 1) fail("'>' must be the last token");
    } else if (t.includes("*") || t.includes(">")) {
      fail("'*' and '>' must stand alone as a token");
    }
  }
  return tokens;
}

/** Whether a subject or pattern lies in the reserved `$hb.` space. */
export function isReservedSubject(subject: string): boolean {
  return subject.startsWith(RESERVED_PREFIX);
}

/** Whether a pattern contains a wildcard token. */
export function hasWildcard(tokens: readonly string[]): boolean {
  return tokens.includes("*") || tokens.includes(">");
}
