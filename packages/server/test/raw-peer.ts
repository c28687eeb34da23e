import { connect, type Socket } from "node:net";
import {
  type Frame,
  type FrameBodyCase,
  type FrameBodyInit,
  FrameDecoder,
  PROTOCOL_VERSION,
  type ProtocolError,
  type Welcome,
  encodeFrame,
  makeFrame,
} from "@hb/codec";

interface Waiter {
  match: (f: Frame) => boolean;
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
}

type BodyOf<K extends FrameBodyCase> = Extract<Frame["body"], { case: K }>["value"];

/**
 * A tiny raw-socket test peer speaking the hb protocol with @hb/codec:
 * send any frame (or raw bytes), wait for frames by kind, observe the close.
 */
export class RawPeer {
  readonly socket: Socket;
  /** Every frame received, in order (unless created with `keep: false`). */
  readonly received: Frame[] = [];
  /** Number of frames received, by kind. */
  readonly counts = new Map<string, number>();
  /** Called for every frame received (after counting). */
  onFrame: ((frame: Frame) => void) | undefined;
  readonly #keep: boolean;
  /** Resolves when the socket is closed. */
  readonly closed: Promise<void>;
  #decoder = new FrameDecoder({ maxFrameSize: 64 * 1024 * 1024 });
  #queue: Frame[] = [];
  #waiters: Waiter[] = [];
  #isClosed = false;
  seq = 0n;

  private constructor(socket: Socket, keep: boolean) {
    this.socket = socket;
    this.#keep = keep;
    socket.setNoDelay(true);
    socket.on("data", (chunk) => {
      const err = this.#decoder.push(chunk, (f) => this.#onFrame(f));
      if (err) socket.destroy(err);
    });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) =>
      socket.once("close", () => {
        this.#isClosed = true;
        for (const w of this.#waiters.splice(0)) w.reject(new Error("connection closed"));
        resolve();
      }),
    );
  }

  /**
   * Connects to `port`. `localAddress` picks the source address (e.g.
   * 127.0.0.7); `keep: false` queues only errors, welcomes and
   * go-aways (for tests with thousands of peers or frames).
   */
  static connect(port: number, opts: { host?: string; localAddress?: string; keep?: boolean } = {}): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: opts.host ?? "127.0.0.1", localAddress: opts.localAddress });
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new RawPeer(socket, opts.keep ?? true));
      });
      socket.once("error", reject);
    });
  }

  /** Wraps an already connected socket (e.g. a TLS one). */
  static wrap(socket: Socket): RawPeer {
    return new RawPeer(socket, true);
  }

  /** Whether the socket has closed. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Sends a frame. */
  send<K extends FrameBodyCase>(kind: K, value: FrameBodyInit<K>, channel = 0): void {
    if (!this.socket.destroyed) this.socket.write(encodeFrame(makeFrame(kind, value, channel)));
  }

  /** Sends raw bytes. */
  sendRaw(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Sends a Heartbeat with the next sequence number. */
  heartbeat(): void {
    this.send("heartbeat", { seq: ++this.seq, sendTimeUs: 1n });
  }

  /**
   * Sends Hello and resolves with Welcome; rejects with the ProtocolError's code name if refused.
   * `timeoutMs` bounds the wait for the answer: raise it where many peers say Hello at once
   * (the server reads a Hello only once it has accepted the connection, see scale.test.ts).
   */
  async hello(init: FrameBodyInit<"hello"> = {}, timeoutMs = 10_000): Promise<Welcome> {
    this.send("hello", { protocolVersion: PROTOCOL_VERSION, ...init });
    const f = await this.nextOf(["welcome", "error"], timeoutMs);
    if (f.body.case === "error") throw Object.assign(new Error(f.body.value.message), { code: f.body.value.code });
    return f.body.value as Welcome;
  }

  /** The next received frame of `kind` (earlier frames of other kinds stay queued). */
  async next<K extends FrameBodyCase>(kind: K, timeoutMs = 5_000): Promise<BodyOf<K>> {
    const f = await this.nextOf([kind], timeoutMs);
    return f.body.value as BodyOf<K>;
  }

  /** The next ProtocolError. */
  error(timeoutMs = 5_000): Promise<ProtocolError> {
    return this.next("error", timeoutMs);
  }

  /** The next received frame whose kind is one of `kinds`. */
  nextOf(kinds: FrameBodyCase[], timeoutMs = 5_000): Promise<Frame> {
    const i = this.#queue.findIndex((f) => kinds.includes(f.body.case as FrameBodyCase));
    if (i >= 0) return Promise.resolve(this.#queue.splice(i, 1)[0] as Frame);
    if (this.#isClosed) return Promise.reject(new Error(`connection closed while waiting for ${kinds.join("/")}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting for ${kinds.join("/")}`));
      }, timeoutMs);
      const waiter: Waiter = {
        match: (f) => kinds.includes(f.body.case as FrameBodyCase),
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** Number of frames of `kind` received. */
  count(kind: FrameBodyCase): number {
    return this.counts.get(kind) ?? 0;
  }

  /** Frames of `kind` received so far and not consumed by next(). */
  drain<K extends FrameBodyCase>(kind: K): BodyOf<K>[] {
    const out: BodyOf<K>[] = [];
    this.#queue = this.#queue.filter((f) => {
      if (f.body.case !== kind) return true;
      out.push(f.body.value as BodyOf<K>);
      return false;
    });
    return out;
  }

  /** Closes the socket gracefully. */
  end(): void {
    this.socket.end();
  }

  /** Destroys the socket. */
  destroy(): void {
    this.socket.destroy();
  }

  #onFrame(frame: Frame): void {
    const kind = frame.body.case as string;
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    this.onFrame?.(frame);
    if (!this.#keep && kind !== "error" && kind !== "welcome" && kind !== "goAway") return;
    this.received.push(frame);
    const i = this.#waiters.findIndex((w) => w.match(frame));
    if (i >= 0) {
      const [w] = this.#waiters.splice(i, 1);
      w?.resolve(frame);
      return;
    }
    this.#queue.push(frame);
  }
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean, timeoutMs = 5_000, what = "condition"): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
