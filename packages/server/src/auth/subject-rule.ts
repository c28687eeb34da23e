import { type Tokens, covers, matchesSubject, overlaps } from "./subject-pattern.js";

/** Most subjects whose verdict a {@link SubjectRule} remembers (then it forgets them all and starts again). */
export const SUBJECT_RULE_CACHE = 1024;

/** What a {@link SubjectRule} says about a Subscribe. */
export type SubscribeVerdict = "allow" | "deny" | "filter";

const split = (patterns: readonly string[]): Tokens[] => patterns.map((p) => p.split("."));

/**
 * Compiled allow / deny lists of subject patterns (NATS style), for one
 * connection's publish or subscribe permission.
 *
 * Publishing is the hot path: {@link SubjectRule.allows} remembers the
 * verdict per subject (a Map lookup once a subject was seen; at most
 * {@link SUBJECT_RULE_CACHE} subjects). `pnpm bench:permissions` measures
 * it against no check at all (figures in docs/PERFORMANCE.md).
 */
export class SubjectRule {
  /** The allow patterns, `undefined` for "anything not denied". */
  readonly allow: readonly string[] | undefined;
  /** The deny patterns. */
  readonly deny: readonly string[];
  readonly #allow: Tokens[] | undefined;
  readonly #deny: Tokens[];
  readonly #allows = new Map<string, boolean>();
  readonly #denies = new Map<string, boolean>();

  constructor(allow: readonly string[] | undefined, deny: readonly string[]) {
    this.allow = allow;
    this.deny = deny;
    this.#allow = allow === undefined ? undefined : split(allow);
    this.#deny = split(deny);
  }

  /** Whether the concrete `subject` may be published to: an allow pattern matches it and no deny pattern. */
  allows(subject: string): boolean {
    const known = this.#allows.get(subject);
    if (known !== undefined) return known;
    const tokens = subject.split(".");
    const ok = (this.#allow === undefined || this.#allow.some((p) => matchesSubject(p, tokens))) && !this.#deny.some((p) => matchesSubject(p, tokens));
    remember(this.#allows, subject, ok);
    return ok;
  }

  /** Whether a deny pattern matches the concrete `subject` (the delivery filter of a wider subscription). */
  denies(subject: string): boolean {
    const known = this.#denies.get(subject);
    if (known !== undefined) return known;
    const tokens = subject.split(".");
    const denied = this.#deny.some((p) => matchesSubject(p, tokens));
    remember(this.#denies, subject, denied);
    return denied;
  }

  /**
   * A Subscribe to `pattern` (a subject or a pattern): `allow` when an
   * allow pattern covers it and no deny pattern overlaps it, `deny` when
   * none covers it or a deny pattern covers it, `filter` when it is
   * allowed but some subjects it matches are denied (deliveries of those
   * are dropped: check {@link SubjectRule.denies}).
   */
  subscribe(pattern: string): SubscribeVerdict {
    const tokens = pattern.split(".");
    if (this.#allow !== undefined && !this.#allow.some((p) => covers(p, tokens))) return "deny";
    if (this.#deny.some((p) => covers(p, tokens))) return "deny";
    return this.#deny.some((p) => overlaps(p, tokens)) ? "filter" : "allow";
  }
}

function remember(cache: Map<string, boolean>, subject: string, verdict: boolean): void {
  if (cache.size >= SUBJECT_RULE_CACHE) cache.clear();
  cache.set(subject, verdict);
}
