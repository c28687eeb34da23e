import type { Socket } from "node:net";
import { type PeerCertificate, TLSSocket } from "node:tls";
import type { HandoffSender } from "../workers/worker-handoff.js";
import type { SessionTransport } from "../core/ports/session-transport.js";
import type { Session } from "../session/session.js";

/** How long a socket may linger after {@link TcpTransport.end} before it is destroyed, in ms. */
export const END_LINGER_MS = 1_000;

/**
 * The thin TCP (or TLS) transport: a `net.Socket` as a
 * {@link SessionTransport}. It forwards bytes both ways and nothing else;
 * all protocol logic is in {@link Session}.
 *
 * Sets `noDelay` (the session already batches writes per event-loop turn)
 * and reports `'drain'` to the session, which stops writing while
 * `writableLength` is above its high-water mark.
 * After {@link TcpTransport.end} the socket is destroyed if the peer has not
 * closed it within {@link END_LINGER_MS}, so a peer ignoring the FIN cannot
 * hold it open.
 */
// The transport of a socket, kept on the socket itself so that every socket
// shares the same listener functions (no closures per connection: about
// 650 B per connection were per-socket listeners and their contexts,
// measured with packages/bench/src/heap.mjs).
const TRANSPORT = Symbol("hb.transport");
type Carrier = Socket & { [TRANSPORT]?: TcpTransport };

export class TcpTransport implements SessionTransport {
  /** Remote IP address ("" if the socket was already closed). */
  readonly remoteAddress: string;
  readonly #socket: Socket;
  readonly #handoff: HandoffSender | undefined;
  readonly #onError: (err: Error) => void;
  #session: Session | undefined;
  // Chunks read before the Hello, kept when a handoff is possible (bounded by maxFrameSize plus one chunk).
  #early: Buffer[] | undefined;
  #linger: NodeJS.Timeout | undefined;

  /**
   * @param socket - a connected socket (it may have been accepted paused: reading starts at {@link TcpTransport.bind})
   * @param onError - called with socket errors (resets, TLS failures); they
   *   always end in `close`, which the bound session is told about
   * @param handoff - multi-process servers (plain TCP only): sends the
   *   socket and the bytes read so far to another worker; enables
   *   {@link TcpTransport.handoff}
   * @param remoteAddress - the client's address when it is not the socket's
   *   (read from a PROXY protocol header)
   */
  constructor(socket: Socket, onError: (err: Error) => void, handoff?: HandoffSender, remoteAddress?: string) {
    this.#socket = socket;
    this.#handoff = handoff;
    this.#onError = onError;
    if (handoff !== undefined) this.#early = [];
    this.remoteAddress = remoteAddress ?? socket.remoteAddress ?? "";
    socket.setNoDelay(true);
    (socket as Carrier)[TRANSPORT] = this;
    socket.on("error", TcpTransport.#errorListener);
    socket.on("close", TcpTransport.#closeListener);
  }

  /** Connects the socket's input and close to `session`, and starts reading. */
  bind(session: Session): void {
    const socket = this.#socket;
    this.#session = session;
    socket.on("data", TcpTransport.#dataListener);
    // First, before Node ends a non-half-open socket's write side: a stream
    // that ends inside a frame is answered TRUNCATED while it can still be (§3.2).
    socket.prependListener("end", TcpTransport.#endListener);
    socket.on("drain", TcpTransport.#drainListener);
    socket.resume();
    if (socket.destroyed) session.transportClosed();
  }

  static readonly #errorListener = function (this: Carrier, err: Error): void {
    const t = this[TRANSPORT];
    if (t !== undefined) t.#onError(err);
  };

  static readonly #closeListener = function (this: Carrier): void {
    const t = this[TRANSPORT];
    if (t === undefined) return;
    if (t.#linger !== undefined) clearTimeout(t.#linger);
    t.#session?.transportClosed();
  };

  static readonly #dataListener = function (this: Carrier, chunk: Buffer): void {
    const t = this[TRANSPORT];
    if (t === undefined) return;
    const session = t.#session;
    if (session === undefined) return;
    const early = t.#early;
    if (early === undefined) {
      session.receive(chunk);
      return;
    }
    early.push(chunk);
    session.receive(chunk);
    if (t.#early !== undefined && !session.awaitingHello) t.#early = undefined;
  };

  static readonly #endListener = function (this: Carrier): void {
    const t = this[TRANSPORT];
    if (t !== undefined) t.#session?.transportEnded();
  };

  static readonly #drainListener = function (this: Carrier): void {
    const t = this[TRANSPORT];
    if (t !== undefined) t.#session?.transportDrained();
  };

  /** See {@link SessionTransport.writableLength}. */
  get writableLength(): number {
    return this.#socket.writableLength;
  }

  /** See {@link SessionTransport.write}. */
  write(bytes: Uint8Array): void {
    const socket = this.#socket;
    if (socket.writable) socket.write(bytes);
  }

  /** See {@link SessionTransport.pause}. */
  pause(): void {
    this.#socket.pause();
  }

  /** See {@link SessionTransport.resume}. */
  resume(): void {
    if (!this.#socket.destroyed) this.#socket.resume();
  }

  /** See {@link SessionTransport.end}. */
  end(): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    // Refused before reading: discard what the client sent, so that closing does not reset the connection
    // (a close with unread bytes sends RST, which can destroy the refusal before the client reads it).
    if (this.#session === undefined) socket.resume();
    socket.end();
    if (this.#linger === undefined) {
      this.#linger = setTimeout(() => socket.destroy(), END_LINGER_MS);
      this.#linger.unref();
    }
  }

  /**
   * See {@link SessionTransport.handoff}: possible only while the Hello is
   * being read (the transport still holds every byte read). Stops reading,
   * takes what the socket has buffered, detaches from the session and
   * passes the socket with the bytes to the `handoff` callback.
   */
  handoff(target: number): boolean {
    const early = this.#early;
    const send = this.#handoff;
    const socket = this.#socket;
    if (early === undefined || send === undefined || socket.destroyed) return false;
    this.#early = undefined;
    // Node's IPC send replaces the handle's read callback with a no-op: bytes
    // the kernel hands over after this point would be lost, so stop reading
    // first (net.Socket#pause() does not stop the handle; this internal does).
    (socket as unknown as { _handle?: { readStop?: () => number } })._handle?.readStop?.();
    socket.pause();
    socket.removeListener("data", TcpTransport.#dataListener);
    socket.removeListener("drain", TcpTransport.#drainListener);
    socket.removeListener("close", TcpTransport.#closeListener);
    // The error listener stays (it does nothing now): an error on the way must not crash the process.
    this.#session = undefined;
    (socket as Carrier)[TRANSPORT] = undefined;
    for (let c: Buffer | null = socket.read(); c !== null; c = socket.read()) early.push(c);
    send(target, socket, Buffer.concat(early), this.remoteAddress);
    return true;
  }

  /** See {@link SessionTransport.peerCertificate}: a TLS client's certificate, when verified against the server's CA. */
  peerCertificate(): PeerCertificate | undefined {
    const socket = this.#socket;
    if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
    const cert = socket.getPeerCertificate();
    return cert === null || Object.keys(cert).length === 0 ? undefined : cert;
  }

  /** See {@link SessionTransport.destroy}. */
  destroy(): void {
    this.#socket.destroy();
  }
}
