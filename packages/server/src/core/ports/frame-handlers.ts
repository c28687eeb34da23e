import type { ErrorCode, Frame, FrameBodyCase } from "@hb/codec";

/** A refusal of one operation, which the session sends as a ProtocolError (non-fatal unless `fatal`). */
export interface Refusal {
  /** Error code to send. */
  code: ErrorCode;
  /** Human-readable detail. */
  message: string;
  /** Close the connection after it. */
  fatal?: boolean;
}

/** The decoded body of a frame of type `C`. */
export type FrameValue<C extends FrameBodyCase> = Extract<Frame["body"], { case: C }>["value"];

/**
 * Handles one frame type for a welcomed connection: `peer` is the
 * connection, `record` what it registered, `now` the monotonic time the
 * frame was read.
 *
 * @returns a refusal to send back, or `undefined`
 */
export type FrameHandler<P, R, C extends FrameBodyCase> = (
  peer: P,
  record: R,
  value: FrameValue<C>,
  frame: Frame,
  now: number,
) => Refusal | undefined;

/**
 * The dispatch table of a session (the yamux `handlers[type]` idea): frame
 * type → the handler of the part that owns it (liveness, gateway, routing).
 * The core builds it once; the session looks a frame's type up in it, with
 * no switch of its own over the parts' frames. Types missing here are the
 * session's own (Hello, Goodbye, Error, Fragment) or server-only ones.
 */
export type FrameHandlers<P, R> = { readonly [C in FrameBodyCase]?: FrameHandler<P, R, C> };
