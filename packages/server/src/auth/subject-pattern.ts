/**
 * NATS-style subject patterns (PROTOCOL.md §10.2) as token arrays: `*`
 * matches one token, a last `>` one or more. Pure functions over split
 * subjects; the permission lists use them ({@link SubjectRule}).
 */

/** A pattern or subject split at `.`. */
export type Tokens = readonly string[];

/** Whether `pattern` matches the concrete subject `subject`. */
export function matchesSubject(pattern: Tokens, subject: Tokens): boolean {
  const n = pattern.length;
  for (let i = 0; i < n; i++) {
    const p = pattern[i] as string;
    if (p === ">") return subject.length > i;
    if (i >= subject.length) return false;
    if (p !== "*" && p !== subject[i]) return false;
  }
  return subject.length === n;
}

/**
 * Whether pattern `a` covers pattern `b`: `a` matches every subject `b`
 * matches (`a.>` covers `a.*` and `a.b`; `a.*` does not cover `a.>`).
 */
export function covers(a: Tokens, b: Tokens): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as string;
    if (x === ">") return b.length > i;
    if (i >= b.length) return false;
    const y = b[i] as string;
    if (y === ">") return false;
    if (x !== "*" && (y === "*" || x !== y)) return false;
  }
  return a.length === b.length;
}

/** Whether some subject matches both patterns. */
export function overlaps(a: Tokens, b: Tokens): boolean {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === ">" ) return y !== undefined;
    if (y === ">") return x !== undefined;
    if (x === undefined || y === undefined) return false;
    if (x !== "*" && y !== "*" && x !== y) return false;
  }
  return true;
}
