import { toBinary } from "@bufbuild/protobuf";
import {
  DEFAULT_MAX_FRAME_SIZE,
  FRAGMENT_SIZE,
  type Frame,
  FrameScheduler,
  FrameSchema,
  type OverflowMode,
  sizeDelimit,
  varintSize,
  writeVarint32,
} from "@hb/codec";
import type { ServerCounters } from "../core/ports/server-stats.js";
import type { SessionTransport } from "../core/ports/session-transport.js";
import type { SlicedTask, TurnSlicer } from "../routing/turn-slicer.js";

/**
 * Most bytes of control frames (acks, errors, Subscribed, WindowUpdate, …)
 * that may pile up while a connection's transport is backed up (writing
 * paused, see {@link WRITE_HIGH_WATER}): a client that leaves more than
 * 1 MiB of them unread is not reading, and is disconnected with fatal
 * `SLOW_CONSUMER` (PROTOCOL.md §10.10). A burst of control frames to a
 * client that reads (100 000 Attached for a gateway) is not limited.
 */
export const MAX_WRITE_BACKLOG = 1024 * 1024;

/**
 * Bytes handed to the transport but not yet to the OS (`writableLength`)
 * above which a connection stops writing until the transport drains: the
 * frames wait in their bounded queues instead of in the socket's unbounded
 * buffer.
 */
export const WRITE_HIGH_WATER = 256 * 1024;

/** Most bytes handed to one scheduler write (the FrameScheduler's `maxBatchBytes`). */
const MAX_BATCH = 256 * 1024;

// Shared by every idle writer until it queues something: never pushed to (checked by length).
const EMPTY_LIST: Uint8Array[] = [];

/** Why a queued message was dropped. */
export type DropReason = "overflow" | "tooLarge";

/** What a {@link SessionWriter} reports to its session. */
export interface SessionWriterEvents {
  /** A message on `channel` was dropped: by its queue's overflow policy, or as too large for the client. */
  onDrop(channel: number, reason: DropReason): void;
  /**
   * The client is not reading: control frames exceed {@link MAX_WRITE_BACKLOG}
   * (`channel` 0), or a disconnect-policy queue overflowed. Nothing more is
   * written; the session should close with `SLOW_CONSUMER`.
   */
  onOverflow(channel: number): void;
}

/**
 * The outgoing side of a connection, over a {@link SessionTransport}:
 *
 * - **Control frames only** (an idle node: Welcome, heartbeat acks): a
 *   plain list written once per event-loop turn, ≈ 100 bytes per
 *   connection.
 * - **With data** (deliveries, subscriptions): a {@link FrameScheduler}
 *   (≈ 1.6 KB), created on the first data frame and released when the
 *   connection has no subscription and nothing queued: control frames
 *   first, bounded per-channel queues with overflow policies, deficit
 *   round-robin, frames too large for the client cut into 64 KiB fragments
 *   (straight from the shared body, no copy; at most 16 and
 *   `maxMessageSize` bytes of them part-sent at once, §11 rule 5), one
 *   write per event-loop turn. The writes of all connections are slices of
 *   the server's {@link TurnSlicer}: 10,000 connections' writes do not all
 *   happen in one turn, and while routing work is queued they wait (at most
 *   `flushEveryMs`) so a fan-out leaves in few large writes.
 * - **Backpressure**: when the transport holds more than
 *   {@link WRITE_HIGH_WATER} bytes, writing pauses until
 *   {@link SessionWriter.drained}; frames wait in bounded queues.
 *
 * Keeps the server-wide `queuedBytes` gauge up to date in O(1) per frame.
 */
// Why one file of ~460 lines (a fifth TSDoc): the writer owns one socket's
// output (control frames first, channel queues, overflow policies, held-back
// writes of the turn slicer, the queuedBytes gauge); every path updates the
// same counters, so it stays one class.
export class SessionWriter {
  readonly #transport: SessionTransport;
  readonly #stats: ServerCounters;
  readonly #events: SessionWriterEvents;
  readonly #slicer: TurnSlicer;
  #scheduler: FrameScheduler | undefined;
  // Wait for the next write (paced snapshot streams: up to MAX_SNAPSHOTS_PER_CONNECTION), see whenWritten.
  #onWritten: SlicedTask | SlicedTask[] | undefined;
  // Writes the scheduler's control frames (no data): made once, on the first control frame with data flowing;
  // queued in the slicer at most once at a time (#controlSoon).
  #flushControl: (() => void) | undefined;
  #controlSoon = false;
  #opened = false;
  #peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  #maxMessageSize = 0;
  #queueLimit = 1000;
  #channels = 0;
  #paused = false;
  // No more queueing (closing, or the client was found not reading); #closed: no more writing either.
  #stopped = false;
  #closed = false;
  // Control bytes queued since writing paused.
  #controlWhilePaused = 0;
  // Without a scheduler: control frames waiting for the end of the turn.
  #plain: Uint8Array[] = EMPTY_LIST;
  #plainBytes = 0;
  #plainScheduled = false;
  // Mirrors of the counters, to update the server totals by difference.
  #queued = 0;
  #schedulerFramesOut = 0;
  // Set by the scheduler's drop callbacks: the next accounting reads its exact figures.
  #resync = false;

  /**
   * @param transport - where bytes go
   * @param stats - the server's counters (framesOut, bytesOut, queuedBytes, framesDropped)
   * @param events - drop and overflow callbacks
   * @param slicer - where the scheduler's writes are queued
   */
  constructor(transport: SessionTransport, stats: ServerCounters, events: SessionWriterEvents, slicer: TurnSlicer) {
    this.#transport = transport;
    this.#stats = stats;
    this.#events = events;
    this.#slicer = slicer;
  }

  /** Messages queued on `channel` now (0 without a scheduler). */
  queuedOn(channel: number): number {
    return this.#scheduler?.queuedOn(channel) ?? 0;
  }

  /**
   * Defers `task` (to the slicer) after the next write of data, so it can
   * queue more once there is room. Several tasks may wait at once (one per
   * snapshot streaming to the connection); each is deferred once, after the
   * next write. Dropped when the writer stops.
   */
  whenWritten(task: SlicedTask): void {
    if (this.#stopped) return;
    // Several may wait (one per snapshot streaming to this connection): every one goes on after the write.
    const waiting = this.#onWritten;
    if (waiting === undefined) this.#onWritten = task;
    else if (!Array.isArray(waiting)) this.#onWritten = waiting === task ? task : [waiting, task];
    else if (!waiting.includes(task)) waiting.push(task);
    // Nothing queued: nothing will be written, so there is room now.
    if (this.#queued === 0 && !this.#paused) this.#wrote();
  }

  /** Bytes queued and not yet handed to the transport. */
  get queuedBytes(): number {
    return this.#queued;
  }

  /** Whether writing waits for the transport to drain. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Whether a FrameScheduler is allocated now (data flowing or subscriptions). */
  get scheduling(): boolean {
    return this.#scheduler !== undefined;
  }

  /**
   * Starts queueing (at Welcome; before it, frames are written at once).
   * Frames longer than `peerMaxFrameSize` leave as fragments when
   * `maxMessageSize` > 0 and they fit it, else are dropped and counted.
   *
   * @param queueLimit - limit of the channel-0 data queue (drop-oldest) and default of others
   */
  open(peerMaxFrameSize: number, maxMessageSize: number, queueLimit: number): void {
    if (this.#closed || this.#opened) return;
    this.#opened = true;
    this.#peerMaxFrameSize = peerMaxFrameSize;
    this.#maxMessageSize = maxMessageSize;
    this.#queueLimit = queueLimit;
  }

  /**
   * Queues a control frame: never dropped by a policy, written before any
   * data. A frame longer than the client's max frame size is not sent
   * (counted in `framesDropped`).
   *
   * @returns `false` if it was too large
   */
  control(frame: Frame): boolean {
    if (this.#stopped) return true; // closing: nothing more is queued
    const bytes = toBinary(FrameSchema, frame);
    if (bytes.length > this.#peerMaxFrameSize) {
      this.#stats.framesDropped++;
      return false;
    }
    if (!this.#opened) {
      this.#direct(bytes);
      return true;
    }
    const size = varintSize(bytes.length) + bytes.length;
    if (this.#paused) {
      this.#controlWhilePaused += size;
      if (this.#controlWhilePaused > MAX_WRITE_BACKLOG) {
        this.#stop();
        this.#events.onOverflow(0);
        return true;
      }
    }
    const scheduler = this.#scheduler;
    if (scheduler === undefined) {
      if (this.#plain === EMPTY_LIST) this.#plain = [];
      this.#plain.push(bytes);
      this.#plainBytes += size;
      this.#gauge(size);
      if (!this.#plainScheduled && !this.#paused) {
        this.#plainScheduled = true;
        setImmediate(SessionWriter.#plainLater, this);
      }
      return true;
    }
    scheduler.control(bytes);
    this.#account(size);
    // Control frames do not wait for a round of data writes (see TurnSlicer.flushSoon).
    if (!this.#paused && !this.#controlSoon) {
      this.#controlSoon = true;
      this.#slicer.flushSoon(
        (this.#flushControl ??= () => {
          this.#controlSoon = false;
          if (!this.#paused) this.#scheduler?.flushControl();
        }),
      );
    }
    return true;
  }

  /**
   * Queues a pre-encoded frame (`head` + `body` is its wire form,
   * `frameLength` its length without prefix) on `channel`'s queue.
   *
   * @returns whether it was queued (`false`: dropped by drop-newest or as
   *   too large, or the writer is closing)
   */
  relay(channel: number, head: Uint8Array, body: Uint8Array, frameLength: number): boolean {
    if (!this.#opened || this.#stopped) return false;
    let size: number;
    if (frameLength <= this.#peerMaxFrameSize) {
      size = head.length + body.length;
    } else if (this.#maxMessageSize > 0 && frameLength <= this.#maxMessageSize) {
      // Too large for one frame: the scheduler sends it as fragments of head and body, one per round.
      size = frameLength;
    } else {
      this.#stats.framesDropped++;
      this.#events.onDrop(channel, "tooLarge");
      return false;
    }
    // No allocation per delivery (see ChannelQueue).
    const queued = this.#schedulerNow().relay(channel, head, body);
    this.#account(queued ? size : 0);
    return queued;
  }

  /** Sets a channel queue's limit and overflow policy (a subscription starts). */
  configureChannel(channel: number, queueLimit: number, overflow: OverflowMode): void {
    if (!this.#opened || this.#stopped) return;
    this.#channels++;
    this.#schedulerNow().configureChannel(channel, { queueLimit, overflow });
  }

  /** Discards a channel's queue (a subscription ends). */
  removeChannel(channel: number): void {
    const scheduler = this.#scheduler;
    if (scheduler === undefined || this.#stopped) return;
    this.#channels--;
    scheduler.removeChannel(channel);
    this.#sync(scheduler);
    this.#releaseIfIdle();
  }

  /** The transport can take more (a socket's `'drain'`): writing resumes. */
  drained(): void {
    if (!this.#paused || this.#stopped) return;
    this.#paused = false;
    this.#controlWhilePaused = 0;
    if (this.#scheduler !== undefined) {
      this.#scheduler.resume();
      this.#releaseIfIdle();
    } else if (this.#plain.length > 0) {
      this.#writePlain();
    }
  }

  /**
   * Writes a last frame (a fatal ProtocolError) right behind what the
   * transport can take now, and stops: whatever is still queued is dropped.
   * Works while paused or after an overflow, when nothing else is written.
   */
  fatal(frame: Frame): void {
    if (this.#closed) return;
    this.#flushNow();
    const bytes = toBinary(FrameSchema, frame);
    if (bytes.length <= this.#peerMaxFrameSize) this.#direct(bytes);
    this.close();
  }

  /** Writes what the transport can take now (control frames, a batch of data), then stops. */
  finish(): void {
    if (this.#closed) return;
    this.#flushNow();
    this.close();
  }

  /** Stops writing and drops everything queued. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop();
  }

  // ---------------------------------------------------------------- internals

  #schedulerNow(): FrameScheduler {
    let scheduler = this.#scheduler;
    if (scheduler !== undefined) return scheduler;
    scheduler = new FrameScheduler({
      write: (chunk) => this.#write(chunk),
      schedule: (flush) => this.#slicer.flushLater(flush),
      maxFrameSize: this.#peerMaxFrameSize,
      // §11 rule 5: part-sent fragmented frames stay within 16 and max_message_size bytes, across channels.
      maxMessageSize: this.#maxMessageSize,
      fragmentSize: FRAGMENT_SIZE,
      maxBatchBytes: MAX_BATCH,
      queueLimit: this.#queueLimit,
      overflow: "drop-oldest",
      // Checked here instead, and only while the transport is backed up (see MAX_WRITE_BACKLOG).
      maxControlBytes: Number.POSITIVE_INFINITY,
      onDrop: (channel) => {
        this.#resync = true;
        this.#events.onDrop(channel, "overflow");
      },
      onOverflow: (channel) => {
        // The scheduler closed itself.
        this.#resync = true;
        this.#stop();
        this.#events.onOverflow(channel);
      },
    });
    this.#scheduler = scheduler;
    this.#schedulerFramesOut = 0;
    // Control frames still waiting go first, in order. (Created while the transport is backed up, the
    // scheduler writes one batch before it too pauses: a bounded overshoot.)
    for (const bytes of this.#plain) scheduler.control(bytes);
    this.#plain = EMPTY_LIST;
    this.#plainBytes = 0;
    return scheduler;
  }

  #write(chunk: Uint8Array): boolean {
    const scheduler = this.#scheduler;
    const more = this.#out(chunk);
    if (scheduler !== undefined) {
      this.#sync(scheduler);
      if (more) this.#releaseIfIdle();
    }
    if (this.#onWritten !== undefined) this.#wrote();
    return more;
  }

  #wrote(): void {
    const waiting = this.#onWritten;
    this.#onWritten = undefined;
    if (waiting === undefined) return;
    if (!Array.isArray(waiting)) this.#slicer.defer(waiting);
    else for (const task of waiting) this.#slicer.defer(task);
  }

  // Hands bytes to the transport; false when it is backed up.
  #out(chunk: Uint8Array): boolean {
    const transport = this.#transport;
    this.#stats.bytesOut += chunk.length;
    transport.write(chunk);
    if (transport.writableLength > WRITE_HIGH_WATER) {
      this.#paused = true;
      return false;
    }
    return true;
  }

  // setImmediate(fn, writer): no bound closure per connection.
  static #plainLater(writer: SessionWriter): void {
    writer.#plainScheduled = false;
    writer.#writePlain();
  }

  #writePlain(): void {
    if (this.#stopped || this.#paused || this.#scheduler !== undefined) return;
    const plain = this.#plain;
    if (plain.length === 0) return;
    const out = new Uint8Array(this.#plainBytes);
    let pos = 0;
    for (const bytes of plain) {
      pos = writeVarint32(out, pos, bytes.length);
      out.set(bytes, pos);
      pos += bytes.length;
    }
    this.#stats.framesOut += plain.length;
    this.#gauge(-this.#plainBytes);
    this.#plain = EMPTY_LIST;
    this.#plainBytes = 0;
    this.#out(out);
  }

  // Without the scheduler there is no per-frame state worth 1.6 KB to keep for an idle connection.
  #releaseIfIdle(): void {
    if (this.#channels === 0 && this.#queued === 0 && !this.#paused && this.#scheduler !== undefined) {
      this.#scheduler = undefined;
    }
  }

  // Writes what the transport takes now, synchronously.
  #flushNow(): void {
    if (this.#stopped || this.#paused) return;
    const scheduler = this.#scheduler;
    if (scheduler === undefined) {
      this.#writePlain();
      return;
    }
    // Every control frame (a batch is at most MAX_BATCH bytes), and one batch of data.
    for (let i = 0; i < 64 && !this.#paused && this.#scheduler === scheduler; i++) {
      scheduler.flushNow();
      if (scheduler.stats().queuedControlBytes === 0) break;
    }
  }

  #stop(): void {
    this.#stopped = true;
    this.#onWritten = undefined;
    const scheduler = this.#scheduler;
    scheduler?.close();
    this.#plain = EMPTY_LIST;
    this.#plainBytes = 0;
    this.#gauge(-this.#queued);
  }

  #direct(bytes: Uint8Array): void {
    const wire = sizeDelimit(bytes);
    this.#stats.framesOut++;
    this.#stats.bytesOut += wire.length;
    this.#transport.write(wire);
  }

  // Bookkeeping after a frame was offered to the scheduler: add its size, or resync after a drop.
  #account(size: number): void {
    if (this.#resync) {
      this.#resync = false;
      const scheduler = this.#scheduler;
      if (scheduler !== undefined && !this.#stopped) this.#sync(scheduler);
      return;
    }
    this.#gauge(size);
  }

  // The queued bytes of this writer changed by `delta`: the server's gauge and the slicer's (its read-ahead) follow.
  #gauge(delta: number): void {
    this.#queued += delta;
    this.#stats.queuedBytes += delta;
    this.#slicer.queued(delta);
  }

  #sync(scheduler: FrameScheduler): void {
    const s = scheduler.stats();
    this.#gauge(s.queuedBytes + this.#plainBytes - this.#queued);
    this.#stats.framesOut += s.framesOut - this.#schedulerFramesOut;
    this.#schedulerFramesOut = s.framesOut;
  }
}
