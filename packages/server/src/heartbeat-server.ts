import cluster from "node:cluster";
import { EventEmitter } from "node:events";
import { type AddressInfo, type Server, type Socket, createServer as createTcpServer } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { ErrorCode, HbError, encodeFrame, errorCodeName, makeFrame } from "@hb/codec";
import type { BusHealth } from "./cluster/bus-link.js";
import { Hub } from "./hub.js";
import { checkNodeId } from "./node-id.js";
import type { NodeFilter, NodeInfo } from "./node-info.js";
import { isReservedSubject, parseSubject } from "./routing/subject.js";
import type { SubscriptionInfo } from "./routing/subscription-info.js";
import type { HeartbeatServerEvents } from "./server-events.js";
import {
  type HeartbeatServerOptions,
  PROCESS_LOCAL_OPTIONS,
  type ResolvedServerOptions,
  SERVER_OPTION_DEFAULTS,
  resolveServerOptions,
} from "./server-options.js";
import { ServerCounters, type ServerStats } from "./server-stats.js";
import { Session, type SessionTransport } from "./session.js";
import { TcpTransport } from "./tcp-transport.js";
import { type LiveServerOptions, applyLiveOptions } from "./live-options.js";
import { type ProxyHeaderError, readProxyHeader } from "./proxy/read-proxy-header.js";
import { sumWorkerStats } from "./telemetry/sum-worker-stats.js";
import { HubBusLink } from "./cluster/hub-bus-link.js";
import { WorkerPool } from "./cluster/worker-pool.js";
import type { HandoffSender, WorkerRole } from "./cluster/worker-handoff.js";

/** Listen backlog (capped by the OS's somaxconn): room for a burst of reconnecting nodes. */
export const LISTEN_BACKLOG = 4_096;

/**
 * The hb server: accepts node connections over TCP (or TLS), keeps the
 * registry of nodes and their liveness, and reports presence changes as
 * typed events.
 *
 * ```ts
 * const server = new HeartbeatServer({ port: 7000, heartbeatTimeout: 30_000 });
 * server.on("nodeTimeout", (e) => console.log(e.nodeId, "is offline"));
 * const address = await server.listen();
 * // …
 * await server.close();
 * ```
 *
 * Behaviour follows docs/PROTOCOL.md: handshake, duplicate ids, resume,
 * gateway mode, rate limit, liveness (suspect after 1.5 × interval, timeout
 * after heartbeatTimeout, detected by a timing wheel with tick
 * heartbeatCheckInterval), and channels: subscriptions with bounded queues
 * and overflow policies, publish / send / broadcast / request-reply
 * routing, presence as the `$hb.presence` channel, wills, fragments and
 * flow control. The application can publish, send and broadcast too
 * ({@link HeartbeatServer.publish}, …).
 *
 * Misbehaving connections never affect others: each bad input is answered
 * with its `ProtocolError` code, logged (`logger.warn`, with `code`), counted
 * in {@link HeartbeatServer.stats} and, when fatal, closes that connection
 * only. The server never emits `error` for them.
 */
export class HeartbeatServer extends EventEmitter<HeartbeatServerEvents> {
  #options: ResolvedServerOptions;
  readonly #stats = new ServerCounters();
  readonly #hub: Hub;
  readonly #sessions = new Set<Session>();
  readonly #perIp = new Map<string, number>();
  // Every raw socket of the listener (TLS ones before their handshake too), to destroy leftovers on close.
  readonly #sockets = new Set<Socket>();
  #listener: Server | undefined;
  #closing: Promise<void> | undefined;
  #nextId = 1;
  #idle: (() => void) | undefined;
  #busStarted = false;
  readonly #pool: WorkerPool | undefined;
  #poolStarted = false;
  #role: WorkerRole | undefined;

  /**
   * @param options - see {@link HeartbeatServerOptions}
   * @throws TypeError / RangeError for invalid options (the message names the option and its range)
   */
  constructor(options: HeartbeatServerOptions = {}) {
    super();
    const resolved = resolveServerOptions(options);
    if (resolved.workerCount > 1 || resolved.workerModule !== undefined) {
      for (const key of PROCESS_LOCAL_OPTIONS) {
        if (options[key] !== undefined) {
          throw new TypeError(
            `${key} cannot be given inline with worker processes (workerCount > 1 or workerModule): ` +
              "export it from the workerModule, or use workerCount 1",
          );
        }
      }
      this.#pool = new WorkerPool(resolved, options);
      // With a bus, the primary joins it for the whole server and bridges it to the workers.
      this.#options = { ...resolved, bus: new HubBusLink(this.#pool.hub, resolved.bus) };
    } else {
      this.#options = resolved;
      if (options.workerCount === undefined && SERVER_OPTION_DEFAULTS.workerCount > 1 && cluster.isPrimary) {
        const inline = PROCESS_LOCAL_OPTIONS.filter((key) => options[key] !== undefined);
        resolved.logger.info(
          { inline, cpus: SERVER_OPTION_DEFAULTS.workerCount },
          "one process: workerCount defaults to 1 with hooks given inline (a workerModule runs hooks in workers)",
        );
      }
    }
    this.#hub = new Hub(this.options, this, this.#stats);
  }

  /** The options in force (defaults applied; changed by {@link HeartbeatServer.reconfigure}). */
  get options(): ResolvedServerOptions {
    return this.#options;
  }

  /**
   * Changes the options that can change while the server runs
   * ({@link LIVE_OPTIONS}: connection limits, rate limit), in every worker
   * process too, which also take the primary logger's current `level`.
   * Connections already open keep their rate limit.
   *
   * @returns the options now in force
   * @throws TypeError / RangeError as {@link resolveServerOptions}, or for an option that cannot change live; nothing changes then
   */
  reconfigure(changes: LiveServerOptions): ResolvedServerOptions {
    const next = applyLiveOptions(this.#options, changes);
    this.#options = next;
    this.#hub.options = next;
    this.#pool?.reconfigure(changes);
    return next;
  }

  /**
   * Starts listening on `host`:`port` (TLS when the `tls` option is set), with
   * a backlog of {@link LISTEN_BACKLOG}.
   *
   * @returns the bound address (useful with port 0)
   * @throws the listen error (e.g. `EADDRINUSE`); also if called twice or after close
   */
  async listen(): Promise<AddressInfo> {
    if (this.#listener !== undefined) throw new Error("HeartbeatServer is already listening");
    if (this.#closing !== undefined) throw new Error("HeartbeatServer is closed");
    const o = this.options;
    if (this.#pool !== undefined) return this.#listenWorkers(this.#pool);
    if (o.bus !== undefined && !this.#busStarted) {
      // Join the bus before accepting: the remote directory is loaded when this resolves.
      this.#busStarted = true;
      await o.bus.start(o.serverId, this.#hub.busHandlers);
      this.#hub.busStarted();
    }
    // A worker hands a resuming connection to its sibling (plain TCP only: TLS state cannot move).
    const handoff = this.#role !== undefined && o.tls === undefined ? this.#handoff : undefined;
    const onSocket = (socket: Socket): void => {
      if (!o.proxyProtocol) return void this.#serve(socket, handoff);
      // Behind a balancer: the client's address is in the PROXY header, before any hb byte.
      readProxyHeader(socket, o.handshakeTimeout).then(
        (header) => void this.#serve(socket, handoff, header.source?.address),
        (err: ProxyHeaderError) => {
          this.#stats.socketErrors++;
          o.logger.warn({ code: err.code, remoteAddress: socket.remoteAddress }, err.message);
          socket.destroy();
        },
      );
    };
    let listener: Server;
    if (o.tls !== undefined) {
      const tlsServer = createTlsServer({ ...o.tls, handshakeTimeout: o.handshakeTimeout }, onSocket);
      tlsServer.on("tlsClientError", (err) => this.#socketError(err));
      listener = tlsServer;
    } else {
      listener = createTcpServer(onSocket);
    }
    listener.on("connection", (socket: Socket) => this.#track(socket));
    this.#listener = listener;
    await new Promise<void>((resolve, reject) => {
      listener.once("error", reject);
      listener.listen({ host: o.host, port: o.port, backlog: LISTEN_BACKLOG }, () => {
        listener.off("error", reject);
        resolve();
      });
    });
    // Accept errors (e.g. EMFILE) must not crash the process.
    listener.on("error", (err) => o.logger.error({ err }, "listener error"));
    this.#hub.start();
    const address = listener.address() as AddressInfo;
    o.logger.info({ address: address.address, port: address.port, serverId: o.serverId, bus: o.bus?.kind }, "hb server listening");
    return address;
  }

  // workerCount > 1: the primary forks the workers (they listen), and joins their bus through the hub.
  async #listenWorkers(pool: WorkerPool): Promise<AddressInfo> {
    if (this.#poolStarted) throw new Error("HeartbeatServer is already listening");
    this.#poolStarted = true;
    const o = this.options;
    if (o.bus !== undefined && !this.#busStarted) {
      this.#busStarted = true;
      await o.bus.start(o.serverId, this.#hub.busHandlers);
      this.#hub.busStarted();
    }
    const address = await pool.start();
    o.logger.info({ port: address.port, workers: o.workerCount, serverId: o.serverId }, "hb server workers listening");
    return address;
  }

  /** The bound address, or `undefined` when not listening (with `workerCount` > 1: the workers' shared one). */
  address(): AddressInfo | undefined {
    if (this.#pool !== undefined) return this.#pool.address();
    const address = this.#listener?.address();
    return address !== null && typeof address === "object" ? address : undefined;
  }

  /**
   * @internal Makes this server a worker of a multi-process server (called
   * by the worker entry before {@link HeartbeatServer.listen}): resume
   * tokens carry the worker id, and a Hello resuming another worker's
   * session is handed to it through `role`.
   */
  setWorkerRole(role: WorkerRole): void {
    this.#role = role;
    this.#hub.setWorker(role.workerId);
  }

  /**
   * @internal Takes over a connection handed from another worker: `bytes`
   * (read there, the Hello among them) are fed first. It is not handed on
   * again: an unknown token yields a fresh session here.
   */
  adopt(socket: Socket, bytes: Uint8Array): void {
    if (this.#listener === undefined || this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    this.#track(socket);
    this.#serve(socket, undefined)?.receive(bytes);
  }

  // Runs a session on a connected socket (handed off when `handoff` is given); undefined when refused.
  #serve(socket: Socket, handoff: HandoffSender | undefined, remoteAddress?: string): Session | undefined {
    const transport = new TcpTransport(socket, (err) => this.#socketError(err), handoff, remoteAddress);
    const session = this.accept(transport);
    if (session !== undefined) transport.bind(session);
    return session;
  }

  // Every raw socket is known until it closes, so that close() can destroy leftovers.
  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
  }

  readonly #handoff: HandoffSender = (target, socket, bytes) => {
    this.#sockets.delete(socket);
    this.#role?.handoff(target, socket, bytes);
  };

  /**
   * Accepts a connection from any transport. The TCP listener calls it for
   * each socket; tests and other transports may call it directly. Applies
   * `maxConnections` and `maxConnectionsPerIp`: over a limit, the transport
   * gets a fatal `SERVER_FULL` and is ended, and `undefined` is returned.
   *
   * The transport must then feed {@link Session.receive} and call
   * {@link Session.transportClosed} once closed.
   */
  accept(transport: SessionTransport): Session | undefined {
    const o = this.options;
    if (this.#closing !== undefined) {
      this.#refuse(transport, ErrorCode.SHUTTING_DOWN, "server is shutting down");
      return undefined;
    }
    const ip = transport.remoteAddress;
    const perIp = this.#perIp.get(ip) ?? 0;
    if (this.#sessions.size >= o.maxConnections) {
      this.#refuse(transport, ErrorCode.SERVER_FULL, `server is full (maxConnections ${o.maxConnections})`);
      return undefined;
    }
    if (o.maxConnectionsPerIp > 0 && perIp >= o.maxConnectionsPerIp) {
      this.#refuse(
        transport,
        ErrorCode.SERVER_FULL,
        `too many connections from ${ip} (maxConnectionsPerIp ${o.maxConnectionsPerIp})`,
      );
      return undefined;
    }
    this.#hub.start();
    const session = new Session(this.#hub, transport, this.#nextId++, this.#sessionGone);
    this.#sessions.add(session);
    this.#perIp.set(ip, perIp + 1);
    return session;
  }

  /**
   * Closes gracefully (PROTOCOL.md §5.5): stops accepting, sends
   * `GoAway { SHUTTING_DOWN, drain_ms: closeTimeout }` to every active
   * connection (a fatal `SHUTTING_DOWN` to those still in their handshake),
   * keeps serving them (acks; Attach is refused with `SHUTTING_DOWN`) until
   * they close or `closeTimeout` passes, then sends the rest a fatal
   * `SHUTTING_DOWN` and closes them. Nodes leave with reason
   * `server_shutdown` (no wills), announced on the bus too; then the bus
   * link (the `bus` option) is closed. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) this.#closing = this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const o = this.options;
    if (this.#pool !== undefined) {
      this.#hub.beginShutdown();
      await this.#pool.close(o.closeTimeout);
      this.#hub.shutdown();
      await o.bus?.close();
      o.logger.info({ serverId: o.serverId }, "hb server closed");
      return;
    }
    this.#hub.beginShutdown();
    const listener = this.#listener;
    const listenerClosed = new Promise<void>((resolve) => {
      if (listener === undefined || !listener.listening) resolve();
      else listener.close(() => resolve());
    });
    for (const session of [...this.#sessions]) session.drain(o.closeTimeout);
    await this.#whenIdle(o.closeTimeout);
    // Drain deadline: a last fatal SHUTTING_DOWN, a moment for it to go out, then force.
    for (const session of [...this.#sessions]) session.expire();
    await this.#whenIdle(Math.min(o.closeTimeout, 250));
    for (const session of [...this.#sessions]) session.destroy();
    for (const socket of this.#sockets) socket.destroy();
    this.#hub.shutdown();
    await listenerClosed;
    if (o.bus !== undefined && this.#busStarted) {
      try {
        await o.bus.close();
      } catch (err) {
        o.logger.error({ err }, "closing the bus link failed");
      }
    }
    o.logger.info({ serverId: o.serverId }, "hb server closed");
  }

  // Resolves when no connection is left, or after `ms`.
  async #whenIdle(ms: number): Promise<void> {
    if (this.#sessions.size === 0 || ms <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#idle = undefined;
  }

  /**
   * The node `nodeId`, or `undefined` if it is not registered. O(1). With a
   * bus, nodes of the other servers too (marked by `serverId`).
   */
  get(nodeId: string): NodeInfo | undefined {
    const slot = this.#hub.registry.slotOf(nodeId);
    return slot < 0 ? this.#hub.remoteInfo(nodeId) : this.#hub.info(slot);
  }

  /**
   * Number of registered nodes matching `filter`. O(1) without a label
   * filter, O(matching label sets) with one; never scans local nodes. With a
   * bus, nodes of the other servers count too (O(1) without a label filter,
   * a scan of the remote directory with one).
   */
  count(filter: NodeFilter = {}): number {
    checkFilter(filter);
    return this.#hub.registry.count(filter) + this.#hub.remoteCount(filter);
  }

  /**
   * Snapshots of the nodes matching `filter`, at most `limit` (default
   * unlimited). Visits only matching nodes (label index and per-state lists),
   * but the result can be large: prefer {@link HeartbeatServer.count} or a
   * filter at a million nodes. With a bus, this server's nodes come first,
   * then those of the other servers (a scan of the remote directory).
   */
  list(filter: NodeFilter = {}, limit = Number.POSITIVE_INFINITY): NodeInfo[] {
    checkFilter(filter);
    const out = this.#hub.list(filter, limit);
    this.#hub.remoteList(filter, limit, out);
    return out;
  }

  /**
   * Health: `degraded` while the bus link (the `bus` option) is down or not
   * started; local traffic goes on meanwhile. Always `ok` without a bus.
   */
  health(): BusHealth {
    const bus = this.options.bus;
    return bus === undefined ? { state: "ok" } : bus.health();
  }

  /**
   * Current counters and gauges. O(1): never walks connections or nodes.
   * With `workerCount` > 1 the workers' last reports (sent every second)
   * are added up, and `workers` lists them.
   */
  stats(): ServerStats {
    const hub = this.#hub;
    const registry = hub.registry;
    const bus = this.options.bus;
    const pool = this.#pool;
    let snapshot = this.#stats.snapshot({
      connections: this.#sessions.size,
      sessions: hub.sessions,
      nodes: registry.size,
      online: registry.count({ state: "online" }),
      suspect: registry.count({ state: "suspect" }),
      labelSets: registry.labelSets,
      subscriptions: hub.router.subscriptions,
      channels: hub.router.channels,
    });
    // The workers hold the connections and nodes: their reports are added to the primary's own counters.
    if (pool !== undefined) snapshot = { ...sumWorkerStats(snapshot, pool.workerStats()), handedOff: pool.handedOff };
    if (bus !== undefined) snapshot.bus = { ...bus.stats(), kind: bus.kind, health: bus.health() };
    return snapshot;
  }

  /**
   * Publishes `payload` to `subject` as the server: every subscription
   * matching it gets `Delivery { kind: PUBLISH, subject, from_node_id: "" }`
   * (through its queue and overflow policy, like any message).
   *
   * @param subject - a concrete subject (no wildcards), not in `$hb.`
   * @param payload - bytes, or a string sent as UTF-8
   * With a bus, it is relayed to the other servers too (their subscribers
   * are not counted in the result).
   *
   * @returns the number of local subscriptions it was queued on (0: nobody subscribes here)
   * @throws `HbError` `INVALID_ARGUMENT` for an invalid subject, `FORBIDDEN` for a `$hb.` one
   */
  publish(subject: string, payload: Uint8Array | string): number {
    parseSubject(subject, false);
    if (isReservedSubject(subject)) {
      throw new HbError(ErrorCode.FORBIDDEN, `publishing to "$hb." subjects is not allowed (${subject})`);
    }
    return this.#hub.router.publishAs(subject, payloadBytes(payload), "");
  }

  /**
   * Sends `payload` to one node as the server: its connection gets
   * `Delivery { kind: DIRECT, from_node_id: "" }` (with `to_node_id` for an
   * attached node).
   *
   * With a bus, a node of another server is reached through it (`true`
   * once relayed, at most once).
   *
   * @returns `false` when the node is not online (or its connection is lost); counted in `stats().dropped.unknownNode`
   * @throws `HbError` `INVALID_ARGUMENT` for an invalid node id
   */
  send(nodeId: string, payload: Uint8Array | string): boolean {
    const problem = checkNodeId(nodeId);
    if (problem !== undefined) throw new HbError(ErrorCode.INVALID_ARGUMENT, problem);
    return this.#hub.router.sendAs(nodeId, payloadBytes(payload), "");
  }

  /**
   * Broadcasts `payload` as the server: every connected client gets
   * `Delivery { kind: BROADCAST, from_node_id: "" }` once (a gateway once,
   * not once per attached node). Not subject to `authorizeBroadcast`. With
   * a bus, the clients of the other servers too.
   *
   * @returns the number of local connections it was queued on
   */
  broadcast(payload: Uint8Array | string): number {
    return this.#hub.router.broadcastAs(payloadBytes(payload), "");
  }

  /**
   * The live subscriptions, with their queue settings and delivered /
   * dropped counters: those of the connection carrying node `nodeId` (its
   * own node or an attached one; subscriptions belong to connections), or of
   * every connection (O(subscriptions)).
   */
  subscriptions(nodeId?: string): SubscriptionInfo[] {
    return this.#hub.router.list(nodeId);
  }

  readonly #sessionGone = (session: Session): void => {
    if (!this.#sessions.delete(session)) return;
    const ip = session.remoteAddress;
    const n = (this.#perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.#perIp.delete(ip);
    else this.#perIp.set(ip, n);
    if (this.#sessions.size === 0) this.#idle?.();
  };

  // Refuses a connection before reading anything: fatal error, then close.
  #refuse(transport: SessionTransport, code: ErrorCode, message: string): void {
    const stats = this.#stats;
    stats.error(code);
    this.options.logger.warn({ code: errorCodeName(code), remoteAddress: transport.remoteAddress }, message);
    const bytes = encodeFrame(makeFrame("error", { code, message, fatal: true }));
    stats.framesOut++;
    stats.bytesOut += bytes.length;
    transport.write(bytes);
    transport.end();
  }

  #socketError(err: Error & { code?: string }): void {
    this.#stats.socketErrors++;
    this.options.logger.debug({ err: err.message, errno: err.code }, "socket error");
  }
}

const utf8 = new TextEncoder();

function payloadBytes(payload: Uint8Array | string): Uint8Array {
  if (payload instanceof Uint8Array) return payload;
  if (typeof payload === "string") return utf8.encode(payload);
  throw new TypeError("payload must be a Uint8Array or a string");
}

function checkFilter(filter: NodeFilter): void {
  if (filter.state !== undefined && filter.state !== "online" && filter.state !== "suspect") {
    throw new RangeError(`filter.state must be "online" or "suspect", got ${String(filter.state)}`);
  }
  if (filter.labels !== undefined && (typeof filter.labels !== "object" || filter.labels === null)) {
    throw new TypeError("filter.labels must be an object of label entries");
  }
}
