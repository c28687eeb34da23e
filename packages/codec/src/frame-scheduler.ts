import { toBinary } from "@bufbuild/protobuf";
import { DEFAULT_MAX_FRAME_SIZE, FRAGMENT_SIZE, MAX_OPEN_FRAGMENTED } from "./limits.js";
import { type Frame, FrameSchema } from "./gen/hb/v1/frame_pb.js";
import { ChannelQueue, type Fragmenting, type OverflowMode } from "./channel-queue.js";
import { Fifo } from "./fifo.js";
import { fragmentFrame } from "./fragmenter.js";
import { type VarintCursor, readVarint32, varintSize, writeVarint32 } from "./varint.js";

export type { OverflowMode } from "./channel-queue.js";

/** Per-channel settings of a {@link FrameScheduler}. */
export interface ChannelQueueOptions {
  /** Most messages queued on the channel. Default: the scheduler's `queueLimit`. */
  queueLimit?: number;
  /** Overflow behaviour. Default: the scheduler's `overflow`. */
  overflow?: OverflowMode;
  /** Share of bandwidth relative to other channels (deficit round-robin weight). Default 1. */
  weight?: number;
}

/** Options of {@link FrameScheduler}. */
export interface FrameSchedulerOptions {
  /**
   * Hands bytes to the transport. Return `false` to ask the scheduler to
   * wait for {@link FrameScheduler.resume} (a socket's `'drain'`).
   */
  write: (chunk: Uint8Array) => boolean;
  /** The peer's max frame size; larger frames are sent as fragments. Default 1 MiB. */
  maxFrameSize?: number;
  /**
   * The connection's `max_message_size` (PROTOCOL.md §11 rule 5): the
   * reassembled lengths of the fragmented messages part-sent at once never
   * add up to more; a fragmented message that would exceed it waits,
   * unstarted, until earlier ones finish (one always fits alone). Default:
   * no bound on bytes (the bound of 16 messages always holds).
   */
  maxMessageSize?: number;
  /**
   * Size of the fragments large frames are cut into: the most any frame can
   * delay a heartbeat ack on the same connection. Default min(maxFrameSize, 64 KiB).
   */
  fragmentSize?: number;
  /** Deficit round-robin quantum in bytes per unit of weight. Default 16 KiB. */
  quantum?: number;
  /** Most bytes handed to `write` per flush. Default 256 KiB. */
  maxBatchBytes?: number;
  /** Default per-channel queue limit in messages. Default 1000 (the seed's `channel_max_queue_size`). */
  queueLimit?: number;
  /** Default overflow mode. Default `"drop-oldest"`. */
  overflow?: OverflowMode;
  /** Most bytes of control frames queued before the peer counts as stuck. Default 1 MiB. */
  maxControlBytes?: number;
  /**
   * Called once when a queue with mode `"disconnect"` overflows, or control
   * frames exceed `maxControlBytes` (channel 0). The scheduler stops writing.
   */
  onOverflow?: (channel: number) => void;
  /** Called for every message dropped by an overflow policy. */
  onDrop?: (channel: number) => void;
  /** Defers a flush; default `setImmediate`, so one event-loop turn's frames leave in one write. */
  schedule?: (flush: () => void) => void;
}


/** A queued control frame (wire bytes head + body), or a data frame being prepared. */
interface Item {
  head: Uint8Array;
  body: Uint8Array;
  /** Set for a frame too large for the peer. */
  fragmenting?: Fragmenting;
}

/** Counters of a {@link FrameScheduler}. */
export interface FrameSchedulerStats {
  /** Bytes waiting in queues (control and data). */
  queuedBytes: number;
  /** Of those, bytes of control frames. */
  queuedControlBytes: number;
  /** Messages waiting in data queues. */
  queuedMessages: number;
  /** Messages dropped by overflow policies, all channels. */
  dropped: number;
  /** Frames handed to the transport. */
  framesOut: number;
  /** Bytes handed to the transport. */
  bytesOut: number;
  /** Calls to `write` (each is one batch). */
  writes: number;
}

/**
 * The outgoing side of a connection: frames in, batched bytes out.
 *
 * - Control frames ({@link FrameScheduler.control}: heartbeat acks, errors,
 *   GoAway) always go first.
 * - Data frames ({@link FrameScheduler.data}) wait in bounded per-channel
 *   queues and leave by deficit round-robin, so channels share the link
 *   fairly (by weight) and one busy channel cannot starve another.
 * - A frame larger than the peer's max frame size leaves as fragments, one
 *   per round, so it delays a heartbeat ack by at most one fragment.
 * - Everything queued in one event-loop turn leaves in one `write`; when the
 *   transport says it is full, nothing more is written until
 *   {@link FrameScheduler.resume}, and the queues' limits bound memory.
 */
export class FrameScheduler {
  readonly #write: (chunk: Uint8Array) => boolean;
  readonly #maxFrameSize: number;
  readonly #maxOpenBytes: number;
  readonly #fragmentSize: number;
  readonly #quantum: number;
  readonly #maxBatch: number;
  readonly #queueLimit: number;
  readonly #overflow: OverflowMode;
  readonly #maxControlBytes: number;
  readonly #onOverflow: ((channel: number) => void) | undefined;
  readonly #onDrop: ((channel: number) => void) | undefined;
  readonly #schedule: (flush: () => void) => void;
  // Control frames: O(1) per frame however many are queued (see Fifo).
  readonly #control = new Fifo<Item>();
  #openFragmented = 0;
  #openFragmentedBytes = 0;
  readonly #channels = new Map<number, ChannelQueue>();
  readonly #active: ChannelQueue[] = [];
  #rr = 0;
  #controlBytes = 0;
  #dataBytes = 0;
  #dataMessages = 0;
  #scheduled = false;
  #paused = false;
  #closed = false;
  #nextFragmentId = 1;
  readonly #stats = { dropped: 0, framesOut: 0, bytesOut: 0, writes: 0 };
  // The deferred flush: the only place that clears #scheduled, so a synchronous flush in between
  // (flushNow, flushControl) never leaves two deferred flushes queued for one scheduler.
  readonly #flushBound = (): void => {
    this.#scheduled = false;
    this.#flush(false);
  };

  constructor(options: FrameSchedulerOptions) {
    this.#write = options.write;
    this.#maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.#maxOpenBytes = options.maxMessageSize || Number.POSITIVE_INFINITY;
    this.#fragmentSize = Math.min(this.#maxFrameSize, options.fragmentSize ?? FRAGMENT_SIZE);
    this.#quantum = options.quantum ?? 16 * 1024;
    this.#maxBatch = options.maxBatchBytes ?? 256 * 1024;
    this.#queueLimit = options.queueLimit ?? 1000;
    this.#overflow = options.overflow ?? "drop-oldest";
    this.#maxControlBytes = options.maxControlBytes ?? 1024 * 1024;
    this.#onOverflow = options.onOverflow;
    this.#onDrop = options.onDrop;
    this.#schedule = options.schedule ?? ((f) => setImmediate(f));
  }

  /** Current counters. */
  stats(): FrameSchedulerStats {
    return {
      queuedBytes: this.#controlBytes + this.#dataBytes,
      queuedControlBytes: this.#controlBytes,
      queuedMessages: this.#dataMessages, ...this.#stats };
  }

  /** Messages dropped on one channel so far. */
  droppedOn(channel: number): number {
    return this.#channels.get(channel)?.dropped ?? 0;
  }

  /** Messages queued on one channel now (a part-sent fragmented one included). */
  queuedOn(channel: number): number {
    return this.#channels.get(channel)?.length ?? 0;
  }

  /** Sets a channel's queue limit, overflow mode and weight. */
  configureChannel(channel: number, options: ChannelQueueOptions): void {
    const q = this.#queue(channel);
    if (options.queueLimit !== undefined) q.limit = options.queueLimit;
    if (options.overflow !== undefined) q.overflow = options.overflow;
    if (options.weight !== undefined) q.weight = Math.max(1, options.weight);
  }

  /** Discards a channel's queue (e.g. after Unsubscribe). Messages already partly sent finish. */
  removeChannel(channel: number): void {
    const q = this.#channels.get(channel);
    if (!q) return;
    const keep = q.firstFragmenting()?.started === true ? 1 : 0;
    while (q.length > keep) this.#account(q.pop(), -1);
    if (keep === 0) {
      this.#channels.delete(channel);
      const i = this.#active.indexOf(q);
      if (i >= 0) this.#active.splice(i, 1);
    }
  }

  /**
   * Queues a control frame (or its encoding, no length prefix); sent before
   * any data. A control frame larger than the peer's max frame size cannot
   * jump the queue: it goes to channel 0's data queue and leaves as
   * fragments.
   */
  control(frame: Frame | Uint8Array): void {
    if (this.#closed) return;
    const body = frame instanceof Uint8Array ? frame : toBinary(FrameSchema, frame);
    if (body.length > this.#maxFrameSize) {
      this.data(0, body);
      return;
    }
    const item = this.#item(body, 0);
    this.#control.push(item);
    this.#controlBytes += item.head.length + item.body.length;
    if (this.#controlBytes > this.#maxControlBytes) {
      this.#overflowed(0);
      return;
    }
    this.#kick();
  }

  /**
   * Queues a data frame on a channel's queue. `frame` is a Frame, its
   * encoding, or a `[head, body]` pair whose concatenation is the wire form
   * (length prefix included) — the relay path, where many peers share one
   * encoded body. A pair longer than the peer's max frame size is cut into
   * fragments straight from its two parts: the shared body is not copied.
   *
   * @returns `false` if this message was dropped (drop-newest, or the
   *   scheduler is closed), else `true` (an older one may have been dropped)
   */
  data(channel: number, frame: Frame | Uint8Array | readonly [Uint8Array, Uint8Array]): boolean {
    if (this.#closed) return false;
    if (Array.isArray(frame)) return this.relay(channel, frame[0] as Uint8Array, frame[1] as Uint8Array);
    const item = this.#item(frame instanceof Uint8Array ? frame : toBinary(FrameSchema, frame as Frame), channel);
    return this.#enqueue(channel, item.head, item.body, item.fragmenting);
  }

  /**
   * Queues a pre-encoded data frame whose wire form (length prefix
   * included) is `head` + `body`, like {@link FrameScheduler.data} with a
   * pair, without allocating anything per frame (the fan-out hot path: many
   * connections share one `body`, each subscription caches its `head`). A
   * frame longer than the peer's max frame size leaves as fragments cut
   * straight from the two parts.
   *
   * @returns `false` if this message was dropped (drop-newest, or the
   *   scheduler is closed), else `true` (an older one may have been dropped)
   */
  relay(channel: number, head: Uint8Array, body: Uint8Array): boolean {
    if (this.#closed) return false;
    if (head.length + body.length <= this.#maxFrameSize) return this.#enqueue(channel, head, body, undefined);
    const item = this.#pairItem(head, body, channel);
    return this.#enqueue(channel, item.head, item.body, item.fragmenting);
  }

  // Puts a frame on its channel's queue under the queue's overflow policy.
  #enqueue(channel: number, head: Uint8Array, body: Uint8Array, fragmenting: Fragmenting | undefined): boolean {
    const q = this.#queue(channel);
    if (q.length >= q.limit) {
      if (q.overflow === "disconnect") {
        this.#overflowed(channel);
        return false;
      }
      q.dropped++;
      this.#stats.dropped++;
      this.#onDrop?.(channel);
      if (q.overflow === "drop-newest") return false;
      // drop-oldest: the oldest not yet started.
      const old = q.dropOldest();
      if (old < 0) return false;
      this.#account(old, -1);
    }
    q.push(head, body, fragmenting);
    this.#account(head.length + body.length, 1);
    if (!q.active) {
      q.active = true;
      q.deficit = 0;
      this.#active.push(q);
    }
    this.#kick();
    return true;
  }

  /** Call when the transport can take more (a socket's `'drain'`). */
  resume(): void {
    this.#paused = false;
    this.#kick();
  }

  /** Stops writing and drops everything queued. */
  close(): void {
    this.#closed = true;
    this.#control.clear();
    this.#openFragmented = 0;
    this.#openFragmentedBytes = 0;
    this.#channels.clear();
    this.#active.length = 0;
    this.#controlBytes = 0;
    this.#dataBytes = 0;
    this.#dataMessages = 0;
  }

  /**
   * Writes whatever is queued now (control frames, then one batch of data),
   * synchronously (e.g. before closing a socket). A deferred flush already
   * scheduled stays scheduled (and writes the next batch).
   */
  flushNow(): void {
    this.#flush(false);
  }

  /**
   * Writes the queued control frames now, synchronously, and no data: a
   * heartbeat ack that must not wait for the next deferred flush, without
   * adding a batch of data to this turn's writes.
   */
  flushControl(): void {
    if (this.#control.length > 0) this.#flush(true);
  }

  #item(body: Uint8Array, channel: number): Item {
    if (body.length > this.#maxFrameSize) {
      const id = this.#nextFragmentId;
      this.#nextFragmentId = id >= 0xffff_fffe ? 1 : id + 1;
      const whole = withChannel(body, channel);
      return {
        head: new Uint8Array(0),
        body,
        fragmenting: { fragments: fragmentFrame(whole, { id, maxFrameSize: this.#fragmentSize }), total: whole.length, started: false },
      };
    }
    const head = new Uint8Array(varintSize(body.length));
    writeVarint32(head, 0, body.length);
    return { head, body };
  }

  // A [head, body] pair (head starts with the length prefix): as is, or as fragments of its two parts.
  #pairItem(head: Uint8Array, body: Uint8Array, channel: number): Item {
    if (head.length + body.length <= this.#maxFrameSize) return { head, body };
    const frameLength = readVarint32(head, 0, head.length, prefixCursor);
    if (frameLength <= this.#maxFrameSize) return { head, body };
    const id = this.#nextFragmentId;
    this.#nextFragmentId = id >= 0xffff_fffe ? 1 : id + 1;
    const rest = head.subarray(prefixCursor.pos);
    const parts = channel === 0 || rest[0] === 0x08 ? ([rest, body] as const) : ([withChannel(rest, channel), body] as const);
    const total = parts[0].length + body.length;
    return {
      head: parts[0],
      body,
      fragmenting: { fragments: fragmentFrame(parts, { id, maxFrameSize: this.#fragmentSize }), total, started: false },
    };
  }

  #queue(channel: number): ChannelQueue {
    let q = this.#channels.get(channel);
    if (!q) {
      q = new ChannelQueue(channel, this.#queueLimit, this.#overflow, 1);
      this.#channels.set(channel, q);
    }
    return q;
  }

  // A data frame of `size` bytes was queued (+1) or left the queues (-1).
  #account(size: number, sign: 1 | -1): void {
    this.#dataBytes += sign * size;
    this.#dataMessages += sign;
  }

  #overflowed(channel: number): void {
    const cb = this.#onOverflow;
    this.close();
    cb?.(channel);
  }

  #kick(): void {
    if (this.#scheduled || this.#paused || this.#closed) return;
    this.#scheduled = true;
    this.#schedule(this.#flushBound);
  }

  #flush(controlOnly: boolean): void {
    if (this.#paused || this.#closed) return;
    const parts: Uint8Array[] = [];
    let bytes = 0;
    let frames = 0;
    while (this.#control.length > 0 && bytes < this.#maxBatch) {
      const it = this.#control.shift() as Item;
      this.#controlBytes -= it.head.length + it.body.length;
      parts.push(it.head, it.body);
      bytes += it.head.length + it.body.length;
      frames++;
    }
    // Deficit round-robin over active channels.
    while (!controlOnly && bytes < this.#maxBatch && this.#active.length > 0) {
      if (this.#rr >= this.#active.length) this.#rr = 0;
      const q = this.#active[this.#rr] as ChannelQueue;
      q.deficit += this.#quantum * q.weight;
      while (bytes < this.#maxBatch && q.length > 0) {
        const it = q.firstFragmenting();
        if (it !== undefined) {
          // At most MAX_OPEN_FRAGMENTED messages, of at most maxMessageSize
          // bytes together, may be part-sent at once (the receiver's limits,
          // PROTOCOL.md §11 rule 5, per connection across channels); a new
          // one waits its turn. One alone always fits (nothing open: no wait).
          const total = it.total;
          if (
            !it.started &&
            this.#openFragmented > 0 &&
            (this.#openFragmented >= MAX_OPEN_FRAGMENTED || this.#openFragmentedBytes + total > this.#maxOpenBytes)
          ) {
            break;
          }
          // One fragment per visit: a large message never holds the link.
          const next = it.fragments.next();
          if (!next.done) {
            const body = toBinary(FrameSchema, next.value);
            const head = new Uint8Array(varintSize(body.length));
            writeVarint32(head, 0, body.length);
            parts.push(head, body);
            bytes += head.length + body.length;
            frames++;
            if (!it.started) {
              this.#openFragmented++;
              this.#openFragmentedBytes += total;
            }
            it.started = true;
            q.deficit -= head.length + body.length;
            const last = next.value.body.case === "fragment" && next.value.body.value.final;
            if (!last) break;
          }
          this.#account(q.shift(), -1);
          if (it.started) {
            this.#openFragmented--;
            this.#openFragmentedBytes -= total;
          }
          break;
        }
        const head = q.firstHead();
        const body = q.firstBody();
        const size = head.length + body.length;
        if (size > q.deficit) break;
        q.shift();
        this.#account(size, -1);
        q.deficit -= size;
        parts.push(head, body);
        bytes += size;
        frames++;
      }
      if (q.length === 0) {
        q.active = false;
        q.deficit = 0;
        this.#active.splice(this.#rr, 1);
      } else {
        this.#rr++;
      }
    }
    if (bytes === 0) return;
    const out = new Uint8Array(bytes);
    let pos = 0;
    for (const p of parts) {
      out.set(p, pos);
      pos += p.length;
    }
    this.#stats.framesOut += frames;
    this.#stats.bytesOut += bytes;
    this.#stats.writes++;
    if (!this.#write(out)) this.#paused = true;
    if (this.#control.length > 0 || this.#active.length > 0) this.#kick();
  }
}

const prefixCursor: VarintCursor = { pos: 0 };

/** Ensures the encoded frame carries `channel` so its fragments do too. */
function withChannel(body: Uint8Array, channel: number): Uint8Array {
  if (channel === 0 || body[0] === 0x08) return body;
  const head = new Uint8Array(1 + varintSize(channel));
  head[0] = 0x08;
  writeVarint32(head, 1, channel);
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}
