import { type Will, publishProblem } from "@hb/codec";

/** A node's will as the server keeps it: subject and a private copy of the payload. */
export interface NodeWill {
  /** Concrete subject the will is published to. */
  readonly subject: string;
  /** Payload to publish. */
  readonly payload: Uint8Array;
}

/**
 * Checks the subject of a will (PROTOCOL.md §4.3): a subject one may
 * publish to (`publishProblem` of @hb/codec: concrete, not in `$hb.`). An
 * empty subject is an error, not "no will". Every problem is
 * `INVALID_ARGUMENT` for the Hello or Attach that carries it.
 *
 * @returns `undefined` when valid, else a human-readable reason
 */
export function checkWill(will: Will): string | undefined {
  const problem = publishProblem(will.subject);
  return problem === undefined ? undefined : `will: ${problem.message}`;
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
