import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { TlsOptions } from "node:tls";
import type { Hello } from "@hb/codec";
import type { BusLink } from "../core/ports/bus-link.js";
import { checkKnownKeys, functionOption } from "./option-checks.js";
import { NUMBER_OPTIONS, OTHER_OPTIONS, type ResolvedNumbers, resolveNumber } from "./server-option-table.js";
import { resolveWorkerModule } from "./worker-module-option.js";
import type { Logger } from "../core/ports/logger.js";
import type { NodeInfo } from "../registry/node-info.js";
import { SILENT_LOGGER } from "./silent-logger.js";
import type { AuthOptions, MessageRateOptions, PermissionGrant, PermissionRule } from "./auth-options.js";
import {
  type ResolvedAuthOptions,
  type ResolvedMessageRate,
  resolveAuthOptions,
  resolveMessageRate,
  resolvePermissionRules,
} from "./auth-option-checks.js";

/** Per-connection frame rate limit (a token bucket on incoming frames). */
export interface RateLimitOptions {
  /** Tokens added per second. Default 2 000; 1 .. 1 000 000 000. */
  framesPerSecond?: number;
  /** Bucket size: frames accepted at once after a quiet period. Default 4 000; 1 .. 1 000 000 000. */
  burst?: number;
}

/** What the {@link AuthenticateHook} learns about the connection besides its Hello. */
export interface AuthenticateContext {
  /** Remote IP address of the connection. */
  remoteAddress: string;
  /**
   * Whether this is a renewal (a `Renew` on a live connection, PROTOCOL.md
   * §5.8): the Hello is then the connection's (its node id is the
   * registered one) with the new token.
   */
  renewal: boolean;
}

/**
 * What an {@link AuthenticateHook} may return instead of `true`: the
 * credential is accepted, with an expiry, bindings or permissions.
 */
export interface AuthenticateDecision {
  /** When the credential expires, ms since the Unix epoch (`Welcome.token_expires_in_ms`). */
  expiresAt?: number;
  /** Or: how long it stays valid from now, ms. */
  expiresIn?: number;
  /** Binds the node id: a Hello asking for another one is refused (`UNAUTHORIZED`). */
  nodeId?: string;
  /** Binds labels: added to the node's; a Hello giving another value for one is refused. */
  labels?: Record<string, string>;
  /** The connection's permissions (instead of the `permissions` rules). */
  permissions?: PermissionGrant;
}

/**
 * Decides whether a Hello may register (and, on a renewal, whether a new
 * token may replace the connection's, see {@link AuthenticateContext.renewal}).
 * `true` or an {@link AuthenticateDecision} (or a promise of one) accepts;
 * anything else refuses the connection with `UNAUTHORIZED`, and so does a
 * throw or a rejected promise; a decision already expired is
 * `TOKEN_EXPIRED`. Runs within `handshakeTimeout`, after the `auth` mode
 * accepted.
 */
export type AuthenticateHook = (hello: Hello, context: AuthenticateContext) => boolean | AuthenticateDecision | Promise<boolean | AuthenticateDecision>;

/**
 * Decides whether `node` may subscribe to `subject` (a subject, a pattern
 * with `*` / `>`, or `$hb.presence`). Synchronous: it runs inside frame
 * handling. Anything but `true` refuses the Subscribe with non-fatal
 * `FORBIDDEN` (`ref` = its request id); so does a throw (logged, counted in
 * `stats().listenerErrors`).
 */
export type AuthorizeSubscribeHook = (node: NodeInfo, subject: string) => boolean;

/**
 * Decides whether `node` may publish to the concrete `subject` (Publish
 * frames, requests to a subject, and the node's will when it is published).
 * Synchronous, called once per message: keep it cheap. Anything but `true`
 * (or a throw) refuses with non-fatal `FORBIDDEN` (`ref` = the request id);
 * a refused will is not published.
 */
export type AuthorizePublishHook = (node: NodeInfo, subject: string) => boolean;

/**
 * Decides whether `node` may send to the node `targetNodeId` (Send frames,
 * requests to a node included). Synchronous, called once per message: keep
 * it cheap. Anything but `true` (or a throw) refuses with non-fatal
 * `FORBIDDEN` (`ref` = the request id, `node_id` = the target).
 */
export type AuthorizeSendHook = (node: NodeInfo, targetNodeId: string) => boolean;

/**
 * Decides whether `node` may broadcast to every connection. Synchronous.
 * Without this hook every Broadcast from a node is refused with non-fatal
 * `FORBIDDEN`; {@link index!HeartbeatServer.broadcast} is never subject to it.
 */
export type AuthorizeBroadcastHook = (node: NodeInfo) => boolean;

/**
 * Options of {@link HeartbeatServer}. All durations are in milliseconds.
 * Every option is checked at construction: a value of the wrong type throws a
 * `TypeError`, one outside its range a `RangeError`, both naming the option
 * and its allowed range. Unknown option names throw a `TypeError`.
 */
// Why one file of ~700 lines: it is the public option type, whose TSDoc (about
// 260 lines) is what TypeDoc and editors show; the values, ranges and defaults
// are declared once in server-option-table.ts, the checks in their own files.
export interface HeartbeatServerOptions {
  /** Interface to listen on. Default: Node's default (every interface). */
  host?: string;
  /** TCP port; 0 picks a free one (see {@link HeartbeatServer.listen}). Default 0; 0 .. 65 535. */
  port?: number;
  /**
   * Number of worker processes; 1 .. 1 024. Default: the number of CPUs
   * (`os.availableParallelism()`), except 1 when the server is created
   * inside a cluster worker, or when `authenticate` or an `authorize*` hook
   * is given inline (functions live in this process; the server logs that
   * it stays in one process, and `workerModule` lifts the limit).
   *
   * With N > 1 (or a `workerModule`), `listen()` in the calling process
   * (which must be the cluster primary) forks N `node:cluster` workers
   * (serialization `advanced`) that each run a `HeartbeatServer` joined to
   * an IPC bus (`IpcBusLink` / `IpcBusHub`) and listen on the shared
   * `host`:`port`: on Linux each worker with a listening socket of its own
   * (`SO_REUSEPORT`, see `reusePort`), elsewhere through `node:cluster`'s
   * round-robin (port 0: the primary picks one port for all). The primary
   * accepts no connections itself; it answers `count()` / `get()` / `list()` from
   * the hub's directory, emits the node events (all `remote: true`,
   * `serverId` = the worker's member id `w<id>`; a crashed worker's nodes
   * time out with reason `server_lost`), and publishes / sends / broadcasts
   * through the hub. Crashed workers are restarted with backoff (100 ms
   * doubling to 10 s, reset after 30 s up, given up after 10 crashes in
   * 60 s). `close()` closes every worker gracefully (bounded by
   * `closeTimeout` + 2 s, then SIGKILL).
   *
   * Only serialisable options reach the workers. Hooks reach them through
   * `workerModule`; given inline together with N > 1 they throw a
   * `TypeError`. A `bus` stays in the primary, which joins it as this
   * server (`serverId`) and bridges it to the workers: the other servers
   * see one member, never the workers. The
   * workers' log records are forwarded to the primary's `logger` (tagged
   * `memberId`, `workerPid`) unless the `workerModule` gives them a logger.
   * `maxConnections` and `maxConnectionsPerIp` hold for the whole server:
   * the primary counts every worker's connections (a worker leases a slot
   * over IPC for each connection it accepts, one round trip per accept);
   * `maxHandshakes` is shared out (each worker takes ceil(limit / N)). A resume works whichever
   * worker the reconnect reaches: resume tokens carry the worker id, and
   * the connection is handed to the worker holding the session (plain TCP;
   * with `tls` such a reconnect gets a fresh session).
   */
  workerCount?: number;
  /**
   * A module that every worker process imports for the options that cannot
   * be sent to it: `authenticate`, the `authorize*` hooks and a `logger`.
   * Its default export is a {@link WorkerSetup} or a function of the
   * {@link WorkerContext} returning one (see {@link WorkerModuleExport}).
   * An absolute path or a `file:` URL, e.g.
   * `new URL("./hooks.js", import.meta.url)`; it must be JavaScript the
   * worker's Node can import. With a `workerModule` the server always runs
   * in worker processes, even with `workerCount` 1, so the same hooks apply
   * whatever the count. A worker that cannot load it fails `listen()` with
   * the module's error. Default: none.
   */
  workerModule?: string | URL;
  /** Heartbeat interval advertised when a Hello asks for 0. Default 10 000; 50 .. 3 600 000. */
  heartbeatInterval?: number;
  /** Smallest interval a client may negotiate. Default min(100, heartbeatInterval); 10 .. heartbeatInterval. */
  minHeartbeatInterval?: number;
  /** Silence after which a node is timed out. Default 30 000; > 2 × minHeartbeatInterval, ≤ 86 400 000. */
  heartbeatTimeout?: number;
  /**
   * Tick of the liveness timing wheel: detection is late by at most this much.
   * Default min(1 000, heartbeatTimeout); 10 .. heartbeatTimeout.
   */
  heartbeatCheckInterval?: number;
  /**
   * Which failure detector makes a node `SUSPECT heartbeat_missed`
   * (docs/PROTOCOL.md §6.3): `"fixed"` after 1.5 × its interval of silence,
   * or `"phi"`, a phi-accrual detector on each node's heartbeat gaps
   * (`phiThreshold`, `acceptablePause`, `minStdDev`), never before one
   * interval. `TIMED_OUT` is always `heartbeatTimeout` of silence. Default `"fixed"`.
   */
  failureDetector?: "fixed" | "phi";
  /** φ at which the phi detector suspects a node (Akka: 8). Default 8; 1 .. 64. */
  phiThreshold?: number;
  /** Phi detector: silence added to a node's mean heartbeat gap, a pause tolerated. Default 1 000; 0 .. 3 600 000. */
  acceptablePause?: number;
  /** Phi detector: smallest standard deviation of a node's heartbeat gaps. Default 100; 1 .. 60 000. */
  minStdDev?: number;
  /**
   * Event-loop lag at or above which the server's own health is degraded:
   * it emits `loopLag` and logs a warning (at most once a second), and holds
   * timeout verdicts (`SUSPECT server_lagging`, docs/PROTOCOL.md §6.3). The
   * lag is the p99 of the last one-second window of
   * `perf_hooks.monitorEventLoopDelay`, or how late the liveness check runs.
   * Default 500; 0 or 10 .. 600 000 (0: never).
   */
  loopLagThreshold?: number;
  /**
   * Mass-departure brake: when the nodes that are silent (suspect) or timed
   * out within the last `heartbeatTimeout` are more than this percentage of
   * this server's nodes (of each worker's, with worker processes) and at
   * least `massSilenceMinNodes`, timeouts are held (`SUSPECT mass_silence`,
   * no will) until the fleet is heard from again or `maxHeldVerdict` passes.
   * Default 50; 0 or 1 .. 100 (0: no brake).
   */
  massSilencePercent?: number;
  /** Fewest silent nodes that make a mass silence. Default 10; 1 .. 10 000 000. */
  massSilenceMinNodes?: number;
  /**
   * Longest a timeout verdict is held after the node reached its timeout;
   * then it times out even if the hold goes on. Default 2 × heartbeatTimeout;
   * heartbeatTimeout .. 172 800 000.
   */
  maxHeldVerdict?: number;
  /**
   * Flap damping (docs/PROTOCOL.md §7.6): every presence transition of a
   * node id adds 1 to its penalty, which halves every `flapHalfLife`; at
   * this penalty the node is damped for presence subscribers (not
   * `undamped` ones): `SUSPECT flapping`, then nothing until the penalty
   * falls below `flapReuseThreshold` (or `flapMaxDamping` passes), then one
   * `flap_ended` event. Default 8; 0 or 2 .. 1 000 (0: no damping).
   */
  flapSuppressThreshold?: number;
  /** Flap damping ends when the penalty falls below this. Default flapSuppressThreshold / 2; 1 .. flapSuppressThreshold − 1. */
  flapReuseThreshold?: number;
  /** Half-life of a node id's flap penalty. Default 30 000; 100 .. 86 400 000. */
  flapHalfLife?: number;
  /** Longest a node stays damped. Default 300 000; 100 .. 86 400 000. */
  flapMaxDamping?: number;
  /** Time allowed from connect until the handshake (Hello, auth hook) completes. Default 10 000; 100 .. 600 000. */
  handshakeTimeout?: number;
  /** How long a lost session stays resumable. 0: never (nodes leave at once). Default 0; 0 .. 3 600 000. */
  resumeGrace?: number;
  /**
   * Default outgoing queue limit of a subscription, in messages, used when
   * `Subscribe.queue_size` is 0; also the limit of each connection's
   * channel-0 data queue (direct messages, broadcasts, replies; drop-oldest).
   * Default 1 000; 1 .. 10 000 000.
   */
  channelMaxQueueSize?: number;
  /**
   * Largest queue limit a Subscribe may ask for (`queue_size` is clamped to
   * it). Default max(100 000, channelMaxQueueSize); channelMaxQueueSize .. 10 000 000.
   */
  maxSubscriptionQueueSize?: number;
  /** Most live subscriptions per connection; one more is refused with non-fatal `SERVER_FULL`. Default 10 000; 1 .. 10 000 000. */
  maxSubscriptionsPerConnection?: number;
  /**
   * Largest frame reassembled from fragments, in bytes, in either direction
   * (`Welcome.max_message_size`, PROTOCOL.md §11). 0: no fragments on any
   * connection (a Fragment is fatal `MESSAGE_TOO_LARGE`; outgoing frames
   * too large for a client are dropped and counted). Default 64 MiB;
   * 0 or 1 024 .. 1 GiB.
   */
  maxMessageSize?: number;
  /**
   * Flow-control window in payload bytes (`Welcome.initial_window`,
   * PROTOCOL.md §12): what a client may send (Publish, Send, Broadcast,
   * Reply payloads and Fragment data) before the server credits it back
   * with WindowUpdate. More is fatal `FLOW_CONTROL`. 0: no flow control.
   * Default 8 MiB; 0 or 1 024 .. 2^40. With `maxMessageSize` 0 it must be
   * at least `maxFrameSize` (a payload larger than the window can only
   * travel as fragments).
   */
  publishWindow?: number;
  /**
   * Maximum nodes one connection may attach (gateway mode, PROTOCOL.md §9);
   * one more is refused with a non-fatal `SERVER_FULL` (`ref` = its handle).
   * Default 100 000; 1 .. 10 000 000.
   */
  maxAttachedPerConnection?: number;
  /**
   * Maximum open connections; more are refused with `SERVER_FULL`. Default
   * 1 000 000; 1 .. 10 000 000. Changes live (`HeartbeatServer.reconfigure`).
   */
  maxConnections?: number;
  /**
   * Maximum open connections per remote IP address; 0 turns the limit off.
   * Default 0; 0 .. 10 000 000. Changes live (`HeartbeatServer.reconfigure`).
   */
  maxConnectionsPerIp?: number;
  /**
   * Maximum connections that have not sent their Hello yet (a handshake
   * flood, slowloris). One more closes the oldest of them with a fatal
   * `SERVER_FULL` to make room: a real node, whose Hello follows its
   * connect, gets in while a flood holds idle sockets. Counted in
   * `stats().awaitingHello` and `stats().helloEvictions`. Default 10 000;
   * 1 .. 10 000 000. With worker processes each takes its share.
   * Changes live (`HeartbeatServer.reconfigure`).
   */
  maxPendingHellos?: number;
  /**
   * Maximum bytes that connections without a Hello may hold in all (their
   * partial Hellos, as allocated by the frame decoder); over it the oldest
   * are closed with a fatal `SERVER_FULL` until it fits. Default 64 MiB;
   * 1 MiB .. 64 GiB. With worker processes each takes its share (at least
   * 1 MiB). Changes live (`HeartbeatServer.reconfigure`).
   */
  maxPendingHelloBytes?: number;
  /** Largest incoming frame, in bytes (length prefix excluded). Default 1 MiB; 1 024 .. 64 MiB. */
  maxFrameSize?: number;
  /**
   * Per-connection frame rate limit; an empty bucket closes the connection
   * with `RATE_LIMITED`. Changes live (`HeartbeatServer.reconfigure`) for
   * connections opened from then on.
   */
  rateLimit?: RateLimitOptions;
  /**
   * How long {@link HeartbeatServer.close} waits for clients to leave before
   * destroying them (`GoAway.drain_ms`). Each connection's GoAway carries its
   * own `reconnect_delay_ms`, uniform over the drain less a margin (10 %, at
   * least min(1 s, half of it)), so that the fleet leaves spread over the
   * drain instead of in one burst. Default 5 000; 0 .. 600 000.
   */
  closeTimeout?: number;
  /**
   * Accept pacing: most connections in their handshake (accepted, Welcome
   * not sent yet) at once. More wait, unread, in arrival order, and are
   * admitted as handshakes complete; their handshake timeout starts then. A
   * connection that waited `handshakeTimeout` is refused with `SERVER_FULL`.
   * Shared out over worker processes. Default 2 000; 1 .. 1 000 000.
   */
  maxHandshakes?: number;
  /**
   * `retry_after_ms` of fatal `SERVER_FULL`, `RATE_LIMITED` and
   * `SHUTTING_DOWN` refusals (PROTOCOL.md §6.6): each refusal says this ×
   * uniform(0.5, 1.5), so that refused clients do not come back together.
   * 0: not said (clients back off on their own). Default 2 000; 0 or 100 .. 600 000.
   */
  retryAfter?: number;
  /**
   * Listen with `SO_REUSEPORT` (Linux, Node.js ≥ 22.12). Unset (the
   * default): worker processes (`workerCount` > 1) each listen on the port
   * with a socket of their own and the kernel spreads new connections over
   * them (no process in the accept path); the port must be free (else
   * `EADDRINUSE`, as without it). `true`: the same, and the port may be
   * shared with other servers of the same user, e.g. the next version
   * started before this one is closed (a rolling restart on one host); a
   * single process listens with it too. `false`: never; workers share the
   * port through `node:cluster`'s round-robin, in which the primary accepts
   * every connection and passes it on (a bottleneck under connection
   * bursts, see docs/PERFORMANCE.md). Where the platform lacks it the
   * server falls back to round-robin and logs so.
   */
  reusePort?: boolean;
  /** Authentication hook, called once per Hello. Default: every Hello is accepted. */
  authenticate?: AuthenticateHook;
  /** Subscribe authorization hook. Default: every valid Subscribe is allowed. */
  authorizeSubscribe?: AuthorizeSubscribeHook;
  /** Publish authorization hook. Default: every valid Publish is allowed. */
  authorizePublish?: AuthorizePublishHook;
  /** Broadcast authorization hook. Default: broadcasts from nodes are refused (`FORBIDDEN`). */
  authorizeBroadcast?: AuthorizeBroadcastHook;
  /** Send authorization hook. Default: every valid Send is allowed. */
  authorizeSend?: AuthorizeSendHook;
  /**
   * Authentication without code: `{ mode: "none" | "tokens" | "jwt", … }`
   * (see {@link AuthOptions}); serialisable, so it reaches every worker
   * process. Default `{ mode: "none" }`: every Hello is accepted, and
   * `listen()` warns unless the server listens on loopback only. The
   * `authenticate` hook, if given too, runs after the mode accepted.
   * Changes live (`reconfigure`) for handshakes and renewals from then on.
   */
  auth?: AuthOptions;
  /**
   * Permission rules (see {@link PermissionRule}): the first rule whose
   * `match` holds for a node gives its permissions (publish / subscribe
   * subject patterns, send / attach node ids, broadcast, presence); a node
   * no rule matches may do none of these; a credential carrying
   * permissions (token entry, JWT claim, hook decision) replaces the rules.
   * Sent in `Welcome.permissions`; refusals are non-fatal `FORBIDDEN`,
   * counted in `stats().forbidden`. Default: no rules (everything allowed
   * but broadcast, subject to the `authorize*` hooks). Changes live
   * (`reconfigure`) for connections welcomed or renewed from then on.
   */
  permissions?: PermissionRule[];
  /**
   * Per-node message limits (token buckets on Publish, Send, Broadcast and
   * Reply; see {@link MessageRateOptions}): over a limit a message is
   * refused with non-fatal `RATE_LIMITED`. Default: none.
   */
  messageRate?: MessageRateOptions;
  /**
   * When set, the server speaks TLS (`tls.createServer`) with these
   * options; `requestCert` with a `ca` asks clients for certificates
   * (mTLS; with `rejectUnauthorized`, the default, a client without a valid
   * one is refused in the TLS handshake). Certificates and keys are replaced
   * without a restart by {@link HeartbeatServer.reloadTls}.
   */
  tls?: TlsOptions;
  /**
   * Expect a PROXY protocol header (v1 or v2, HAProxy's spec) at the start
   * of every connection, as a TCP load balancer sends it (HAProxy
   * `send-proxy`, nginx `proxy_protocol on`, AWS NLB): the client's address
   * from it is the connection's `remoteAddress` (for `maxConnectionsPerIp`,
   * `authenticate`, `NodeInfo`). A connection without a valid header within
   * `handshakeTimeout` is closed (counted in `stats().socketErrors`, logged
   * with code `PROXY_PROTOCOL`): only turn it on when every connection comes
   * through such a balancer. Not with `tls` (terminate TLS at the balancer).
   * Default `false`.
   */
  proxyProtocol?: boolean;
  /**
   * A pino-compatible logger (pino itself is not a dependency: pass one in).
   * Default: a silent logger, which drops every record (its `level` is
   * `"silent"`, so worker processes forward nothing either).
   */
  logger?: Logger;
  /** Identifier sent in Welcome and events, for diagnostics. Default `<hostname>:<pid>:<random>`; 1 .. 128 characters. */
  serverId?: string;
  /**
   * Joins a bus with other servers (e.g. a `RedisBus`, or a
   * `MemoryBus` link in one process): messages, presence and the node
   * directory are shared, so nodes on different servers reach each other.
   * `listen()` starts the link as member `serverId` (which must then be
   * unique on the bus), `close()` closes it. With worker processes the
   * primary holds the link for the whole server (see `workerCount`).
   * Default: none (a standalone server).
   */
  bus?: BusLink;
}

/** {@link HeartbeatServerOptions} after defaults are applied and every value is checked. */
export interface ResolvedServerOptions {
  /** See {@link HeartbeatServerOptions.host}. */
  readonly host: string | undefined;
  /** See {@link HeartbeatServerOptions.port}. */
  readonly port: number;
  /** See {@link HeartbeatServerOptions.workerCount}. */
  readonly workerCount: number;
  /** See {@link HeartbeatServerOptions.workerModule}: a `file:` URL. */
  readonly workerModule: string | undefined;
  /** See {@link HeartbeatServerOptions.heartbeatInterval}. */
  readonly heartbeatInterval: number;
  /** See {@link HeartbeatServerOptions.minHeartbeatInterval}. */
  readonly minHeartbeatInterval: number;
  /** See {@link HeartbeatServerOptions.heartbeatTimeout}. */
  readonly heartbeatTimeout: number;
  /** See {@link HeartbeatServerOptions.heartbeatCheckInterval}. */
  readonly heartbeatCheckInterval: number;
  /** See {@link HeartbeatServerOptions.failureDetector}. */
  readonly failureDetector: "fixed" | "phi";
  /** See {@link HeartbeatServerOptions.phiThreshold}. */
  readonly phiThreshold: number;
  /** See {@link HeartbeatServerOptions.acceptablePause}. */
  readonly acceptablePause: number;
  /** See {@link HeartbeatServerOptions.minStdDev}. */
  readonly minStdDev: number;
  /** See {@link HeartbeatServerOptions.loopLagThreshold}. */
  readonly loopLagThreshold: number;
  /** See {@link HeartbeatServerOptions.massSilencePercent}. */
  readonly massSilencePercent: number;
  /** See {@link HeartbeatServerOptions.massSilenceMinNodes}. */
  readonly massSilenceMinNodes: number;
  /** See {@link HeartbeatServerOptions.maxHeldVerdict}. */
  readonly maxHeldVerdict: number;
  /** See {@link HeartbeatServerOptions.flapSuppressThreshold}. */
  readonly flapSuppressThreshold: number;
  /** See {@link HeartbeatServerOptions.flapReuseThreshold}. */
  readonly flapReuseThreshold: number;
  /** See {@link HeartbeatServerOptions.flapHalfLife}. */
  readonly flapHalfLife: number;
  /** See {@link HeartbeatServerOptions.flapMaxDamping}. */
  readonly flapMaxDamping: number;
  /** See {@link HeartbeatServerOptions.handshakeTimeout}. */
  readonly handshakeTimeout: number;
  /** See {@link HeartbeatServerOptions.resumeGrace}. */
  readonly resumeGrace: number;
  /** See {@link HeartbeatServerOptions.channelMaxQueueSize}. */
  readonly channelMaxQueueSize: number;
  /** See {@link HeartbeatServerOptions.maxSubscriptionQueueSize}. */
  readonly maxSubscriptionQueueSize: number;
  /** See {@link HeartbeatServerOptions.maxSubscriptionsPerConnection}. */
  readonly maxSubscriptionsPerConnection: number;
  /** See {@link HeartbeatServerOptions.maxMessageSize}. */
  readonly maxMessageSize: number;
  /** See {@link HeartbeatServerOptions.publishWindow}. */
  readonly publishWindow: number;
  /** See {@link HeartbeatServerOptions.maxAttachedPerConnection}. */
  readonly maxAttachedPerConnection: number;
  /** See {@link HeartbeatServerOptions.maxConnections}. */
  readonly maxConnections: number;
  /** See {@link HeartbeatServerOptions.maxConnectionsPerIp}. */
  readonly maxConnectionsPerIp: number;
  /** See {@link HeartbeatServerOptions.maxPendingHellos}. */
  readonly maxPendingHellos: number;
  /** See {@link HeartbeatServerOptions.maxPendingHelloBytes}. */
  readonly maxPendingHelloBytes: number;
  /** See {@link HeartbeatServerOptions.maxFrameSize}. */
  readonly maxFrameSize: number;
  /** See {@link HeartbeatServerOptions.rateLimit}. */
  readonly rateLimit: Readonly<Required<RateLimitOptions>>;
  /** See {@link HeartbeatServerOptions.closeTimeout}. */
  readonly closeTimeout: number;
  /** See {@link HeartbeatServerOptions.maxHandshakes}. */
  readonly maxHandshakes: number;
  /** See {@link HeartbeatServerOptions.retryAfter}. */
  readonly retryAfter: number;
  /** See {@link HeartbeatServerOptions.reusePort}; `undefined`: unset. */
  readonly reusePort: boolean | undefined;
  /** See {@link HeartbeatServerOptions.authenticate}. */
  readonly authenticate: AuthenticateHook | undefined;
  /** See {@link HeartbeatServerOptions.authorizeSubscribe}. */
  readonly authorizeSubscribe: AuthorizeSubscribeHook | undefined;
  /** See {@link HeartbeatServerOptions.authorizePublish}. */
  readonly authorizePublish: AuthorizePublishHook | undefined;
  /** See {@link HeartbeatServerOptions.authorizeBroadcast}. */
  readonly authorizeBroadcast: AuthorizeBroadcastHook | undefined;
  /** See {@link HeartbeatServerOptions.authorizeSend}. */
  readonly authorizeSend: AuthorizeSendHook | undefined;
  /** See {@link HeartbeatServerOptions.auth}. */
  readonly auth: ResolvedAuthOptions;
  /** See {@link HeartbeatServerOptions.permissions}. */
  readonly permissions: readonly PermissionRule[] | undefined;
  /** See {@link HeartbeatServerOptions.messageRate}. */
  readonly messageRate: ResolvedMessageRate;
  /** See {@link HeartbeatServerOptions.tls}. */
  readonly tls: TlsOptions | undefined;
  /** See {@link HeartbeatServerOptions.proxyProtocol}. */
  readonly proxyProtocol: boolean;
  /** See {@link HeartbeatServerOptions.logger}. */
  readonly logger: Logger;
  /** See {@link HeartbeatServerOptions.serverId}. */
  readonly serverId: string;
  /** See {@link HeartbeatServerOptions.bus}. */
  readonly bus: BusLink | undefined;
}

/** The numeric defaults of {@link HeartbeatServerOptions}, by name (`rateLimit.burst` is `burst`). */
export type ServerOptionDefaults = Readonly<Record<string, number>> & {
  readonly workerCount: number;
  readonly heartbeatInterval: number;
  readonly heartbeatTimeout: number;
};

/** Defaults of the numeric options, from the option table (see `NUMBER_OPTIONS`). */
export const SERVER_OPTION_DEFAULTS: ServerOptionDefaults = Object.freeze(
  Object.fromEntries(NUMBER_OPTIONS.map((o) => [o.name.replace("rateLimit.", ""), o.base])),
) as ServerOptionDefaults;

const KNOWN_OPTIONS = new Set<string>([
  ...NUMBER_OPTIONS.filter((o) => !o.name.startsWith("rateLimit.")).map((o) => o.name),
  ...OTHER_OPTIONS.map((o) => o.name),
  "rateLimit",
  "auth",
  "permissions",
  "messageRate",
]);
const KNOWN_RATE_LIMIT_OPTIONS = new Set<string>(["framesPerSecond", "burst"]);

/**
 * Options that are functions living in one process: with them given
 * inline, `workerCount` defaults to 1, and more is refused (a
 * `workerModule` brings them to the workers instead).
 */
export const PROCESS_LOCAL_OPTIONS = [
  "authenticate",
  "authorizeSubscribe",
  "authorizePublish",
  "authorizeBroadcast",
  "authorizeSend",
] as const satisfies readonly (keyof HeartbeatServerOptions)[];

const BUS_METHODS = ["start", "send", "announce", "locate", "remoteNodes", "health", "stats", "close"] as const;

/**
 * Applies defaults to {@link HeartbeatServerOptions} and checks every value
 * against the ranges documented there (the option table, `NUMBER_OPTIONS`).
 *
 * @throws TypeError for an unknown option or a value of the wrong type
 * @throws RangeError for a number outside its range (the message names the
 *   option and the range)
 */
export function resolveServerOptions(options: HeartbeatServerOptions = {}): ResolvedServerOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("HeartbeatServer options must be an object");
  }
  checkKnownKeys(options, KNOWN_OPTIONS, "HeartbeatServer");
  const host = options.host;
  if (host !== undefined && (typeof host !== "string" || host.length === 0)) {
    throw new TypeError("host must be a non-empty string");
  }
  const workerModule = options.workerModule === undefined ? undefined : resolveWorkerModule(options.workerModule);
  const rl = options.rateLimit ?? {};
  if (typeof rl !== "object" || rl === null) throw new TypeError("rateLimit must be an object");
  checkKnownKeys(rl, KNOWN_RATE_LIMIT_OPTIONS, "rateLimit");
  // Every numeric option, from the table, in order (bounds and defaults may use earlier ones).
  const ctx = { localHooks: PROCESS_LOCAL_OPTIONS.some((key) => options[key] !== undefined) };
  const n: ResolvedNumbers = {};
  for (const spec of NUMBER_OPTIONS) resolveNumber(spec, spec.name.startsWith("rateLimit.") ? rl : options, n, ctx);
  const num = (name: string): number => n[name] as number;
  const failureDetector = options.failureDetector ?? "fixed";
  if (failureDetector !== "fixed" && failureDetector !== "phi") {
    throw new TypeError(`failureDetector must be "fixed" or "phi", got ${JSON.stringify(failureDetector)}`);
  }
  const maxFrameSize = num("maxFrameSize");
  const maxMessageSize = num("maxMessageSize");
  const publishWindow = num("publishWindow");
  if (publishWindow > 0 && maxMessageSize === 0 && publishWindow < maxFrameSize) {
    throw new RangeError(
      `publishWindow (${publishWindow}) must be at least maxFrameSize (${maxFrameSize}) when maxMessageSize is 0: a larger payload could never be sent`,
    );
  }

  const authenticate = options.authenticate;
  if (authenticate !== undefined && typeof authenticate !== "function") {
    throw new TypeError("authenticate must be a function (hello, context) => boolean | AuthenticateDecision | Promise<…>");
  }
  const authorizeSend = functionOption<AuthorizeSendHook>(options.authorizeSend, "authorizeSend", "(node, targetNodeId) => boolean");
  const auth = resolveAuthOptions(options.auth);
  const permissions = resolvePermissionRules(options.permissions);
  const messageRate = resolveMessageRate(options.messageRate);
  const authorizeSubscribe = functionOption<AuthorizeSubscribeHook>(options.authorizeSubscribe, "authorizeSubscribe", "(node, subject) => boolean");
  const authorizePublish = functionOption<AuthorizePublishHook>(options.authorizePublish, "authorizePublish", "(node, subject) => boolean");
  const authorizeBroadcast = functionOption<AuthorizeBroadcastHook>(options.authorizeBroadcast, "authorizeBroadcast", "(node) => boolean");
  const tls = options.tls;
  if (tls !== undefined && (typeof tls !== "object" || tls === null)) {
    throw new TypeError("tls must be an object of node:tls options");
  }
  const reusePort = options.reusePort;
  if (reusePort !== undefined && typeof reusePort !== "boolean") throw new TypeError("reusePort must be true or false");
  const proxyProtocol = options.proxyProtocol ?? false;
  if (typeof proxyProtocol !== "boolean") throw new TypeError("proxyProtocol must be true or false");
  if (proxyProtocol && tls !== undefined) {
    throw new TypeError("proxyProtocol cannot be combined with tls: terminate TLS at the load balancer");
  }
  const logger = options.logger ?? SILENT_LOGGER;
  for (const level of ["debug", "info", "warn", "error"] as const) {
    if (typeof (logger as unknown as Record<string, unknown>)?.[level] !== "function") {
      throw new TypeError(`logger must be pino-compatible: logger.${level} is not a function`);
    }
  }
  const serverId = options.serverId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  if (typeof serverId !== "string") throw new TypeError("serverId must be a string");
  if (serverId.length < 1 || serverId.length > 128) {
    throw new RangeError(`serverId must be 1..128 characters long, got ${serverId.length}`);
  }

  const bus = options.bus;
  if (bus !== undefined) {
    const b = bus as unknown as Record<string, unknown>;
    if (typeof bus !== "object" || bus === null || typeof b.kind !== "string") {
      throw new TypeError("bus must be a BusLink (an object with kind, start, send, announce, locate, …)");
    }
    for (const m of BUS_METHODS) {
      if (typeof b[m] !== "function") throw new TypeError(`bus must be a BusLink: bus.${m} is not a function`);
    }
  }

  return Object.freeze({
    host,
    port: num("port"),
    workerCount: num("workerCount"),
    workerModule,
    heartbeatInterval: num("heartbeatInterval"),
    minHeartbeatInterval: num("minHeartbeatInterval"),
    heartbeatTimeout: num("heartbeatTimeout"),
    heartbeatCheckInterval: num("heartbeatCheckInterval"),
    failureDetector,
    phiThreshold: num("phiThreshold"),
    acceptablePause: num("acceptablePause"),
    minStdDev: num("minStdDev"),
    loopLagThreshold: num("loopLagThreshold"),
    massSilencePercent: num("massSilencePercent"),
    massSilenceMinNodes: num("massSilenceMinNodes"),
    maxHeldVerdict: num("maxHeldVerdict"),
    flapSuppressThreshold: num("flapSuppressThreshold"),
    flapReuseThreshold: num("flapReuseThreshold"),
    flapHalfLife: num("flapHalfLife"),
    flapMaxDamping: num("flapMaxDamping"),
    handshakeTimeout: num("handshakeTimeout"),
    resumeGrace: num("resumeGrace"),
    channelMaxQueueSize: num("channelMaxQueueSize"),
    maxSubscriptionQueueSize: num("maxSubscriptionQueueSize"),
    maxSubscriptionsPerConnection: num("maxSubscriptionsPerConnection"),
    maxMessageSize,
    publishWindow,
    maxAttachedPerConnection: num("maxAttachedPerConnection"),
    maxConnections: num("maxConnections"),
    maxConnectionsPerIp: num("maxConnectionsPerIp"),
    maxPendingHellos: num("maxPendingHellos"),
    maxPendingHelloBytes: num("maxPendingHelloBytes"),
    maxFrameSize,
    rateLimit: Object.freeze({ framesPerSecond: num("rateLimit.framesPerSecond"), burst: num("rateLimit.burst") }),
    closeTimeout: num("closeTimeout"),
    maxHandshakes: num("maxHandshakes"),
    retryAfter: num("retryAfter"),
    reusePort,
    authenticate,
    authorizeSubscribe,
    authorizePublish,
    authorizeBroadcast,
    authorizeSend,
    auth,
    permissions,
    messageRate,
    tls,
    proxyProtocol,
    logger,
    serverId,
    bus,
  });
}
