import { Fifo } from "@hb/codec";

/**
 * Work that runs in slices: {@link SlicedTask.runSlice} does some of it and
 * returns `true` when all is done, `false` when there is more (it is called
 * again in a later turn, before anything queued behind it).
 */
export interface SlicedTask {
  /** Does work until done or until `slicer.expired()`; `true` when finished. */
  runSlice(slicer: TurnSlicer): boolean;
  /**
   * When not finished: `true` puts the task behind everything queued (a
   * connection's input, so connections take turns and one publisher's
   * backlog does not hold another's heartbeat); otherwise it stays at the
   * head (a fan-out, whose later messages must not overtake it).
   */
  readonly rotates?: boolean;
}

/** Options of a {@link TurnSlicer}. */
export interface TurnSlicerOptions {
  /**
   * Most milliseconds of sliced work per phase of one event-loop turn: the
   * work done inline when input arrives, then one slice of the deferred
   * work. Default {@link DEFAULT_SLICE_MS}.
   */
  sliceMs?: number;
  /**
   * While routing work is queued, writes wait so that each connection's
   * frames leave in few large writes; at the latest this many milliseconds
   * after the first write began waiting, a slice of writes runs anyway.
   * Default {@link DEFAULT_FLUSH_EVERY_MS}.
   */
  flushEveryMs?: number;
  /**
   * Most bytes of output queued for connections ({@link TurnSlicer.queued})
   * while {@link TurnSlicer.whenCaughtUp} callbacks still run (input is read
   * ahead of the writes). Default {@link DEFAULT_READ_AHEAD_BYTES}.
   */
  readAheadBytes?: number;
  /** Clock in ms (default `performance.now`). */
  now?: () => number;
  /** Runs a function in a later turn (default `setImmediate`). */
  schedule?: (run: () => void) => void;
  /**
   * Gets what a task threw (tasks catch their own errors; one that throws
   * anyway is dropped, the others go on). Default: a process warning.
   */
  onError?: (err: unknown) => void;
}

/** Default {@link TurnSlicerOptions.sliceMs}: with two phases per turn, a turn stays near 20 ms. */
export const DEFAULT_SLICE_MS = 8;
/** Units of work ({@link TurnSlicer.spend}) between two reads of the clock. */
export const CHECK_UNITS = 256;
/** Default {@link TurnSlicerOptions.flushEveryMs}. */
export const DEFAULT_FLUSH_EVERY_MS = 250;
/**
 * Default {@link TurnSlicerOptions.readAheadBytes}: 32 MiB of queued
 * deliveries (counted whole; their bodies are shared, so far less memory).
 */
export const DEFAULT_READ_AHEAD_BYTES = 32 * 1024 * 1024;
/**
 * Input is read ahead of the writes only while the connections waiting for
 * a write have at most this many bytes queued each on average: many
 * connections with a little each (a fan-out, whose writes carry more frames
 * each the more is read meanwhile), not one connection with much (a fan-in,
 * whose publishers go at the pace its queue is written at).
 */
export const READ_AHEAD_PER_WRITE = 16 * 1024;
/**
 * Input is read ahead of the writes only while at least this many
 * connections wait for a write: a round of writes that takes several turns
 * (10,000 connections: ≈ 50–100 ms). A shorter one is waited for, as a
 * publisher that resumes after every small write sends smaller batches
 * (measured: fan-in 150,000 against 303,000 msg/s when it did).
 */
export const READ_AHEAD_MIN_WRITES = 1_024;

/**
 * Keeps every event-loop turn's work bounded (issue 10): no single turn
 * fans a batch out to 10,000 connections, streams a 100,000-node snapshot
 * or copies a 50 MiB message. Work that does not fit the current turn's
 * budget is queued here and runs in slices of at most `sliceMs`, one slice
 * per turn (`setImmediate` between them, so timers and I/O run between two
 * slices).
 *
 * Three queues, served in this order:
 *
 * 1. **work** ({@link TurnSlicer.defer}): routing jobs, a connection's
 *    remaining input, reassembly copies, snapshot streams; first in, first
 *    out, so whatever is queued keeps its order (per-publisher order, §10.11).
 *    A task deferred while another task runs goes *before* it: the running
 *    task (a connection's input) yields to the work it just created. A
 *    connection's input that is not done goes to the back, so connections
 *    take turns.
 * 2. **writes** ({@link TurnSlicer.flushLater}): the connections' batched
 *    writes. They wait while work is queued (so a fan-out's frames leave in
 *    one write per connection, not one per message), but never more than
 *    `flushEveryMs`; a round of writes, once started, writes every
 *    connection queued at its start (over as many slices as it takes)
 *    before work goes on.
 * 3. **idle** ({@link TurnSlicer.whenIdle}): callbacks run once the other
 *    two are empty. **Caught up** ({@link TurnSlicer.whenCaughtUp}):
 *    callbacks run once no work is queued and no write either, or the
 *    writes still queued are many small ones (at least
 *    {@link READ_AHEAD_MIN_WRITES} connections waiting, at most
 *    `readAheadBytes` in all and {@link READ_AHEAD_PER_WRITE} per waiting
 *    connection on average): connections that stopped reading
 *    resume then. This is what slows a publisher to the pace its deliveries
 *    are written at, while a fan-out's next messages are read and routed
 *    during a round of writes (so that each write carries many of them:
 *    waiting for the last write before reading again made every delivery
 *    to 10,000 connections one socket write, 0.24 M deliveries/s).
 *
 * The budget of a turn is time, read from the clock after each task or
 * step (`expired()`: one `performance.now()`, ≈ 30 ns; callers check it
 * every few hundred deliveries, not per delivery).
 */
export class TurnSlicer {
  readonly #sliceMs: number;
  readonly #flushEveryMs: number;
  readonly #now: () => number;
  readonly #schedule: (run: () => void) => void;
  readonly #onError: (err: unknown) => void;
  readonly #work = new Fifo<SlicedTask>();
  readonly #flushes = new Fifo<() => void>();
  readonly #urgent = new Fifo<() => void>();
  readonly #idle = new Fifo<() => void>();
  readonly #caughtUp = new Fifo<() => void>();
  readonly #readAheadBytes: number;
  // Bytes queued for connections (see queued()).
  #queuedBytes = 0;
  // Start of the current phase's budget; -1 when no budget is running.
  #phaseStart = -1;
  #endScheduled = false;
  #sliceScheduled = false;
  // A task is running; what it defers meanwhile goes before it.
  #running = false;
  readonly #ahead: SlicedTask[] = [];
  // When the oldest waiting write began waiting (-1: none waits).
  #flushWaitingSince = -1;
  // Writes left in the current round (0: no round running).
  #round = 0;
  #slices = 0;
  #deferred = 0;
  readonly #slice = (): void => this.#runSlice();
  readonly #endPhase = (): void => {
    this.#endScheduled = false;
    if (!this.#running) this.#newPhase(-1);
  };
  // The budget of the current phase is spent (until the phase ends).
  #over = false;
  #units = 0;

  constructor(options: TurnSlicerOptions = {}) {
    this.#sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS;
    this.#flushEveryMs = options.flushEveryMs ?? DEFAULT_FLUSH_EVERY_MS;
    this.#readAheadBytes = options.readAheadBytes ?? DEFAULT_READ_AHEAD_BYTES;
    this.#now = options.now ?? performance.now.bind(performance);
    this.#schedule = options.schedule ?? ((run) => setImmediate(run));
    this.#onError =
      options.onError ?? ((err) => process.emitWarning(`hb: a sliced task threw: ${String((err as Error)?.stack ?? err)}`));
  }

  /**
   * Whether work is queued that new work must queue behind to keep its
   * order: anything queued, or, while a task runs, what that task deferred.
   */
  get backlogged(): boolean {
    return this.#running ? this.#ahead.length > 0 : this.#work.length > 0;
  }

  /** Tasks, writes and idle (and caught-up) callbacks waiting. */
  get pending(): { work: number; writes: number; idle: number } {
    return { work: this.#work.length, writes: this.#flushes.length, idle: this.#idle.length + this.#caughtUp.length };
  }

  /** Bytes of output queued for connections, as reported to {@link TurnSlicer.queued}. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /**
   * The output queued for connections grew (`delta` > 0) or shrank by
   * `delta` bytes: writers report it as they queue and write, O(1), so
   * that {@link TurnSlicer.whenCaughtUp} knows how far input may be read
   * ahead of the writes.
   */
  queued(delta: number): void {
    this.#queuedBytes += delta;
  }

  /** Slices run so far, and tasks deferred so far (for tests and stats). */
  get counts(): { slices: number; deferred: number } {
    return { slices: this.#slices, deferred: this.#deferred };
  }

  /**
   * Whether the current phase's budget is spent (reads the clock). The
   * first call in a phase starts its budget (work arriving with input, in a
   * timer, …); the budget ends with the phase, at the next `setImmediate`.
   */
  expired(): boolean {
    if (this.#over) return true;
    const t = this.#now();
    if (this.#phaseStart < 0) {
      this.#phaseStart = t;
      if (!this.#endScheduled) {
        this.#endScheduled = true;
        this.#schedule(this.#endPhase);
      }
      return false;
    }
    if (t - this.#phaseStart < this.#sliceMs) return false;
    this.#over = true;
    return true;
  }

  /**
   * Counts `units` of work (a delivery, a frame; {@link CHECK_UNITS} of
   * them ≈ 25–100 µs) and reads the clock once per {@link CHECK_UNITS}: the
   * hot path's budget check, one addition per call.
   *
   * @returns whether the current phase's budget is spent
   */
  spend(units: number): boolean {
    if (this.#over) return true;
    this.#units += units;
    if (this.#units < CHECK_UNITS) return false;
    this.#units = 0;
    return this.expired();
  }

  /**
   * Queues a task (see the class comment for where it goes). It runs in a
   * later slice, never synchronously.
   */
  defer(task: SlicedTask): void {
    this.#deferred++;
    if (this.#running) this.#ahead.push(task);
    else this.#work.push(task);
    this.#kick();
  }

  /** Queues a connection's write (a `FrameScheduler`'s flush). */
  flushLater(flush: () => void): void {
    if (this.#flushes.length === 0) this.#flushWaitingSince = this.#now();
    this.#flushes.push(flush);
    this.#kick();
  }

  /**
   * Queues a connection's write of control frames (a heartbeat ack, a
   * window update): run at the start of the next slice, before any work or
   * write round, so a backlog of routing work never delays an ack by more
   * than a turn.
   */
  flushSoon(flush: () => void): void {
    this.#urgent.push(flush);
    this.#kick();
  }

  /** Runs `fn` once no work and no write is queued (at once, in a later turn, when none is). */
  whenIdle(fn: () => void): void {
    this.#idle.push(fn);
    this.#kick();
  }

  /**
   * Runs `fn` once no work is queued and the writes still queued are small
   * enough to read more input meanwhile (see the class comment): at once
   * after the current slice when they are, in a later turn when not.
   */
  whenCaughtUp(fn: () => void): void {
    this.#caughtUp.push(fn);
    this.#kick();
  }

  // No work queued, and the writes queued are few or small (see whenCaughtUp).
  #isCaughtUp(): boolean {
    if (this.#work.length > 0) return false;
    const writes = this.#flushes.length;
    if (writes === 0) return true;
    if (writes < READ_AHEAD_MIN_WRITES) return false;
    const bytes = this.#queuedBytes;
    return bytes <= this.#readAheadBytes && bytes <= writes * READ_AHEAD_PER_WRITE;
  }

  #kick(): void {
    if (this.#sliceScheduled) return;
    this.#sliceScheduled = true;
    this.#schedule(this.#slice);
  }

  #runSlice(): void {
    this.#sliceScheduled = false;
    this.#slices++;
    this.#newPhase(this.#now());
    const work = this.#work;
    const flushes = this.#flushes;
    const urgent = this.#urgent;
    for (let n = urgent.length; n > 0; n--) (urgent.shift() as () => void)();
    for (;;) {
      // A round of writes, once due, goes on (over slices) until the writes queued at its start are done;
      // it takes half of each slice, work the rest, so a connection's input (a heartbeat) is not held for a whole round.
      if (this.#round === 0 && flushes.length > 0 && (work.length === 0 || this.#phaseStart - this.#flushWaitingSince >= this.#flushEveryMs)) {
        this.#round = flushes.length;
      }
      if (this.#round > 0) {
        this.#runFlushes(work.length > 0 ? this.#sliceMs / 2 : this.#sliceMs);
        if (work.length > 0 && !this.expired()) this.#runWork();
        // At most one write per connection per turn (a connection that has more is queued again):
        // the next round waits for the next turn, so sockets drain and input is read in between.
        if (this.#round === 0) break;
      } else if (work.length > 0) {
        this.#runWork();
      } else if (this.#idle.length > 0) {
        const idle = this.#idle;
        // Only those waiting now: a callback that waits again runs in a later slice.
        for (let n = idle.length; n > 0; n--) (idle.shift() as () => void)();
        break;
      } else {
        break;
      }
      if (this.expired()) break;
    }
    const caughtUp = this.#caughtUp;
    if (caughtUp.length > 0 && this.#isCaughtUp()) {
      // Only those waiting now: a callback that waits again runs in a later slice.
      for (let n = caughtUp.length; n > 0; n--) (caughtUp.shift() as () => void)();
    }
    this.#newPhase(-1);
    if (work.length > 0 || flushes.length > 0 || urgent.length > 0 || this.#idle.length > 0 || caughtUp.length > 0) this.#kick();
  }

  #newPhase(start: number): void {
    this.#phaseStart = start;
    this.#over = false;
    this.#units = 0;
  }

  #runWork(): void {
    const work = this.#work;
    const ahead = this.#ahead;
    while (work.length > 0) {
      // Off the queue while it runs; what it defers goes before it (and before everything else queued).
      const task = work.shift() as SlicedTask;
      this.#running = true;
      let done: boolean;
      try {
        done = task.runSlice(this);
      } catch (err) {
        // Tasks catch their own errors (a session closes its connection); one that throws is dropped, not retried.
        done = true;
        this.#onError(err);
      } finally {
        this.#running = false;
      }
      if (!done) {
        if (task.rotates === true) work.push(task);
        else work.unshift(task);
      }
      for (let i = ahead.length - 1; i >= 0; i--) work.unshift(ahead[i] as SlicedTask);
      ahead.length = 0;
      if (this.expired()) return;
      // Writes waited long enough: a round of them starts.
      if (this.#round === 0 && this.#flushes.length > 0 && this.#now() - this.#flushWaitingSince >= this.#flushEveryMs) return;
    }
  }

  #runFlushes(ms: number): void {
    const flushes = this.#flushes;
    while (this.#round > 0 && flushes.length > 0) {
      this.#round--;
      (flushes.shift() as () => void)();
      if (this.expired() || this.#now() - this.#phaseStart >= ms) return;
    }
    this.#round = 0;
    // Writes queued during the round wait for the next one.
    this.#flushWaitingSince = flushes.length > 0 ? this.#now() : -1;
  }
}

let shared: TurnSlicer | undefined;

/**
 * The slicer of this process's event loop, shared by every server in it
 * (the budget is the loop's, whichever server spends it).
 */
export function processSlicer(): TurnSlicer {
  shared ??= new TurnSlicer();
  return shared;
}
