import { toBinary } from "@bufbuild/protobuf";
import {
  DEFAULT_MAX_FRAME_SIZE,
  ErrorCode,
  FRAGMENT_OVERHEAD,
  FRAGMENT_SIZE,
  type Frame,
  FrameSchema,
  HbError,
  MAX_OPEN_FRAGMENTED,
  fragmentFrame,
} from "@hb/codec";

/** Lane of direct sends, broadcasts and replies (the server's channel-0 traffic). */
export const LANE_DIRECT = 0;
/** Lane of publishes. */
export const LANE_PUBLISH = 1;
/** An outbox lane: {@link LANE_DIRECT} or {@link LANE_PUBLISH}. */
export type Lane = typeof LANE_DIRECT | typeof LANE_PUBLISH;
const LANES: readonly Lane[] = [LANE_DIRECT, LANE_PUBLISH];

/**
 * Frames longer than this leave as fragments (PROTOCOL.md §6.2, §11:
 * "frames larger than 64 KiB SHOULD be fragmented"), so a heartbeat never
 * waits behind more than one piece: the protocol's `FRAGMENT_SIZE`.
 */
export const FRAGMENT_THRESHOLD = FRAGMENT_SIZE;

/**
 * The outbox stops handing frames to the connection's scheduler while this
 * many bytes are queued there: enough for two full scheduler batches
 * (256 KiB each), little enough that a 50 MB publish does not sit in memory
 * twice.
 */
export const SCHEDULER_HIGH_WATER = 512 * 1024;


/** First Fragment.id; ids stay in [2^31, 2^32) so they never meet the scheduler's own (from 1). */
const FIRST_FRAGMENT_ID = 2 ** 31;

/** Where the outbox hands frames: the current connection. */
export interface OutboxSink {
  /** Queues a data frame (a Frame or its encoding) on a lane of the connection's scheduler. */
  data(lane: Lane, frame: Frame | Uint8Array): void;
  /** Bytes queued in the scheduler, not yet written. */
  readonly backlog: number;
}

/** What a Welcome says about sending, in plain numbers. */
export interface OutboxLimits {
  /** `Welcome.max_frame_size` (0: the protocol default, 1 MiB). */
  readonly maxFrameSize: number;
  /** `Welcome.max_message_size` (0: no fragments on this connection). */
  readonly maxMessageSize: number;
  /** `Welcome.initial_window` in payload bytes (0: no flow control). */
  readonly window: number;
}

/** A message in the outbox. */
export interface OutboxItem {
  /** Resolves once the whole frame is handed to the connection; rejects if it never is. */
  readonly promise: Promise<void>;
}

interface Item extends OutboxItem {
  readonly lane: Lane;
  readonly frame: Frame;
  /** Payload bytes: what the message costs in flow-control credit when sent whole. */
  readonly cost: number;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  bytes: Uint8Array | undefined;
  /** On the current connection: the remaining pieces, when it is sent fragmented. */
  pieces: Generator<Frame, void, undefined> | undefined;
  /** The next piece, taken from `pieces` but not sent yet. */
  piece: Frame | undefined;
  started: boolean;
  gone: boolean;
}

/** Options of {@link Outbox}. */
export interface OutboxOptions {
  /** Most payload bytes held (waiting for a connection or credit); more is refused. */
  readonly maxPendingBytes: number;
}

type Step = "sent" | "empty" | "skip" | "credit";

/**
 * The client's outgoing messages (Publish, Send, Broadcast, Reply) between
 * the API and the connection's {@link FrameScheduler}:
 *
 * - **Two lanes.** Publishes share one FIFO lane: their order is visible to
 *   any wildcard subscriber (PROTOCOL.md §10.11), so a per-subject lane
 *   could reorder them. Sends, broadcasts and replies (delivered on the
 *   server's channel 0, which has no order with subscriptions) share the
 *   other, so a big publish does not hold up a reply. The scheduler serves
 *   the two lanes by deficit round-robin, after control frames.
 * - **Flow control** (PROTOCOL.md §12). With `Welcome.initial_window` W > 0
 *   the outbox hands over at most the credit it has: a whole frame costs its
 *   payload length, a fragmented one the length of each `Fragment.data` as
 *   it goes. `WindowUpdate` adds credit ({@link Outbox.grant}). A message
 *   waits (FIFO) until its next piece fits.
 * - **Fragments** (§11). A frame longer than 64 KiB (or the server's max
 *   frame size), or whose payload exceeds W, is cut into pieces of at most
 *   64 KiB − 64 (and at most W), handed over one at a time as credit and
 *   the scheduler's backlog allow. At most 16 fragmented frames are open at
 *   once and their total stays within `max_message_size`.
 * - **Backpressure.** Nothing more is handed over while the scheduler holds
 *   {@link SCHEDULER_HIGH_WATER} bytes; {@link Outbox.pump} is called again
 *   when it has written.
 * - **No connection.** Messages wait, bounded by `maxPendingBytes`. A
 *   fragmented frame cut short by a lost connection starts over on the next
 *   one (the server discards unfinished ones). Frames already handed to a
 *   connection that is lost are gone (at most once).
 */
export class Outbox {
  readonly #maxPending: number;
  readonly #lanes: Item[][] = [[], []];
  readonly #heads = [0, 0];
  #sink: OutboxSink | undefined;
  #limits: OutboxLimits = { maxFrameSize: 0, maxMessageSize: 0, window: 0 };
  #credit = Number.POSITIVE_INFINITY;
  #frameLimit = FRAGMENT_THRESHOLD;
  #piece = FRAGMENT_THRESHOLD - FRAGMENT_OVERHEAD;
  #open = 0;
  #openBytes = 0;
  #pendingBytes = 0;
  #size = 0;
  #sent = 0;
  #rr = 0;
  /** The lane whose head waits for credit: it gets the next grant before any other lane. */
  #waiting: Lane | undefined;
  #pumping = false;
  #nextFragmentId = FIRST_FRAGMENT_ID;
  #limitsKnown = false;

  constructor(options: OutboxOptions) {
    this.#maxPending = options.maxPendingBytes;
  }

  /** Payload bytes of the messages waiting. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Messages waiting (not yet completely handed to a connection). */
  get size(): number {
    return this.#size;
  }

  /** Messages handed to connections so far. */
  get sent(): number {
    return this.#sent;
  }

  /** Credit left on the current connection, payload bytes (`Infinity` without flow control). */
  get credit(): number {
    return this.#credit;
  }

  /**
   * Queues a message.
   *
   * @param cost - its payload length in bytes
   * @throws {@link HbError} `FLOW_CONTROL` when the outbox would hold more
   *   than `maxPendingBytes`; `MESSAGE_TOO_LARGE` when the last Welcome
   *   allows no frame that large
   */
  enqueue(lane: Lane, frame: Frame, cost: number): OutboxItem {
    if (this.#pendingBytes + cost > this.#maxPending) {
      throw new HbError(
        ErrorCode.FLOW_CONTROL,
        `outbox full: ${this.#pendingBytes} bytes are waiting to be sent and maxPendingBytes is ${this.#maxPending}`,
      );
    }
    let bytes: Uint8Array | undefined;
    if (this.#limitsKnown && cost > FRAGMENT_THRESHOLD) {
      bytes = toBinary(FrameSchema, frame);
      const problem = this.#sizeProblem(bytes.length);
      if (problem !== undefined) throw new HbError(ErrorCode.MESSAGE_TOO_LARGE, problem);
    }
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const item: Item = {
      lane,
      frame,
      cost,
      promise,
      resolve,
      reject,
      bytes,
      pieces: undefined,
      piece: undefined,
      started: false,
      gone: false,
    };
    this.#lanes[lane]?.push(item);
    this.#pendingBytes += cost;
    this.#size++;
    this.pump();
    return item;
  }

  /**
   * Withdraws a message that has not started to leave (e.g. a request that
   * timed out); its promise rejects with `reason`.
   *
   * @returns whether it was withdrawn
   */
  cancel(handle: OutboxItem, reason: Error): boolean {
    const item = handle as Item;
    if (item.gone || item.started) return false;
    this.#finish(item);
    item.reject(reason);
    return true;
  }

  /** A session is up: send through `sink` within `limits`, with a fresh window. */
  attach(sink: OutboxSink, limits: OutboxLimits): void {
    this.#sink = sink;
    this.#limits = limits;
    this.#limitsKnown = true;
    this.#credit = limits.window > 0 ? limits.window : Number.POSITIVE_INFINITY;
    const maxFrame = limits.maxFrameSize > 0 ? limits.maxFrameSize : DEFAULT_MAX_FRAME_SIZE;
    this.#frameLimit = Math.min(FRAGMENT_THRESHOLD, maxFrame);
    let piece = this.#frameLimit - FRAGMENT_OVERHEAD;
    if (limits.window > 0) piece = Math.min(piece, limits.window);
    this.#piece = Math.max(1, piece);
    this.#open = 0;
    this.#openBytes = 0;
    this.pump();
  }

  /** The connection is gone: messages wait for the next; a fragmented one cut short starts over. */
  detach(): void {
    this.#sink = undefined;
    this.#waiting = undefined;
    this.#open = 0;
    this.#openBytes = 0;
    for (const lane of LANES) {
      const head = this.#head(lane);
      if (head !== undefined) {
        head.pieces = undefined;
        head.piece = undefined;
        head.started = false;
      }
    }
  }

  /** `WindowUpdate { credit }`: more payload bytes may be sent. Saturates. */
  grant(credit: bigint): void {
    if (this.#credit === Number.POSITIVE_INFINITY || credit <= 0n) return;
    const add = credit > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(credit);
    this.#credit = Math.min(Number.MAX_SAFE_INTEGER, this.#credit + add);
    this.pump();
  }

  /** Rejects every waiting message with `error` and empties the outbox. */
  failAll(error: Error): void {
    for (const lane of LANES) {
      const items = this.#lanes[lane] as Item[];
      for (let i = this.#heads[lane] as number; i < items.length; i++) {
        const it = items[i] as Item;
        if (it.gone) continue;
        it.gone = true;
        it.reject(error);
      }
      this.#lanes[lane] = [];
      this.#heads[lane] = 0;
    }
    this.#pendingBytes = 0;
    this.#size = 0;
    this.#waiting = undefined;
    this.#open = 0;
    this.#openBytes = 0;
  }

  /**
   * Hands frames to the connection while there are credit, room in the
   * scheduler and messages: one step per lane in turn. Call after anything
   * that may unblock it (a write, a WindowUpdate, a new message).
   */
  pump(): void {
    const sink = this.#sink;
    if (sink === undefined || this.#pumping || this.#size === 0) return;
    this.#pumping = true;
    try {
      if (this.#waiting !== undefined) {
        if (this.#step(sink, this.#waiting) === "credit") return;
        this.#waiting = undefined;
      }
      let progress = true;
      while (progress && sink.backlog < SCHEDULER_HIGH_WATER) {
        progress = false;
        for (let n = 0; n < LANES.length; n++) {
          const lane = LANES[(this.#rr + n) % LANES.length] as Lane;
          const step = this.#step(sink, lane);
          if (step === "credit") {
            this.#waiting = lane; // FIFO on credit: the first to wait gets the next grant
            return;
          }
          if (step === "sent") progress = true;
          if (sink.backlog >= SCHEDULER_HIGH_WATER) break;
        }
        this.#rr = (this.#rr + 1) % LANES.length;
      }
    } finally {
      this.#pumping = false;
    }
  }

  #step(sink: OutboxSink, lane: Lane): Step {
    const item = this.#head(lane);
    if (item === undefined) return "empty";
    if (item.pieces === undefined && !item.started) {
      item.bytes ??= toBinary(FrameSchema, item.frame);
      const len = item.bytes.length;
      const whole = len <= this.#frameLimit && (this.#credit === Number.POSITIVE_INFINITY || item.cost <= this.#limits.window);
      if (whole) {
        if (this.#credit < item.cost) return "credit";
        this.#credit -= item.cost;
        sink.data(lane, item.bytes);
        this.#complete(item);
        return "sent";
      }
      const problem = this.#sizeProblem(len);
      if (problem !== undefined) {
        this.#finish(item);
        item.reject(new HbError(ErrorCode.MESSAGE_TOO_LARGE, problem));
        return "sent";
      }
      if (this.#open >= MAX_OPEN_FRAGMENTED || this.#openBytes + len > this.#limits.maxMessageSize) return "skip";
      const id = this.#nextFragmentId;
      this.#nextFragmentId = id >= 0xffff_fffe ? FIRST_FRAGMENT_ID : id + 1;
      item.pieces = fragmentFrame(item.bytes, { id, maxFrameSize: this.#piece + FRAGMENT_OVERHEAD });
      item.started = true;
      this.#open++;
      this.#openBytes += len;
    }
    if (item.piece === undefined) {
      const next = (item.pieces as Generator<Frame, void, undefined>).next();
      if (next.done === true) return "empty"; // not reached: the final piece completes the item
      item.piece = next.value;
    }
    const piece = item.piece;
    const body = piece.body.case === "fragment" ? piece.body.value : undefined;
    const cost = body?.data.length ?? 0;
    if (this.#credit < cost) return "credit";
    this.#credit -= cost;
    item.piece = undefined;
    sink.data(lane, piece);
    if (body?.final === true) {
      this.#open--;
      this.#openBytes -= (item.bytes as Uint8Array).length;
      this.#complete(item);
    }
    return "sent";
  }

  #sizeProblem(len: number): string | undefined {
    const max = this.#limits.maxMessageSize;
    if (max <= 0) {
      return `frame of ${len} bytes needs fragments, and the server allows none (Welcome.max_message_size = 0)`;
    }
    if (len > max) return `frame of ${len} bytes exceeds the server's max_message_size of ${max} bytes`;
    return undefined;
  }

  #head(lane: Lane): Item | undefined {
    const items = this.#lanes[lane] as Item[];
    let h = this.#heads[lane] as number;
    while (h < items.length && (items[h] as Item).gone) h++;
    if (h > 1024 && h * 2 > items.length) {
      this.#lanes[lane] = items.slice(h);
      h = 0;
    } else if (h === items.length && h > 0) {
      this.#lanes[lane] = [];
      h = 0;
    }
    this.#heads[lane] = h;
    return (this.#lanes[lane] as Item[])[h];
  }

  #complete(item: Item): void {
    this.#finish(item);
    this.#sent++;
    item.resolve();
  }

  #finish(item: Item): void {
    item.gone = true;
    item.pieces = undefined;
    item.piece = undefined;
    item.bytes = undefined;
    this.#pendingBytes -= item.cost;
    this.#size--;
  }
}
