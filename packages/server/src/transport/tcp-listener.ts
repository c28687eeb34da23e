import { type AddressInfo, type Server, type Socket, createServer as createTcpServer } from "node:net";
import { type Server as TlsServer, type TlsOptions, createServer as createTlsServer } from "node:tls";
import type { Logger } from "../core/ports/logger.js";
import type { ServerCounters } from "../core/ports/server-stats.js";
import { type ProxyHeaderError, readProxyHeader } from "../proxy/read-proxy-header.js";
import type { HandoffSender } from "../workers/worker-handoff.js";
import { AcceptPacer } from "./accept-pacer.js";
import { FILE_RESERVE, openFileLimit } from "./file-limit.js";

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
  /** Where listener errors are logged. */
  logger: Logger;
  /** The server's counters: `accepted` and `acceptPaced` are counted here. */
  stats: ServerCounters;
  /**
   * Listen with `SO_REUSEPORT` (`reusePort`, and `exclusive` in a cluster
   * worker): this process gets a listening socket of its own on a port
   * other processes (the other workers) bind too, and the kernel spreads
   * new connections over them. Needs Linux and Node.js ≥ 22.12.
   */
  reusePort: boolean;
  /** Connections in their handshake now (admitted as sessions, not yet welcomed or closed). */
  handshaking: () => number;
  /** Most connections in their handshake at once; more wait, unread (accept pacing). */
  maxHandshakes: () => number;
  /** Closes an admitted connection silent for a while, for a socket waiting `waitedMs` (see `AcceptPacerPolicy.makeRoom`). */
  makeRoom?: (waitedMs: number) => boolean;
  /** See `AcceptPacerPolicy.pumped`. */
  pumped?: () => void;
  /**
   * Refuses a socket before reading it: fatal `SERVER_FULL` (with
   * `retry_after_ms`), counted and logged by the caller. Used when the
   * process is near its file limit, and for a socket that waited longer
   * than `handshakeTimeout` to be admitted.
   */
  refuse: (socket: Socket, message: string) => void;
  /** An accept failed (e.g. `EMFILE`): counted and logged (throttled) by the caller. */
  onAcceptError: (err: Error & { code?: string }) => void;
  /** Socket errors (resets, TLS failures), counted by the caller. */
  onSocketError: (err: Error & { code?: string }) => void;
  /** A connection closed for a missing, malformed or late PROXY header (counted and logged by the caller). */
  onProxyHeaderError: (err: ProxyHeaderError, remoteAddress: string | undefined) => void;
}

/** Serves an accepted socket: `handoff` when it may be passed to another worker, `remoteAddress` the client's from a PROXY header. */
export type ServeSocket = (socket: Socket, handoff: HandoffSender | undefined, remoteAddress?: string) => void;

/**
 * The TCP (or TLS) listener of a server: accepts sockets with a backlog of
 * {@link LISTEN_BACKLOG}, paces them ({@link AcceptPacer}: at most
 * `maxHandshakes` in their handshake, the others wait unread), hands each
 * to `serve`, and keeps every raw socket (TLS ones before their handshake
 * too, queued ones) until it closes, so that
 * {@link TcpListener.destroyAll} leaves nothing behind and the process's
 * file limit is known to be near: connections beyond it (less
 * {@link FILE_RESERVE}) are refused with a coded error rather than reset by
 * libuv. In a worker it listens with `SO_REUSEPORT` (`reusePort`), can
 * give a socket away to another worker (a resume, see `handoff`) and take
 * one over ({@link TcpListener.adopt}). Behind a load balancer
 * (`proxyProtocol`) it reads each connection's PROXY header first
 * (proxy/read-proxy-header.ts) and serves it with the client's address.
 */
export class TcpListener {
  readonly #o: TcpListenerOptions;
  readonly #sockets = new Set<Socket>();
  readonly #pacer: AcceptPacer;
  #server: Server | undefined;
  #fileLimit: number | undefined;
  // One listener shared by every socket (`this` is the socket): no closure per connection.
  readonly #untrack: (this: Socket) => void;
  #tls: TlsServer | undefined;

  constructor(options: TcpListenerOptions) {
    this.#o = options;
    const sockets = this.#sockets;
    this.#untrack = function (this: Socket) {
      sockets.delete(this);
    };
    this.#pacer = new AcceptPacer({
      handshaking: options.handshaking,
      maxHandshakes: options.maxHandshakes,
      maxWait: () => options.handshakeTimeout,
      paced: () => void options.stats.acceptPaced++,
      makeRoom: options.makeRoom,
      pumped: options.pumped,
      admit: (socket) => this.#admit?.(socket),
      expired: (socket, waited) =>
        options.refuse(socket, `server busy: waited ${Math.round(waited)} ms for a handshake slot (maxHandshakes)`),
    });
  }

  #admit: ((socket: Socket) => void) | undefined;

  /** Whether {@link TcpListener.listen} was called. */
  get started(): boolean {
    return this.#server !== undefined;
  }

  /** Sockets accepted and waiting for a handshake slot (accept pacing). */
  get waiting(): number {
    return this.#pacer.waiting;
  }

  /** The bound address, once listening. */
  address(): AddressInfo | undefined {
    const address = this.#server?.address();
    return address !== null && typeof address === "object" ? address : undefined;
  }

  /**
   * Listens; every accepted socket goes to `serve` once admitted (with
   * `handoff` when this process may pass sockets to another worker: plain
   * TCP only, TLS state cannot move; with `proxyProtocol`, once its PROXY
   * header is read, with the client's address from it).
   *
   * @throws the listen error (e.g. `EADDRINUSE`)
   */
  async listen(serve: ServeSocket, handoff?: HandoffSender): Promise<AddressInfo> {
    const o = this.#o;
    const give = o.tls === undefined && handoff !== undefined ? this.#giver(handoff) : undefined;
    this.#admit = (socket: Socket): void => {
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
    this.#fileLimit = openFileLimit();
    let server: Server;
    if (o.tls !== undefined) {
      const tlsServer = createTlsServer({ ...o.tls, handshakeTimeout: o.handshakeTimeout }, (socket) => {
        // TLS sockets read during their handshake already: paused while they wait.
        socket.pause();
        this.#pacer.offer(socket);
      });
      tlsServer.on("tlsClientError", (err) => o.onSocketError(err));
      tlsServer.on("connection", (socket: Socket) => this.#accepted(socket, false));
      server = tlsServer;
      this.#tls = tlsServer;
    } else {
      // Not read until admitted: a Hello waiting for a handshake slot stays in the kernel.
      server = createTcpServer({ pauseOnConnect: true }, (socket) => this.#accepted(socket, true));
    }
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      const reuse = o.reusePort ? { reusePort: true, exclusive: true } : {};
      server.listen({ host: o.host, port: o.port, backlog: LISTEN_BACKLOG, ...reuse }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    // Accept errors (e.g. EMFILE) must not crash the process.
    server.on("error", (err) => o.onAcceptError(err));
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

  /** Destroys every socket still open (waiting ones included). */
  destroyAll(): void {
    this.#pacer.destroyAll();
    for (const socket of this.#sockets) socket.destroy();
  }

  // A raw socket was accepted (`offer`: plain TCP, paced here; TLS ones are paced after their handshake).
  #accepted(socket: Socket, offer: boolean): void {
    this.#track(socket);
    this.#o.stats.accepted++;
    const limit = this.#fileLimit;
    if (limit !== undefined && this.#sockets.size > limit - FILE_RESERVE) {
      this.#o.refuse(socket, `server full: this process is near its open-file limit (${limit}, ulimit -n)`);
      return;
    }
    if (offer) this.#pacer.offer(socket);
  }

  // Every raw socket is known until it closes, so that destroyAll() can destroy leftovers.
  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on("close", this.#untrack);
  }
  // A socket given away is no longer this listener's.
  #giver(handoff: HandoffSender): HandoffSender {
    return (target, socket, bytes, remoteAddress) => {
      this.#sockets.delete(socket);
      handoff(target, socket, bytes, remoteAddress);
    };
  }
}
