import type { PeerCertificate } from "node:tls";

/**
 * What a `Session` needs from a byte stream. The TCP/TLS listener
 * provides one per socket (`TcpTransport`); tests and other transports
 * (WebSocket, in-memory) provide their own. The transport must call
 * `Session.receive` with incoming bytes and
 * `Session.transportClosed` once the stream is gone.
 */
export interface SessionTransport {
  /** Remote IP address (used for per-IP limits and logs). */
  readonly remoteAddress: string;
  /**
   * Bytes written but not yet handed to the OS (`socket.writableLength`).
   * Above `WRITE_HIGH_WATER` the session stops writing until the
   * transport calls `Session.transportDrained`; a transport that
   * never buffers may always report 0.
   */
  readonly writableLength: number;
  /** Writes bytes; the session calls it at most once per event-loop turn (plus once for a last fatal error). */
  write(bytes: Uint8Array): void;
  /**
   * Optional: stops reading (a socket's `pause()`) while the session holds
   * input it has not processed yet (the event loop's work budget is spent,
   * see `TurnSlicer`); a transport without it keeps delivering, and the
   * session holds what arrives.
   */
  pause?(): void;
  /** Optional: reads again after {@link SessionTransport.pause}. */
  resume?(): void;
  /** Closes gracefully after pending writes are flushed. */
  end(): void;
  /** Closes at once, dropping pending writes. */
  destroy(): void;
  /**
   * Optional, for multi-process servers: passes the connection, with every
   * byte read from it so far, to the worker `target` (which holds the
   * session its Hello resumes). Returns `false` when it cannot (then the
   * session goes on here); after `true` the transport is no longer this
   * session's.
   */
  handoff?(target: number): boolean;
  /**
   * Optional, for TLS with client certificates: the client's certificate
   * when it was verified against the server's CA, else `undefined` (the
   * `auth.certificateNodeId` option takes the node id from it).
   */
  peerCertificate?(): PeerCertificate | undefined;
}
