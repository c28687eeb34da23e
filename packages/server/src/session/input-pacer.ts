import { Fifo, type Frame } from "@hb/codec";
import type { SessionTransport } from "../core/ports/session-transport.js";
import type { SlicedTask, TurnSlicer } from "../routing/turn-slicer.js";
import type { InboundFlow } from "./inbound-flow.js";
import type { ReceiveWindow } from "./receive-window.js";

/** What an {@link InputPacer} needs of its session (a `Session`). */
export interface PacedSession {
  /** Whether the session has ended (held input is dropped). */
  readonly closed: boolean;
  /** Whether the session is welcomed (flow-control credit is due only then). */
  readonly welcomed: boolean;
  /** Held input read at `now` is handled next (the time its frames were heard). */
  heldAt(now: number): void;
  /** Decodes a held chunk (its frames come back through {@link InputPacer.holds}, held). */
  decodeHeld(chunk: Uint8Array): void;
  /** Handles a held frame. */
  handleHeld(frame: Frame): void;
  /** Returns `credit` bytes of the flow-control window with WindowUpdate (nothing when ≤ 0). */
  returnCredit(credit: number): void;
}

/** A chunk of input held while the session's earlier input waits for the event loop's budget. */
interface HeldChunk {
  readonly chunk: Uint8Array;
  readonly now: number;
}

// Input states: reading; holding input (a task is queued in the slicer); waiting to read again (the
// transport stays paused until the slicer has caught up, so a publisher goes at the pace its deliveries leave).
const READING = 0;
const HOLDING = 1;
const WAITING = 2;

// Units of work of a handled frame for the turn's budget (TurnSlicer.spend): one, plus one per handle a
// BatchHeartbeat lists (100,000 handles take ≈ 7–12 ms; counted as one, nine of them ran in one 190 ms turn).
function frameUnits(frame: Frame): number {
  return frame.body.case === "batchHeartbeat" ? 1 + frame.body.value.handles.length : 1;
}

/** Frames that route messages (or may: a last fragment): they queue behind queued routing work. */
const ROUTED: ReadonlySet<string> = new Set(["publish", "send", "broadcast", "reply", "fragment"]);

/**
 * One connection's input pacing (issue 10): the session handles frames
 * until the turn's budget ({@link TurnSlicer}) is spent or routing work is
 * queued; the rest of its input is held here (the transport paused) and
 * handled in later turns, in order, as a {@link SlicedTask} of the slicer.
 * Flow-control credit for payloads routed while work is queued is returned,
 * and reading resumes, once the slicer has caught up (the deliveries
 * written, or few enough left per connection: {@link TurnSlicer.whenCaughtUp}),
 * so a publisher is slowed to its subscribers' pace.
 */
export class InputPacer implements SlicedTask {
  /** Connections take turns in the slicer (see {@link SlicedTask.rotates}). */
  readonly rotates = true;
  readonly #session: PacedSession;
  readonly #transport: SessionTransport;
  readonly #flow: InboundFlow;
  readonly #slicer: TurnSlicer;
  #input = READING;
  // Input held for a later turn: decoded frames of one chunk (all read at #heldNow), then raw chunks.
  #heldFrames: Fifo<Frame> | undefined;
  #heldNow = 0;
  #heldChunks: Fifo<HeldChunk> | undefined;
  // Payload bytes routed while work was queued: credited once the slicer has caught up.
  #unrouted = 0;
  #idleWait = false;
  readonly #resumeReading = (): void => {
    this.#idleWait = false;
    this.#caughtUp();
  };

  constructor(session: PacedSession, transport: SessionTransport, flow: InboundFlow, slicer: TurnSlicer) {
    this.#session = session;
    this.#transport = transport;
    this.#flow = flow;
    this.#slicer = slicer;
  }

  /** Whether input is held for a later turn (a task is queued in the slicer). */
  get holding(): boolean {
    return this.#input === HOLDING;
  }

  /**
   * A chunk read at `now`: `true` when it is held for a later turn (earlier
   * input waits, or this turn's budget is spent); `false`: decode it now,
   * then call {@link InputPacer.endOfInput}.
   */
  holdsChunk(chunk: Uint8Array, now: number): boolean {
    if (this.#input !== HOLDING && !this.#slicer.spend(1)) return false;
    this.#heldChunks ??= new Fifo<HeldChunk>();
    this.#heldChunks.push({ chunk, now });
    this.hold();
    return true;
  }

  /**
   * A decoded frame read at `now`: `true` when it is held for a later turn
   * (input is held, or it routes while routing work is queued: heartbeats
   * before it went on); `false`: handle it now, then call {@link InputPacer.spent}.
   */
  holds(frame: Frame, now: number): boolean {
    if (this.#input !== HOLDING) {
      if (!this.#slicer.backlogged || !ROUTED.has(frame.body.case ?? "")) return false;
      this.hold();
    }
    this.#heldFrames ??= new Fifo<Frame>();
    if (this.#heldFrames.length === 0) this.#heldNow = now;
    this.#heldFrames.push(frame);
    return true;
  }

  /** `frame` was handled inline: once the turn's budget is spent, the rest of the input is held. */
  spent(frame: Frame): void {
    if (this.#slicer.spend(frameUnits(frame))) this.hold();
  }

  /** Starts holding input: the transport pauses, the pacer queues itself in the slicer. */
  hold(): void {
    if (this.#input === HOLDING) return;
    this.#input = HOLDING;
    this.#transport.pause?.();
    this.#slicer.defer(this);
  }

  /**
   * `size` payload bytes were routed: credited back now, or, while work is
   * queued, once the slicer has caught up.
   */
  routed(size: number, window: ReceiveWindow): void {
    if (this.#slicer.backlogged || this.#unrouted > 0) this.#unrouted += size;
    else this.#session.returnCredit(window.release(size));
  }

  /** Handles held input in a slice of the server's {@link TurnSlicer} (see {@link SlicedTask.runSlice}). */
  runSlice(slicer: TurnSlicer): boolean {
    const s = this.#session;
    for (;;) {
      if (s.closed) return true;
      const frames = this.#heldFrames;
      if (frames !== undefined && frames.length > 0) {
        s.heldAt(this.#heldNow);
        while (frames.length > 0) {
          const frame = frames.shift() as Frame;
          s.handleHeld(frame);
          if (s.closed) return true;
          // Yield to the work this frame queued, or to the next turn.
          if (slicer.backlogged || slicer.spend(frameUnits(frame))) return false;
        }
      }
      const held = this.#heldChunks?.shift();
      if (held === undefined) break;
      s.heldAt(held.now);
      s.decodeHeld(held.chunk);
      if (this.#heldFrames !== undefined && this.#heldFrames.length > 0 && (slicer.backlogged || slicer.expired())) return false;
    }
    // All handled: the two queues go (≈ 320 B that every connection ever held kept before).
    this.clear();
    this.#input = WAITING;
    this.endOfInput();
    return true;
  }

  /** The stream ended behind held input: every held frame and chunk is handled now, whatever the budget. */
  drainHeld(): void {
    if (this.#input !== HOLDING) return;
    const s = this.#session;
    for (;;) {
      const frames = this.#heldFrames;
      if (frames !== undefined && frames.length > 0) {
        s.heldAt(this.#heldNow);
        while (frames.length > 0 && !s.closed) s.handleHeld(frames.shift() as Frame);
      }
      const held = s.closed ? undefined : this.#heldChunks?.shift();
      if (held === undefined) break;
      // Still HOLDING: every frame of the chunk is held, then handled above.
      s.heldAt(held.now);
      s.decodeHeld(held.chunk);
    }
    this.clear();
    this.#input = READING;
  }

  /**
   * End of a read batch: returns the credit of everything routed in it
   * (PROTOCOL.md §12), unless work is still queued; then the credit (and,
   * if input is held, reading) waits for the slicer to catch up
   * ({@link TurnSlicer.whenCaughtUp}).
   */
  endOfInput(): void {
    const s = this.#session;
    if (!s.welcomed) {
      // Before the Welcome no credit is due: reading goes on at once (what arrives waits for the Welcome in
      // the session). A session whose held Hello was handled in a slice, and which then waits for its check or
      // for the primary's barrier, would otherwise never read its heartbeats.
      if (this.#input === WAITING && !s.closed) {
        this.#input = READING;
        this.#transport.resume?.();
      }
      return;
    }
    const slicer = this.#slicer;
    if (this.#input === HOLDING) return;
    if (slicer.backlogged || this.#unrouted > 0 || this.#input === WAITING) {
      if (!this.#idleWait) {
        this.#idleWait = true;
        slicer.whenCaughtUp(this.#resumeReading);
      }
      return;
    }
    const window = this.#flow.currentWindow;
    if (window !== undefined) s.returnCredit(window.flush());
  }

  /** The session ended, or its held input is all handled: the held queues go. */
  clear(): void {
    this.#heldFrames = undefined;
    this.#heldChunks = undefined;
  }

  // The slicer has caught up: the credit held back goes out, and the transport reads again.
  #caughtUp(): void {
    const s = this.#session;
    if (s.closed || this.#input === HOLDING) return;
    const window = this.#flow.currentWindow;
    if (window !== undefined) {
      const unrouted = this.#unrouted;
      this.#unrouted = 0;
      if (unrouted > 0) window.release(unrouted);
      if (s.welcomed) s.returnCredit(window.flush());
    }
    if (this.#input === WAITING) {
      this.#input = READING;
      this.#transport.resume?.();
    }
  }
}
