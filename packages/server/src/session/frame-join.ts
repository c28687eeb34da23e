import { type Frame, HbError, type PendingFrame } from "@hb/codec";
import type { SlicedTask, TurnSlicer } from "../routing/turn-slicer.js";

/**
 * Bytes of a reassembled message joined per step: ≈ 1–3 ms of copying (page
 * faults included) on the 2-core dev machine. Messages up to this size are
 * joined at once, when their last fragment arrives.
 */
export const JOIN_STEP_BYTES = 4 * 1024 * 1024;

/**
 * Joins a large fragmented message ({@link PendingFrame}) in steps of
 * {@link JOIN_STEP_BYTES}, one or more per slice of the server's
 * {@link TurnSlicer}, then decodes it and hands the frame (or the coded
 * error that decoding raised) to `done`. A 50 MiB message thus costs a
 * dozen short steps instead of one long turn.
 */
export class FrameJoin implements SlicedTask {
  readonly #pending: PendingFrame;
  readonly #done: (frame: Frame | HbError) => void;

  /**
   * @param pending - the message whose fragments all arrived
   * @param done - gets the decoded frame, or the `HbError` of a malformed one
   */
  constructor(pending: PendingFrame, done: (frame: Frame | HbError) => void) {
    this.#pending = pending;
    this.#done = done;
  }

  /** See {@link SlicedTask.runSlice}. */
  runSlice(slicer: TurnSlicer): boolean {
    while (!this.#pending.join(JOIN_STEP_BYTES)) if (slicer.expired()) return false;
    let frame: Frame;
    try {
      frame = this.#pending.frame();
    } catch (err) {
      if (!(err instanceof HbError)) throw err;
      this.#done(err);
      return true;
    }
    this.#done(frame);
    return true;
  }
}
