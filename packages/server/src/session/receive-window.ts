/**
 * The server's side of a connection's flow-control window (PROTOCOL.md §12):
 * how many payload bytes the client may still send, and the credit to
 * return to it with `WindowUpdate`.
 *
 * - {@link ReceiveWindow.consume} when a Publish, Send, Broadcast or Reply
 *   payload, or a Fragment's data, arrives; `false` means the client sent
 *   more than its window (fatal `FLOW_CONTROL`).
 * - {@link ReceiveWindow.release} once those bytes are routed (or held by
 *   the fragment assembler): credit is returned in batches, as soon as half
 *   the window is waiting for it …
 * - … and {@link ReceiveWindow.flush} at the end of every read batch, so a
 *   client never waits for credit longer than one read.
 *
 * Plain numbers: windows are at most 2^40 bytes, far below 2^53.
 */
export class ReceiveWindow {
  /** The window size, `Welcome.initial_window`. */
  readonly size: number;
  readonly #half: number;
  #available: number;
  #released = 0;

  /** @param size - window in payload bytes (> 0) */
  constructor(size: number) {
    if (!(size > 0)) throw new RangeError(`window size must be > 0, got ${size}`);
    this.size = size;
    this.#half = Math.max(1, Math.floor(size / 2));
    this.#available = size;
  }

  /** Bytes the client may still send before it needs credit. */
  get available(): number {
    return this.#available;
  }

  /** Bytes routed but not credited back yet. */
  get pending(): number {
    return this.#released;
  }

  /**
   * Takes `bytes` of the window.
   *
   * @returns `false` (and takes nothing) when the client exceeded its window
   */
  consume(bytes: number): boolean {
    if (bytes > this.#available) return false;
    this.#available -= bytes;
    return true;
  }

  /**
   * `bytes` taken earlier have been routed.
   *
   * @returns credit to grant now (half the window or more is waiting), else 0
   */
  release(bytes: number): number {
    this.#released += bytes;
    return this.#released >= this.#half ? this.flush() : 0;
  }

  /** @returns every byte released and not credited yet (0 if none); counts it as granted */
  flush(): number {
    const credit = this.#released;
    this.#released = 0;
    this.#available += credit;
    return credit;
  }
}
