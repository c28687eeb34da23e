import { type Socket, connect as netConnect } from "node:net";
import {
  type ErrorCode,
  type Frame,
  type FrameBodyCase,
  type FrameBodyInit,
  FrameDecoder,
  type HbError,
  type ProtocolError,
  encodeFrame,
  errorCodeName,
  makeFrame,
} from "@hb/codec";
import { describeFrame, describeProtocolError, frameTypeName } from "./describe-frame.js";
import { ScenarioFailure, fail } from "./scenario-outcome.js";

/** The decoded value of the Frame body named `K`, e.g. `FrameValue<"welcome">` is `Welcome`. */
export type FrameValue<K extends FrameBodyCase> = Extract<Frame["body"], { case: K }>["value"];

/** How a {@link RawConnection} ended. */
export interface ConnectionEnd {
  /** `performance.now()` when the socket closed. */
  readonly at: number;
  /** Who closed it: the peer (FIN or reset) or this side ({@link RawConnection.destroy}). */
  readonly by: "peer" | "local";
  /** Socket error, e.g. `ECONNRESET`, if the close was not clean. */
  readonly error?: Error;
  /** The peer sent bytes that do not decode as hb frames (the connection was then dropped). */
  readonly decodeError?: HbError;
}

/**
 * Called for every frame as it arrives, before it is queued for the
 * `expect…` methods; return `true` to consume it (it is then not queued).
 * Used to answer heartbeats in the background and to timestamp frames.
 */
export type FrameHook = (frame: Frame, at: number) => boolean | undefined;

/** Options of {@link RawConnection.expectFrame} and the other `expect…` methods. */
export interface ExpectOptions {
  /**
   * Frame kinds to drop silently while waiting (e.g. `["heartbeatAck"]`), or
   * `"others"` to drop every other kind. Default: any other frame fails.
   */
  ignore?: readonly FrameBodyCase[] | "others";
  /** What happened just before, for the failure message, e.g. `"after sending a second Hello"`. */
  after?: string;
}

/** Options of the {@link RawConnection} constructor. */
export interface RawConnectionOptions {
  /** Name used in failure messages, e.g. `"connection A"`. */
  label: string;
  /** What the other end is, e.g. `"server"` or `"node"`. */
  peer: string;
  /** Largest frame accepted from the peer, bytes (default 1 MiB). */
  maxFrameSize?: number;
}

/** What {@link RawConnection.next} returns: a frame with its arrival time, or the end of the connection. */
export type ConnectionEvent = FrameEvent | EndEvent;

/** A frame received, see {@link ConnectionEvent}. */
export interface FrameEvent {
  /** Discriminant. */
  readonly kind: "frame";
  /** The decoded frame. */
  readonly frame: Frame;
  /** `performance.now()` at arrival. */
  readonly at: number;
}

/** The end of the connection, see {@link ConnectionEvent}. */
export interface EndEvent {
  /** Discriminant. */
  readonly kind: "end";
  /** How it ended. */
  readonly end: ConnectionEnd;
}

/** What {@link RawConnection.expectClose} returns. */
export interface CloseResult {
  /** ms from the call until the close. */
  readonly afterMs: number;
  /** Frames received before the close. */
  readonly frames: Frame[];
  /** How the connection ended. */
  readonly end: ConnectionEnd;
}

const now = (): number => performance.now();
const ms = (n: number): string => `${Math.round(n)} ms`;
const suffix = (after: string | undefined): string => (after === undefined ? "" : ` ${after}`);

/**
 * A raw framed hb connection for scripted tests: it speaks frames through
 * `@hb/codec` only and checks nothing by itself, so a scenario can send
 * anything (also invalid bytes) and state precisely what it expects back.
 *
 * Received frames are queued; `expectFrame`, `expectError` and
 * `expectClose` take them in order and throw a {@link ScenarioFailure}
 * naming what was expected and what arrived instead. It serves both roles:
 * the client side in server mode and the server side in node mode.
 *
 * One consumer at a time: do not run two `expect…` calls on one connection
 * concurrently.
 */
export class RawConnection {
  /** Name used in failure messages, e.g. `"connection A"`. */
  readonly label: string;
  /** What the other end is, for failure messages: `"server"` or `"node"`. */
  readonly peer: string;
  /** `performance.now()` when the connection was set up. */
  readonly openedAt: number;
  /** Background frame hook, see {@link FrameHook}. */
  onFrame: FrameHook | undefined;

  readonly #socket: Socket;
  readonly #decoder: FrameDecoder;
  readonly #queue: ConnectionEvent[] = [];
  #wake: (() => void) | undefined;
  #end: ConnectionEnd | undefined;
  #socketError: Error | undefined;
  #decodeError: HbError | undefined;
  #closedLocally = false;
  readonly #closed: Promise<ConnectionEnd>;
  #framesReceived = 0;

  /**
   * Wraps a connected socket.
   *
   * @param socket - a connected TCP socket
   * @param options - names for failure messages and the decoder's frame size limit
   */
  constructor(socket: Socket, options: RawConnectionOptions) {
    this.#socket = socket;
    this.label = options.label;
    this.peer = options.peer;
    this.openedAt = now();
    this.#decoder = new FrameDecoder(options.maxFrameSize === undefined ? {} : { maxFrameSize: options.maxFrameSize });
    socket.setNoDelay(true);
    let resolveClosed: (end: ConnectionEnd) => void = () => {};
    this.#closed = new Promise((resolve) => {
      resolveClosed = resolve;
    });
    socket.on("data", (chunk: Buffer) => {
      const err = this.#decoder.push(chunk, (frame) => {
        const at = now();
        this.#framesReceived++;
        if (this.onFrame?.(frame, at) === true) return;
        this.#push({ kind: "frame", frame, at });
      });
      if (err !== undefined && this.#decodeError === undefined) {
        this.#decodeError = err;
        socket.destroy();
      }
    });
    socket.on("error", (err) => {
      this.#socketError ??= err;
    });
    socket.on("close", () => {
      // A stream that stops inside a frame is TRUNCATED.
      if (this.#decodeError === undefined && !this.#closedLocally) this.#decodeError = this.#decoder.end();
      const end: ConnectionEnd = {
        at: now(),
        by: this.#closedLocally ? "local" : "peer",
        ...(this.#socketError === undefined ? {} : { error: this.#socketError }),
        ...(this.#decodeError === undefined ? {} : { decodeError: this.#decodeError }),
      };
      this.#end = end;
      this.#push({ kind: "end", end });
      resolveClosed(end);
    });
  }

  /**
   * Opens a TCP connection.
   *
   * @throws {@link ScenarioFailure} when the connection cannot be made within `timeoutMs`
   */
  static connect(host: string, port: number, label: string, timeoutMs: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(failure(`${label}: could not connect to ${host}:${port} within ${ms(timeoutMs)}`));
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        resolve(new RawConnection(socket, { label, peer: "server" }));
      });
      socket.once("error", (err) => {
        clearTimeout(timer);
        reject(failure(`${label}: could not connect to ${host}:${port}: ${err.message}`));
      });
    });
  }

  /** How the connection ended, or `undefined` while it is open. */
  get end(): ConnectionEnd | undefined {
    return this.#end;
  }

  /** Resolves when the socket has closed (by either side). */
  get closed(): Promise<ConnectionEnd> {
    return this.#closed;
  }

  /** Frames received so far, including the ones consumed by {@link RawConnection.onFrame}. */
  get framesReceived(): number {
    return this.#framesReceived;
  }

  /** Remote address as `host:port`. */
  get remote(): string {
    return `${this.#socket.remoteAddress}:${this.#socket.remotePort}`;
  }

  /** Sends one frame (ignored once the connection is closed). */
  send(frame: Frame): void {
    this.sendBytes(encodeFrame(frame));
  }

  /** Builds a frame with `makeFrame` from `@hb/codec` and sends it. */
  sendBody<K extends FrameBodyCase>(kind: K, value: FrameBodyInit<K>, channel = 0): void {
    this.send(makeFrame(kind, value, channel));
  }

  /** Sends raw bytes, e.g. a malformed length prefix (ignored once the connection is closed). */
  sendBytes(bytes: Uint8Array): void {
    if (this.#end !== undefined || this.#socket.destroyed) return;
    this.#socket.write(bytes);
  }

  /** Half-closes: sends FIN after pending writes; frames can still arrive. */
  endWrites(): void {
    if (!this.#socket.destroyed) this.#socket.end();
  }

  /** Closes the connection at once (idempotent). */
  destroy(): void {
    if (this.#end === undefined) this.#closedLocally = true;
    this.#socket.destroy();
  }

  /**
   * Takes the next received frame, or the end of the connection (which is
   * sticky: every later call returns it again).
   *
   * @returns `undefined` if nothing arrived within `timeoutMs`
   */
  async next(timeoutMs: number): Promise<ConnectionEvent | undefined> {
    const deadline = now() + timeoutMs;
    for (;;) {
      const head = this.#queue[0];
      if (head !== undefined) {
        if (head.kind === "frame") this.#queue.shift();
        return head;
      }
      const remaining = deadline - now();
      if (remaining <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, remaining);
        this.#wake = done;
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
      });
      this.#wake = undefined;
    }
  }

  /**
   * Waits for a frame of kind `kind` and returns its body. `options.what`
   * names the expected frame in a failure (default: its message name).

   * @throws {@link ScenarioFailure} when another frame arrives first (unless
   *   ignored), the connection closes, the peer's bytes do not decode, or
   *   nothing arrives within `timeoutMs`
   */
  async expectFrame<K extends FrameBodyCase>(
    kind: K,
    timeoutMs: number,
    options: ExpectOptions & { what?: string } = {},
  ): Promise<FrameValue<K>> {
    const what = options.what ?? frameTypeName(kind);
    const start = now();
    const deadline = start + timeoutMs;
    for (;;) {
      const event = await this.next(Math.max(0, deadline - now()));
      if (event === undefined) {
        fail(`${this.label}: expected ${what}${suffix(options.after)} within ${ms(timeoutMs)}, but nothing arrived`);
      }
      if (event.kind === "end") {
        fail(
          `${this.label}: expected ${what}${suffix(options.after)}, but ${this.#describeEnd(event.end, start)} without it`,
        );
      }
      const body = event.frame.body;
      if (body.case === kind) return body.value as FrameValue<K>;
      const ignore = options.ignore;
      if (ignore === "others" || (body.case !== undefined && ignore?.includes(body.case))) continue;
      fail(`${this.label}: expected ${what}${suffix(options.after)}, got ${describeFrame(event.frame)}`);
    }
  }

  /**
   * Waits for a ProtocolError and checks its code and, when given, `fatal`,
   * `ref` and `ref_body`.
   *
   * @throws {@link ScenarioFailure} as {@link RawConnection.expectFrame}, or
   *   when the error's code, fatal flag or ref differ from `want`
   */
  async expectError(
    want: { code: ErrorCode; fatal?: boolean; ref?: bigint; refBody?: number; nodeId?: string },
    timeoutMs: number,
    options: ExpectOptions = {},
  ): Promise<ProtocolError> {
    const parts = [`code: ${errorCodeName(want.code)}`];
    if (want.fatal !== undefined) parts.push(`fatal: ${want.fatal}`);
    if (want.ref !== undefined) parts.push(`ref: ${want.ref}`);
    if (want.refBody !== undefined) parts.push(`ref_body: ${want.refBody}`);
    if (want.nodeId !== undefined) parts.push(`node_id: ${JSON.stringify(want.nodeId)}`);
    const what = `ProtocolError{${parts.join(", ")}}`;
    const got = await this.expectFrame("error", timeoutMs, { ...options, what });
    if (
      got.code !== want.code ||
      (want.fatal !== undefined && got.fatal !== want.fatal) ||
      (want.ref !== undefined && got.ref !== want.ref) ||
      (want.refBody !== undefined && got.refBody !== want.refBody) ||
      (want.nodeId !== undefined && got.nodeId !== want.nodeId)
    ) {
      fail(`${this.label}: expected ${what}${suffix(options.after)}, got ${describeProtocolError(got)}`);
    }
    return got;
  }

  /**
   * Waits for the peer to close the connection. Frames that arrive first are
   * returned (and fail the wait only if listed in `forbid`).
   *
   * @returns ms from the call until the close, and the frames seen before it
   * @throws {@link ScenarioFailure} when the connection is still open after
   *   `timeoutMs`, or a frame of a kind in `forbid` arrives
   */
  async expectClose(
    timeoutMs: number,
    options: { after?: string; forbid?: readonly FrameBodyCase[] } = {},
  ): Promise<CloseResult> {
    const start = now();
    const deadline = start + timeoutMs;
    const frames: Frame[] = [];
    for (;;) {
      const event = await this.next(Math.max(0, deadline - now()));
      if (event === undefined) {
        const seen = frames.length === 0 ? "" : ` (frames received meanwhile: ${frames.map(describeFrame).join(", ")})`;
        fail(`${this.label}: expected the connection to be closed${suffix(options.after)} within ${ms(timeoutMs)}, but it stayed open${seen}`);
      }
      if (event.kind === "end") return { afterMs: event.end.at - start, frames, end: event.end };
      const kind = event.frame.body.case;
      if (kind !== undefined && options.forbid?.includes(kind)) {
        fail(`${this.label}: expected the connection to be closed${suffix(options.after)}, got ${describeFrame(event.frame)}`);
      }
      frames.push(event.frame);
    }
  }

  /**
   * Checks that nothing but ignored frames arrives for `durationMs` and the
   * connection stays open.
   *
   * @throws {@link ScenarioFailure} naming the frame or the close
   */
  async expectNothing(durationMs: number, options: ExpectOptions = {}): Promise<void> {
    const start = now();
    const deadline = start + durationMs;
    for (;;) {
      const remaining = deadline - now();
      if (remaining <= 0) return;
      const event = await this.next(remaining);
      if (event === undefined) return;
      if (event.kind === "end") {
        fail(`${this.label}: expected the connection to stay open${suffix(options.after)}, but ${this.#describeEnd(event.end, start)}`);
      }
      const kind = event.frame.body.case;
      const ignore = options.ignore;
      if (ignore === "others" || (kind !== undefined && ignore?.includes(kind))) continue;
      fail(
        `${this.label}: expected nothing${suffix(options.after)} for ${ms(durationMs)}, but got ${describeFrame(event.frame)} after ${ms(now() - start)}`,
      );
    }
  }

  /** Describes how the connection ended, e.g. "the server closed the connection 12 ms later". */
  #describeEnd(end: ConnectionEnd, since: number): string {
    const later = `${ms(Math.max(0, end.at - since))} later`;
    if (end.decodeError !== undefined) {
      return `the ${this.peer} sent bytes that are not a valid hb frame stream (${errorCodeName(end.decodeError.code)}: ${end.decodeError.message})`;
    }
    if (end.by === "local") return "the connection was closed by the conformance runner";
    const how = end.error === undefined ? "" : ` (${(end.error as NodeJS.ErrnoException).code ?? end.error.message})`;
    return `the ${this.peer} closed the connection${how} ${later}`;
  }

  #push(event: ConnectionEvent): void {
    this.#queue.push(event);
    this.#wake?.();
  }
}

const failure = (message: string): Error => new ScenarioFailure(message);
