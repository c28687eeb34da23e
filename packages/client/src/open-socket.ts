import { isIP, connect as netConnect } from "node:net";
import type { Duplex } from "node:stream";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";

/** Where and how to open a connection. */
export interface SocketTarget {
  /** Server host. */
  readonly host: string;
  /** Server port. */
  readonly port: number;
  /** TLS options; `undefined` for plain TCP. */
  readonly tls: ConnectionOptions | undefined;
}

/** A socket being opened, and the event it emits once ready for the protocol. */
export interface OpenedSocket {
  /** The socket; writes made before it is ready are buffered by Node. */
  readonly socket: Duplex;
  /** `"connect"` for TCP, `"secureConnect"` for TLS (after the TLS handshake). */
  readonly readyEvent: "connect" | "secureConnect";
}

/**
 * Starts a TCP (or, with `target.tls`, TLS) connection. For TLS the SNI
 * server name defaults to the host unless it is an IP address. Nagle's algorithm is
 * off: frames are already batched per tick, and heartbeat RTT must not
 * include a 40 ms delayed-ACK stall.
 */
export function openSocket(target: SocketTarget): OpenedSocket {
  if (target.tls !== undefined) {
    // SNI must not carry an IP address (RFC 6066).
    const sni = isIP(target.host) === 0 ? { servername: target.host } : {};
    const socket = tlsConnect({ ...sni, ...target.tls, host: target.host, port: target.port });
    socket.setNoDelay(true);
    return { socket, readyEvent: "secureConnect" };
  }
  const socket = netConnect({ host: target.host, port: target.port, noDelay: true });
  return { socket, readyEvent: "connect" };
}
