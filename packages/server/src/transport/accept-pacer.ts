import type { Socket } from "node:net";

/** How often a pacer holding sockets looks whether it may admit more, ms. */
export const PACE_TICK_MS = 5;

/**
 * Most admitted connections one decision closes to give their slots to waiting sockets (`makeRoom`): a
 * closed connection frees its slot only once its socket has closed (a later decision), so without a bound
 * one decision closed every silent connection at once (672 ms of one worker's loop without a pause in bench:scale
 * at 100,000 nodes).
 */
export const MAX_EVICTIONS_PER_PUMP = 32;

/** What an {@link AcceptPacer} asks of the server, each time it decides. */
export interface AcceptPacerPolicy {
  /** Connections in their handshake now (admitted, not yet welcomed or closed). */
  handshaking(): number;
  /** Most connections in their handshake at once (this process's share of `maxHandshakes`). */
  maxHandshakes(): number;
  /** How long a socket may wait here, ms (`handshakeTimeout`: its client has given up by then). */
  maxWait(): number;
  /** Admits a socket: reading starts, it becomes a session. */
  admit(socket: Socket): void;
  /** A socket waited too long: refuse it (a coded, counted error). */
  expired(socket: Socket, waitedMs: number): void;
  /** A socket has to wait (counted by the server). */
  paced(): void;
  /**
   * Sockets wait and every handshake slot is taken: close one admitted
   * connection that has sent nothing for a while (a silent flood must not
   * hold the slots); `true` when one was closed. `waitedMs`: how long the
   * oldest socket waiting has waited (a queue that moves needs no room made).
   */
  makeRoom?(waitedMs: number): boolean;
  /** Called at the start of each decision while sockets wait (each one after an I/O poll of the event loop). */
  pumped?(): void;
}

/**
 * Accept pacing (PROTOCOL.md §5, state CONNECTING: "pace rather than
 * refuse"): sockets accepted while `maxHandshakes` connections are already
 * in their handshake wait here, unread (their Hello stays in the kernel),
 * oldest first, and are admitted as handshakes complete. A reconnect storm
 * thus costs queued sockets, not refusals, resets or handshake timeouts:
 * a socket's handshake timeout starts when it is admitted. A socket that
 * waited longer than `maxWait` is refused (its client gave up anyway), and
 * one closed by its peer meanwhile is dropped without a session. While
 * sockets wait, slots held by admitted connections that have sent nothing
 * for a while are taken back (`makeRoom`): a flood of silent sockets
 * cannot keep real nodes, whose Hello follows their connect, waiting.
 *
 * O(1) per socket; the queue is an array with a moving head.
 */
export class AcceptPacer {
  readonly #policy: AcceptPacerPolicy;
  #queue: Socket[] = [];
  #since: number[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(policy: AcceptPacerPolicy) {
    this.#policy = policy;
  }

  /** Sockets waiting now. */
  get waiting(): number {
    return this.#queue.length - this.#head;
  }

  /** A socket was accepted: admitted now, or queued (unread) until a handshake completes. */
  offer(socket: Socket): void {
    const p = this.#policy;
    if (this.waiting === 0 && p.handshaking() < p.maxHandshakes()) {
      p.admit(socket);
      return;
    }
    p.paced();
    this.#queue.push(socket);
    this.#since.push(performance.now());
    this.#schedule();
  }

  /** Admits what may be admitted now (also called by the tick). */
  pump(): void {
    const p = this.#policy;
    const max = p.maxHandshakes();
    const maxWait = p.maxWait();
    const now = performance.now();
    p.pumped?.();
    let room = max - p.handshaking();
    // Slots held by connections that never spoke are given to the sockets waiting (oldest silent first): at
    // most one per socket waiting, and MAX_EVICTIONS_PER_PUMP per decision.
    let evictions = Math.min(this.waiting, MAX_EVICTIONS_PER_PUMP);
    const oldest = this.waiting > 0 ? now - (this.#since[this.#head] as number) : 0;
    while (room <= 0 && evictions-- > 0 && p.makeRoom?.(oldest) === true) room = max - p.handshaking();
    while (this.#head < this.#queue.length) {
      const socket = this.#queue[this.#head] as Socket;
      const waited = now - (this.#since[this.#head] as number);
      if (!socket.destroyed && waited <= maxWait && room <= 0) break;
      this.#head++;
      if (socket.destroyed) continue;
      if (waited > maxWait) p.expired(socket, waited);
      else {
        room--;
        p.admit(socket);
      }
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#since = this.#since.slice(this.#head);
      this.#head = 0;
    }
    if (this.waiting === 0) {
      this.#queue = [];
      this.#since = [];
      this.#head = 0;
    }
  }

  /** Destroys every waiting socket (the server closes). */
  destroyAll(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (let i = this.#head; i < this.#queue.length; i++) this.#queue[i]?.destroy();
    this.#queue = [];
    this.#since = [];
    this.#head = 0;
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(this.#tick, PACE_TICK_MS);
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    this.pump();
    if (this.waiting > 0) this.#schedule();
  };
}
