import { type Frame, FrameDecoder } from "@hb/codec";
import type { Session, SessionTransport } from "../src/internal.js";

/** An in-memory transport: records writes, decodes them, never touches a socket. */
export class MemoryTransport implements SessionTransport {
  readonly remoteAddress: string;
  writableLength = 0;
  writes = 0;
  ended = false;
  destroyed = false;
  /** Whether the session asked it to stop reading (and has not asked it to read again). */
  paused = false;
  readonly frames: Frame[] = [];
  session: Session | undefined;
  readonly #decoder = new FrameDecoder();

  constructor(remoteAddress = "10.0.0.1") {
    this.remoteAddress = remoteAddress;
  }
  write(bytes: Uint8Array): void {
    this.writes++;
    const err = this.#decoder.push(bytes, (f) => this.frames.push(f));
    if (err) throw err;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  end(): void {
    this.ended = true;
    queueMicrotask(() => this.session?.transportClosed());
  }
  destroy(): void {
    this.destroyed = true;
    queueMicrotask(() => this.session?.transportClosed());
  }
  kinds(): string[] {
    return this.frames.map((f) => f.body.case as string);
  }
}

