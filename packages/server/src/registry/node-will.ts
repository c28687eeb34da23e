import { HbError, type Will } from "@hb/codec";
import { isReservedSubject, parseSubject } from "../routing/subject.js";

/** A node's will as the server keeps it: subject and a private copy of the payload. */
export interface NodeWill {
  /** Concrete subject the will is published to. */
  readonly subject: string;
  /** Payload to publish. */
  readonly payload: Uint8Array;
}

/**
 * Checks the subject of a will (PROTOCOL.md §4.3): a concrete subject by the
 * subject rules of {@link parseSubject} (no wildcards), not in the reserved
 * `$hb.` namespace. An empty subject is an error, not "no will".
 *
 * @returns `undefined` when valid, else a human-readable reason
 */
export function checkWill(will: Will): string | undefined {
  try {
    parseSubject(will.subject, false);
  } catch (err) {
    if (err instanceof HbError) return `will: ${err.message}`;
    throw err;
  }
  if (isReservedSubject(will.subject)) return 'will subject is in the reserved "$hb." namespace';
  return undefined;
}

/**
 * Copies a decoded will into a {@link NodeWill}. The payload is copied
 * because decoded payloads are views into the socket chunk they arrived in,
 * and keeping a view would keep the whole chunk alive.
 */
export function keepWill(will: Will): NodeWill {
  // new Uint8Array(view) copies; Buffer#slice would not.
  return { subject: will.subject, payload: new Uint8Array(will.payload) };
}
