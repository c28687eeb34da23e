import { type AddressInfo, type Server, type Socket, createServer as createTcpServer } from "node:net";
import { type Server as TlsServer, type TlsOptions, createServer as createTlsServer } from "node:tls";
import type { Logger } from "../core/ports/logger.js";
import { type ProxyHeaderError, readProxyHeader } from "../proxy/read-proxy-header.js";
import type { HandoffSender } from "../workers/worker-handoff.js";

/** Listen backlog (capped by the OS's somaxconn): room for a burst of reconnecting nodes. */
export const LISTEN_BACKLOG = 4_096;

/** Options of a {@link TcpListener}. */
export interface TcpListenerOptions {
  /** Interface to listen on (Node's default: every interface). */
  host: string | undefined;
  /** Port; 0 picks a free one. */
  port: number;
  /** TLS options, or `undefined` for plain TCP. */
  tls: TlsOptions | undefined;
  /** Whether every connection starts with a PROXY protocol header (v1 or v2) giving the client's address. */
  proxyProtocol: boolean;
  /** TLS handshake timeout, ms; also how long a PROXY header may take. */
  handshakeTimeout: number;
  /** Where listener errors (e.g. EMFILE) are logged. */
  logger: Logger;
  /** Socket errors (resets, TLS failures), counted by the caller. */
  onSocketError: (err: Error & { code?: string }) => void;
  /** A connection closed for a missing, malformed or late PROXY header (counted and logged by the caller). */
  onProxyHeaderError: (err: ProxyHeaderError, remoteAddress: string | undefined) => void;
}

/** Serves an accepted socket: `handoff` when it may be passed to another worker, `remoteAddress` the client's from a PROXY header. */
export type ServeSocket = (socket: Socket, handoff: HandoffSender | undefined, remoteAddress?: string) => void;

/**
 * The TCP (or TLS) listener of a server: accepts sockets with a backlog of
 * {@link LISTEN_BACKLOG}, hands each to `serve`, and keeps every raw socket
 * (TLS ones before their handshake too) until it closes, so that
 * {@link TcpListener.destroyAll} leaves nothing behind. In a worker it can
 * give a socket away to another worker (a resume, see `handoff`) and take
 * one over ({@link TcpListener.adopt}). Behind a load balancer
 * (`proxyProtocol`) it reads each connection's PROXY header first
 * (proxy/read-proxy-header.ts) and serves it with the client's address.
 */
export class TcpListener {
  readonly #o: TcpListenerOptions;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #tls: TlsServer | undefined;

  constructor(options: TcpListenerOptions) {
    this.#o = options;
  }

  /** Whether {@link TcpListener.listen} was called. */
  get started(): boolean {
    return this.#server !== undefined;
  }

  /** The bound address, once listening. */
  address(): AddressInfo | undefined {
    const address = this.#server?.address();
    return address !== null && typeof address === "object" ? address : undefined;
  }

  /**
   * Listens; every accepted socket goes to `serve` (with `handoff` when
   * this process may pass sockets to another worker: plain TCP only, TLS
   * state cannot move; with `proxyProtocol`, once its PROXY header is read,
   * with the client's address from it).
   *
   * @throws the listen error (e.g. `EADDRINUSE`)
   */
  async listen(serve: ServeSocket, handoff?: HandoffSender): Promise<AddressInfo> {
    const o = this.#o;
    const give = o.tls === undefined && handoff !== undefined ? this.#giver(handoff) : undefined;
    const onSocket = (socket: Socket): void => {
      if (!o.proxyProtocol) return serve(socket, give);
      // Behind a balancer: the client's address is in the PROXY header, before any hb byte.
      readProxyHeader(socket, o.handshakeTimeout).then(
        (header) => serve(socket, give, header.source?.address),
        (err: ProxyHeaderError) => {
          o.onProxyHeaderError(err, socket.remoteAddress);
          socket.destroy();
        },
      );
    };
    let server: Server;
    if (o.tls !== undefined) {
      const tlsServer = createTlsServer({ ...o.tls, handshakeTimeout: o.handshakeTimeout }, onSocket);
      tlsServer.on("tlsClientError", (err) => o.onSocketError(err));
      server = tlsServer;
      this.#tls = tlsServer;
    } else {
      server = createTcpServer(onSocket);
    }
    server.on("connection", (socket: Socket) => this.#track(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: o.host, port: o.port, backlog: LISTEN_BACKLOG }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    // Accept errors (e.g. EMFILE) must not crash the process.
    server.on("error", (err) => o.logger.error({ err }, "listener error"));
    return server.address() as AddressInfo;
  }

  /**
   * Replaces the TLS certificate, key, CA and other context options for
   * connections accepted from now on (`tls.Server#setSecureContext`); open
   * connections keep theirs.
   *
   * @throws Error when the listener does not speak TLS, or the options are invalid (a bad PEM: nothing changes)
   */
  reloadTls(options: TlsOptions): void {
    if (this.#tls === undefined) throw new Error("this server does not speak TLS (no tls option)");
    this.#tls.setSecureContext(options);
  }

  /** Takes over a socket handed from another worker: tracked like an accepted one. */
  adopt(socket: Socket): void {
    this.#track(socket);
  }

  /** Stops accepting; resolves once the listening socket is closed. */
  close(): Promise<void> {
    const server = this.#server;
    return new Promise<void>((resolve) => {
      if (server === undefined || !server.listening) resolve();
      else server.close(() => resolve());
    });
  }

  /** Destroys every socket still open. */
  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  // Every raw socket is known until it closes, so that destroyAll() can destroy leftovers.
  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
  }

  // A socket given away is no longer this listener's.
  #giver(handoff: HandoffSender): HandoffSender {
    return (target, socket, bytes, remoteAddress) => {
      this.#sockets.delete(socket);
      handoff(target, socket, bytes, remoteAddress);
    };
  }
}
