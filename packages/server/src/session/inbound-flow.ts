import { ErrorCode, FRAGMENT_SIZE, type Fragment, FragmentAssembler, type Frame, HbError, PendingFrame } from "@hb/codec";
import type { Refusal } from "../core/ports/frame-handlers.js";
import type { ResolvedServerOptions } from "../options/server-options.js";
import { ReceiveWindow } from "./receive-window.js";
import { TokenBucket } from "./token-bucket.js";
import { JOIN_STEP_BYTES } from "./frame-join.js";

/** What a Fragment came to: the whole frame once complete, or a fatal refusal; and credit to return. */
export interface FragmentResult {
  /** The reassembled frame, when this was the last fragment. */
  whole?: Frame;
  /** Instead of `whole`, for a message above `JOIN_STEP_BYTES`: its bytes, to be joined in steps. */
  pending?: PendingFrame;
  /** A fatal refusal (`MESSAGE_TOO_LARGE`, `FLOW_CONTROL`, `PROTOCOL_VIOLATION`). */
  refusal?: Refusal;
  /** Window credit to return at once (bytes the assembler copied). */
  credit: number;
}

/**
 * What limits a connection's input (PROTOCOL.md §5.4, §11, §12): the frame
 * rate, the fragment rate, the flow-control window, and the reassembly of
 * fragments. Everything is created on first use: most connections never
 * fragment or send payloads.
 *
 * Rate limits: every frame takes a token from the frame bucket
 * (`rateLimit`), except Fragment frames, which draw from a bucket of their
 * own of the same size where one token buys 64 KiB of fragment data: a
 * fragmented transfer does not eat the budget of heartbeats and small
 * messages (its bytes are bounded by flow control), while tiny fragments are
 * limited like any frame.
 */
// It is the frame bucket itself (extends TokenBucket): one object per
// connection, as before this was split out of the session (bench:tcp-idle).
export class InboundFlow extends TokenBucket {
  readonly #o: ResolvedServerOptions;
  #fragmentBucket: TokenBucket | undefined;
  #window: ReceiveWindow | undefined;
  #assembler: FragmentAssembler | undefined;

  constructor(options: ResolvedServerOptions, now: number) {
    super(options.rateLimit.framesPerSecond, options.rateLimit.burst, now);
    this.#o = options;
  }

  /** Takes the tokens `frame` costs; a fatal `RATE_LIMITED` refusal when the bucket is empty. */
  admit(frame: Frame, now: number): Refusal | undefined {
    const rl = this.#o.rateLimit;
    const body = frame.body;
    if (body.case === "fragment") {
      const cost = Math.min(rl.burst, Math.max(1, Math.ceil(body.value.data.length / FRAGMENT_SIZE)));
      this.#fragmentBucket ??= new TokenBucket(rl.framesPerSecond, rl.burst, now);
      if (this.#fragmentBucket.take(now, cost)) return undefined;
      return fatal(
        ErrorCode.RATE_LIMITED,
        `fragment rate limit exceeded (${rl.framesPerSecond} × ${FRAGMENT_SIZE} bytes/s, burst ${rl.burst})`,
      );
    }
    if (this.take(now)) return undefined;
    return fatal(ErrorCode.RATE_LIMITED, `rate limit exceeded (${rl.framesPerSecond} frames/s, burst ${rl.burst})`);
  }

  /** The flow-control window if created yet (idle connections never need one). */
  get currentWindow(): ReceiveWindow | undefined {
    return this.#window;
  }

  /** The flow-control window (created with the first payload), or `undefined` when `publishWindow` is 0. */
  window(): ReceiveWindow | undefined {
    const size = this.#o.publishWindow;
    if (this.#window === undefined && size > 0) this.#window = new ReceiveWindow(size);
    return this.#window;
  }

  /** The fatal `FLOW_CONTROL` refusal of `size` payload bytes the window had no room for. */
  exceeded(size: number): Refusal {
    const w = this.#window as ReceiveWindow;
    return fatal(
      ErrorCode.FLOW_CONTROL,
      `flow-control window exceeded: ${size} payload bytes sent with ${w.available} of ${w.size} left`,
    );
  }

  /** A Fragment: counted against the window, held, and the whole frame returned when complete. */
  fragment(fragment: Fragment): FragmentResult {
    const max = this.#o.maxMessageSize;
    if (max === 0) {
      return { refusal: fatal(ErrorCode.MESSAGE_TOO_LARGE, "fragments are not allowed on this connection (max_message_size 0)"), credit: 0 };
    }
    const size = fragment.data.length;
    const window = this.window();
    if (window !== undefined && !window.consume(size)) return { refusal: this.exceeded(size), credit: 0 };
    let whole: Frame | PendingFrame | undefined;
    try {
      this.#assembler ??= new FragmentAssembler({ maxMessageSize: max, joinStepBytes: JOIN_STEP_BYTES });
      whole = this.#assembler.add(fragment);
    } catch (err) {
      if (!(err instanceof HbError)) throw err;
      return { refusal: fatal(err.code, err.message), credit: 0 };
    }
    // The assembler holds a copy: credit the bytes now, or a message larger than the window could never complete.
    const credit = window === undefined ? 0 : window.release(size);
    if (whole === undefined) return { credit };
    return whole instanceof PendingFrame ? { pending: whole, credit } : { whole, credit };
  }

  /** Drops unfinished fragmented messages (the connection closed). */
  clear(): void {
    this.#assembler?.clear();
  }
}

function fatal(code: ErrorCode, message: string): Refusal {
  return { code, message, fatal: true };
}
