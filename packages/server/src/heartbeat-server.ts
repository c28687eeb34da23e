import cluster from "node:cluster";
import { EventEmitter } from "node:events";
import type { AddressInfo, Socket } from "node:net";
import type { TlsOptions } from "node:tls";
import { ErrorCode, HbError, nodeIdProblem, publishProblem } from "@hb/codec";
import type { BusHealth } from "./core/ports/bus-link.js";
import type { HeartbeatServerEvents } from "./core/ports/node-events.js";
import { ServerCounters, type ServerStats } from "./core/ports/server-stats.js";
import type { SessionTransport } from "./core/ports/session-transport.js";
import { ServerCore } from "./core/server-core.js";
import type { LiveServerOptions } from "./options/live-options.js";
import {
  type HeartbeatServerOptions,
  PROCESS_LOCAL_OPTIONS,
  type ResolvedServerOptions,
  SERVER_OPTION_DEFAULTS,
  resolveServerOptions,
} from "./options/server-options.js";
import type { NodeFilter, NodeInfo } from "./registry/node-info.js";
import type { SubscriptionInfo } from "./routing/subscription-info.js";
import { ConnectionGate } from "./session/connection-gate.js";
import type { Session } from "./session/session.js";
import { ThrottledLog } from "./session/throttled-log.js";
import { reusePortUnsupported } from "./transport/reuse-port.js";
import { TcpListener } from "./transport/tcp-listener.js";
import { TcpTransport } from "./transport/tcp-transport.js";
import type { HandoffSender, WorkerRole } from "./workers/worker-handoff.js";
import { PrimaryBusLink } from "./workers/primary-bus-link.js";
import { sumWorkerStats } from "./workers/sum-worker-stats.js";
import { WorkerPool } from "./workers/worker-pool.js";

/**
 * How long an admitted connection may stay silent before a socket waiting for its handshake slot takes it, ms.
 * Not 1 s: a real node's Hello can arrive seconds after its connect was accepted (for instance when its first segment
 * was dropped and retransmitted: 0.2, then 0.4, 0.8 s… on Linux), and bench:scale at 100,000 nodes on 6 workers closed
 * 43,376 real nodes as silent with 1 s; a silent flood still lets real nodes in within seconds.
 */
const IDLE_HELLO_MS = 3_000;
/** How long the oldest socket waiting for a handshake slot must have waited before a silent connection's slot is taken, ms. */
const PACED_WAIT_MS = 1_000;

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
 * gateway mode, rate limit, liveness (suspect after 1.5 × interval or by
 * the phi detector, timeout after heartbeatTimeout of silence counted in
 * listening time, detected by a timing wheel with tick
 * heartbeatCheckInterval; timeouts held while the server lags or a mass
 * silence is on), flap damping of presence, and channels: subscriptions with bounded queues
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
// Why one file of ~520 lines (a third TSDoc): the public server class wires
// the core, the listener, the worker pool or worker role, the bus and the
// close sequence, which share the lifecycle state (listening, closing, role);
// each of those parts is a file of its own.
export class HeartbeatServer extends EventEmitter<HeartbeatServerEvents> {
  readonly #stats = new ServerCounters();
  readonly #core: ServerCore;
  readonly #gate: ConnectionGate;
  readonly #listener: TcpListener;
  #closing: Promise<void> | undefined;
  #busStarted = false;
  readonly #pool: WorkerPool | undefined;
  #poolStarted = false;
  #role: WorkerRole | undefined;
  // One function for every socket's errors (no closure per connection).
  readonly #onSocketError = (err: Error & { code?: string }): void => this.#socketError(err);
  #acceptErrorLog: ThrottledLog | undefined;

  /**
   * @param options - see {@link HeartbeatServerOptions}
   * @throws TypeError / RangeError for invalid options (the message names the option and its range)
   */
  constructor(options: HeartbeatServerOptions = {}) {
    super();
    const resolved = resolveServerOptions(options);
    let opts: ResolvedServerOptions;
    if (resolved.workerCount > 1 || resolved.workerModule !== undefined) {
      for (const key of PROCESS_LOCAL_OPTIONS) {
        if (options[key] !== undefined) {
          throw new TypeError(
            `${key} cannot be given inline with worker processes (workerCount > 1 or workerModule): ` +
              "export it from the workerModule, or use workerCount 1",
          );
        }
      }
      this.#pool = new WorkerPool(resolved, options, () => this.#core.options);
      // With a bus, the primary joins it for the whole server and bridges it to the workers.
      opts = { ...resolved, bus: new PrimaryBusLink(this.#pool.hub, resolved.bus) };
    } else {
      opts = resolved;
      if (options.workerCount === undefined && SERVER_OPTION_DEFAULTS.workerCount > 1 && cluster.isPrimary) {
        const inline = PROCESS_LOCAL_OPTIONS.filter((key) => options[key] !== undefined);
        resolved.logger.info(
          { inline, cpus: SERVER_OPTION_DEFAULTS.workerCount },
          "one process: workerCount defaults to 1 with hooks given inline (a workerModule runs hooks in workers)",
        );
      }
    }
    this.#core = new ServerCore(opts, this, this.#stats);
    this.#gate = new ConnectionGate(this.#core.sessions);
    const core = this.#core;
    this.#listener = new TcpListener({
      host: opts.host,
      port: opts.port,
      tls: opts.tls,
      proxyProtocol: opts.proxyProtocol,
      handshakeTimeout: opts.handshakeTimeout,
      logger: opts.logger,
      stats: this.#stats,
      // A worker is told by the primary (the port is shared); one process only when asked and possible.
      reusePort: opts.reusePort === true && (!cluster.isPrimary || reusePortUnsupported() === undefined),
      // Admitted and not welcomed yet (closed ones leave both sets), and those whose admission the primary counts.
      handshaking: () => this.#gate.size + this.#gate.admitting - core.router.peers,
      maxHandshakes: () => this.options.maxHandshakes,
      // Sockets have waited a second for a slot: one held by a connection silent for 3 s (or half the handshake
      // timeout) and over 3 of the pacer's turns (so its Hello, if sent, had 3 I/O polls to be read, however late
      // the loop runs) goes to them: a real node's Hello follows its connect. A queue that moves (a burst of
      // real nodes, some of them slow to speak) closes nobody.
      makeRoom: (waitedMs) => {
        const idle = Math.min(IDLE_HELLO_MS, this.options.handshakeTimeout / 2);
        return waitedMs >= Math.min(PACED_WAIT_MS, idle) && core.sessions.hellos.evictIdle(idle, 3);
      },
      pumped: () => core.sessions.hellos.turn(),
      refuse: (socket, message) => this.#gate.refuse(new TcpTransport(socket, this.#onSocketError), ErrorCode.SERVER_FULL, message),
      onAcceptError: (err) => this.#acceptError(err),
      onSocketError: this.#onSocketError,
      onProxyHeaderError: (err, remoteAddress) => {
        this.#stats.socketErrors++;
        opts.logger.warn({ code: err.code, remoteAddress }, err.message);
      },
    });
  }

  /** The options in force (defaults applied; changed by {@link HeartbeatServer.reconfigure}). */
  get options(): ResolvedServerOptions {
    return this.#core.options;
  }

  /**
   * Changes the options that can change while the server runs
   * ({@link LiveServerOptions}: `maxConnections`, `maxConnectionsPerIp`,
   * `maxPendingHellos`, `maxPendingHelloBytes`, `rateLimit`, `auth`,
   * `permissions`), in every worker process too (the connection limits
   * are counted by the primary for the whole server; each worker takes its
   * share of the pending-Hello bounds), which also take the primary
   * logger's current `level`. The limits apply to connections accepted from then on;
   * connections already open keep their rate limit.
   *
   * @returns the options now in force
   * @throws TypeError / RangeError with the messages of the constructor's checks, or for an option that cannot change live; nothing changes then
   */
  reconfigure(changes: LiveServerOptions): ResolvedServerOptions {
    const next = this.#core.reconfigure(changes);
    this.#pool?.reconfigure(changes);
    return next;
  }

  /**
   * Starts listening on `host`:`port` (TLS when the `tls` option is set), with
   * a backlog of 4 096 (capped by the OS's somaxconn).
   *
   * @returns the bound address (useful with port 0)
   * @throws the listen error (e.g. `EADDRINUSE`); also if called twice or after close
   */
  async listen(): Promise<AddressInfo> {
    if (this.#listener.started) throw new Error("HeartbeatServer is already listening");
    if (this.#closing !== undefined) throw new Error("HeartbeatServer is closed");
    const o = this.options;
    this.#warnIfOpen();
    if (this.#pool !== undefined) return this.#listenWorkers(this.#pool);
    await this.#startBus();
    // A worker hands a resuming connection to its sibling.
    const role = this.#role;
    const handoff: HandoffSender | undefined = role === undefined ? undefined : (target, socket, bytes, ip) => role.handoff(target, socket, bytes, ip);
    if (o.reusePort === true && cluster.isPrimary && reusePortUnsupported() !== undefined) {
      o.logger.warn({ why: reusePortUnsupported() }, "reusePort is not available here: listening without it");
    }
    const address = await this.#listener.listen((socket, give, remoteAddress) => void this.#serve(socket, give, remoteAddress), handoff);
    this.#core.start();
    o.logger.info({ address: address.address, port: address.port, serverId: o.serverId, bus: o.bus?.kind }, "hb server listening");
    return address;
  }

  // Joins the bus before accepting: the remote directory is loaded when this resolves.
  async #startBus(): Promise<void> {
    const o = this.options;
    if (o.bus === undefined || this.#busStarted) return;
    this.#busStarted = true;
    await o.bus.start(o.serverId, this.#core.busHandlers);
    this.#core.remote.started();
  }

  // workerCount > 1: the primary forks the workers (they listen), and joins their bus through the hub.
  async #listenWorkers(pool: WorkerPool): Promise<AddressInfo> {
    if (this.#poolStarted) throw new Error("HeartbeatServer is already listening");
    this.#poolStarted = true;
    const o = this.options;
    await this.#startBus();
    const address = await pool.start();
    o.logger.info({ port: address.port, workers: o.workerCount, accept: pool.mode, serverId: o.serverId }, "hb server workers listening");
    return address;
  }

  /**
   * Replaces the TLS certificate and key (and CA, for client certificates)
   * without a restart: connections accepted from now on use them, open ones
   * keep theirs. Pass the same kind of options as `tls` (PEM buffers or
   * strings: `cert`, `key`, `ca`, `passphrase`, …). With worker processes
   * every worker reloads (resolves once each has).
   *
   * @throws Error when the server does not speak TLS or is not listening; a bad certificate or
   *   key throws (in one process) or rejects (from a worker) and nothing changes where it failed
   */
  async reloadTls(tls: TlsOptions): Promise<void> {
    if (this.options.tls === undefined) throw new Error("this server does not speak TLS (no tls option)");
    if (this.#pool !== undefined) {
      await this.#pool.reloadTls(tls);
    } else {
      if (!this.#listener.started) throw new Error("HeartbeatServer is not listening");
      this.#listener.reloadTls(tls);
    }
    this.options.logger.info({ serverId: this.options.serverId }, "TLS certificates reloaded");
  }

  /** The bound address, or `undefined` when not listening (with `workerCount` > 1: the workers' shared one). */
  address(): AddressInfo | undefined {
    if (this.#pool !== undefined) return this.#pool.address();
    return this.#listener.address();
  }

  /**
   * @internal Makes this server a worker of a multi-process server (called
   * by the worker entry before {@link HeartbeatServer.listen}): resume
   * tokens carry the worker id, and a Hello resuming another worker's
   * session is handed to it through `role`.
   */
  setWorkerRole(role: WorkerRole): void {
    this.#role = role;
    this.#core.registrations.setWorker(role.workerId, role.epoch);
    this.#gate.setQuota(role.quota);
  }

  /**
   * @internal A worker could not pass a resuming connection on (its
   * channel to the primary failed): fatal `SERVER_FULL` with
   * `retry_after_ms`, counted in `handoffRefused` and `errors`.
   */
  refuseHandoff(socket: Socket, why: string): void {
    this.#stats.handoffRefused++;
    this.#gate.refuse(new TcpTransport(socket, this.#onSocketError), ErrorCode.SERVER_FULL, `server busy: ${why}`);
  }

  /**
   * @internal Takes over a connection handed from another worker: `bytes`
   * (read there, the Hello among them) are fed first. It is not handed on
   * again: an unknown token yields a fresh session here.
   */
  adopt(socket: Socket, bytes: Uint8Array, remoteAddress: string): void {
    if (!this.#listener.started || this.#closing !== undefined) {
      this.#role?.quota.release(remoteAddress);
      socket.destroy();
      return;
    }
    this.#listener.adopt(socket);
    this.#serve(socket, undefined, remoteAddress, bytes, true);
  }

  // Runs a session on a connected socket (handed off when `handoff` is given): once admitted, the
  // transport is bound and `early` (bytes read by another worker) fed first. `remoteAddress`: the
  // client's, when a PROXY header gave it (the `proxyProtocol` option) or the connection was handed over.
  // In a worker the admission waits for the primary's count (the socket is not read meanwhile).
  #serve(socket: Socket, handoff: HandoffSender | undefined, remoteAddress?: string, early?: Uint8Array, leased = false): void {
    const transport = new TcpTransport(socket, this.#onSocketError, handoff, remoteAddress);
    const bind = (session: Session | undefined): void => {
      if (session === undefined) return;
      this.#core.start();
      transport.bind(session);
      if (early !== undefined) session.receive(early);
    };
    const admitted = this.#gate.admit(transport, leased);
    if (admitted instanceof Promise) admitted.then(bind, (err: unknown) => this.#socketError(err as Error));
    else bind(admitted);
  }

  /**
   * Accepts a connection from any transport. The TCP listener calls it for
   * each socket; tests and other transports may call it directly. Applies
   * `maxConnections` and `maxConnectionsPerIp`: over a limit, the transport
   * gets a fatal `SERVER_FULL` and is ended, and `undefined` is returned.
   *
   * The transport must then feed `Session.receive` and call
   * `Session.transportClosed` once closed.
   *
   * @internal Transports plug in here (see `@hb/server/internal`).
   */
  accept(transport: SessionTransport): Session | undefined {
    const session = this.#gate.accept(transport);
    if (session !== undefined) this.#core.start();
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
    const core = this.#core;
    this.#gate.close();
    core.registrations.beginShutdown();
    if (this.#pool !== undefined) {
      await this.#pool.close(o.closeTimeout);
      core.shutdown();
      await o.bus?.close();
      o.logger.info({ serverId: o.serverId }, "hb server closed");
      return;
    }
    const gate = this.#gate;
    const listenerClosed = this.#listener.close();
    gate.drain(o.closeTimeout);
    await gate.whenIdle(o.closeTimeout);
    // Drain deadline: a last fatal SHUTTING_DOWN, a moment for it to go out, then force.
    gate.expire();
    await gate.whenIdle(Math.min(o.closeTimeout, 250));
    gate.destroyAll();
    this.#listener.destroyAll();
    core.shutdown();
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

  /**
   * The node `nodeId`, or `undefined` if it is not registered. O(1). With a
   * bus, nodes of the other servers too (marked by `serverId`).
   */
  get(nodeId: string): NodeInfo | undefined {
    return this.#core.get(nodeId);
  }

  /**
   * Number of registered nodes matching `filter`. O(1) without a label
   * filter, O(matching label sets) with one; never scans local nodes. With a
   * bus, nodes of the other servers count too (O(1) without a label filter,
   * a scan of the remote directory with one).
   */
  count(filter: NodeFilter = {}): number {
    checkFilter(filter);
    return this.#core.count(filter) + this.#core.remote.count(filter);
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
    const out = this.#core.nodes.list(filter, limit);
    this.#core.remote.list(filter, limit, out);
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
    const core = this.#core;
    const bus = this.options.bus;
    const pool = this.#pool;
    let snapshot = this.#stats.snapshot({
      connections: this.#gate.size,
      sessions: core.registrations.sessions,
      nodes: core.size,
      observers: core.registrations.observers,
      online: core.count({ state: "online" }),
      suspect: core.count({ state: "suspect" }),
      labelSets: core.labelSets,
      subscriptions: core.router.subscriptions,
      channels: core.router.channels,
      liveness: core.livenessStats(),
      flapping: core.flappingStats(),
    });
    snapshot.acceptWaiting = this.#listener.waiting;
    // The workers hold the connections and nodes: their reports are added to the primary's own counters.
    if (pool !== undefined) {
      snapshot = sumWorkerStats(snapshot, pool.workerStats());
      snapshot.handedOff = pool.handedOff;
      snapshot.handoffRefused += pool.handoffRefused;
    }
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
    const problem = publishProblem(subject);
    if (problem !== undefined) throw new HbError(problem.code, problem.message);
    return this.#core.router.publishAs(subject, payloadBytes(payload), "");
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
    const problem = nodeIdProblem(nodeId);
    if (problem !== undefined) throw new HbError(ErrorCode.INVALID_ARGUMENT, problem);
    return this.#core.router.sendAs(nodeId, payloadBytes(payload), "");
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
    return this.#core.router.broadcastAs(payloadBytes(payload), "");
  }

  /**
   * The live subscriptions, with their queue settings and delivered /
   * dropped counters: those of the connection carrying node `nodeId` (its
   * own node or an attached one; subscriptions belong to connections), or of
   * every connection (O(subscriptions)).
   */
  subscriptions(nodeId?: string): SubscriptionInfo[] {
    return this.#core.router.list(nodeId);
  }

  // An accept failed (EMFILE: the process's file limit): counted, logged at most once a second.
  #acceptError(err: Error & { code?: string }): void {
    this.#stats.acceptErrors++;
    this.#acceptErrorLog ??= new ThrottledLog(this.#core.sessions.clock);
    this.#acceptErrorLog.warn(this.options.logger, { err: err.message, errno: err.code, acceptErrors: this.#stats.acceptErrors }, "accept failed");
  }

  // No authentication on an address other than loopback: say so loudly (once, in the process that was asked to listen).
  #warnIfOpen(): void {
    const o = this.options;
    if (this.#role !== undefined || o.auth.mode !== "none" || o.authenticate !== undefined || o.workerModule !== undefined) return;
    if (o.auth.certificateNodeId !== undefined) return;
    if (o.host !== undefined && isLoopback(o.host)) return;
    o.logger.warn(
      { host: o.host ?? "(every interface)", auth: "none" },
      "NO AUTHENTICATION: any client that reaches this port can register any node id and use the bus. " +
        'Set the auth option (mode "tokens" or "jwt"), an authenticate hook, or listen on loopback only.',
    );
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

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function checkFilter(filter: NodeFilter): void {
  if (filter.state !== undefined && filter.state !== "online" && filter.state !== "suspect") {
    throw new RangeError(`filter.state must be "online" or "suspect", got ${String(filter.state)}`);
  }
  if (filter.labels !== undefined && (typeof filter.labels !== "object" || filter.labels === null)) {
    throw new TypeError("filter.labels must be an object of label entries");
  }
}
