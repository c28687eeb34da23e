import { type OverflowMode, OverflowPolicy, PRESENCE_SUBJECT, type Subscribe, isReservedSubject, labelsProblem, subjectProblem } from "@hb/codec";
import type { NodeLabels } from "../registry/node-labels.js";

const OVERFLOW: Readonly<Record<number, OverflowMode>> = {
  [OverflowPolicy.UNSPECIFIED]: "drop-oldest",
  [OverflowPolicy.DROP_OLDEST]: "drop-oldest",
  [OverflowPolicy.DROP_NEWEST]: "drop-newest",
  [OverflowPolicy.DISCONNECT]: "disconnect",
};

const EMPTY_FILTER: NodeLabels = Object.freeze({});

/** What a valid Subscribe asks for, normalized. */
export interface SubscribeRequest {
  /** Subject or pattern. */
  readonly subject: string;
  /** Whether it is `$hb.presence`. */
  readonly presence: boolean;
  /** Whether it has a `*` or `>` token. */
  readonly pattern: boolean;
  /** Presence only: the label filter (frozen; empty: every node). */
  readonly labelFilter: NodeLabels;
  /** Presence only: whether a snapshot comes first. */
  readonly snapshot: boolean;
  /** Presence only: whether flap damping is off for it (§7.6). */
  readonly undamped: boolean;
  /** Overflow policy (`UNSPECIFIED` is drop-oldest). */
  readonly overflow: OverflowMode;
}

/**
 * Checks a Subscribe against PROTOCOL.md §10.1–10.4 and §4.13: subject or
 * pattern rules; in `$hb.` only `$hb.presence` (exactly); `label_filter`
 * (within the label limits), `snapshot` and `undamped` only there; a known overflow
 * policy.
 *
 * @returns the normalized request, or the reason it is `INVALID_ARGUMENT`
 */
export function checkSubscribe(s: Subscribe): SubscribeRequest | string {
  const subject = s.subject;
  const problem = subjectProblem(subject, true);
  if (problem !== undefined) return problem;
  const presence = subject === PRESENCE_SUBJECT;
  if (!presence && isReservedSubject(subject)) {
    return `${JSON.stringify(subject)} is reserved: only "${PRESENCE_SUBJECT}" may be subscribed to in "$hb."`;
  }
  let labelFilter = EMPTY_FILTER;
  if (Object.keys(s.labelFilter).length > 0) {
    if (!presence) return `label_filter is only allowed on "${PRESENCE_SUBJECT}"`;
    const filterProblem = labelsProblem(s.labelFilter, "labels");
    if (filterProblem !== undefined) return `label_filter: ${filterProblem}`;
    labelFilter = Object.freeze({ ...s.labelFilter });
  }
  if (s.snapshot && !presence) return `snapshot is only allowed on "${PRESENCE_SUBJECT}"`;
  if (s.undamped && !presence) return `undamped is only allowed on "${PRESENCE_SUBJECT}"`;
  const overflow = OVERFLOW[s.overflow];
  if (overflow === undefined) return `unknown overflow policy ${s.overflow}`;
  return { subject, presence, // Valid wildcards stand alone as tokens: any `*` or `>` is one.
    pattern: subject.includes("*") || subject.includes(">"), labelFilter, snapshot: s.snapshot, undamped: s.undamped, overflow };
}
