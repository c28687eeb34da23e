import cluster from "node:cluster";
import { availableParallelism } from "node:os";
import { DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_MESSAGE_SIZE, MAX_FRAME_SIZE_LIMIT, MIN_MAX_FRAME_SIZE } from "@hb/codec";
import { type IntegerRange, integerOption, zeroOrIntegerOption } from "./option-checks.js";

/** The numeric options resolved so far, by name (bounds and defaults may depend on earlier ones). */
export type ResolvedNumbers = Record<string, number>;

/** One numeric option of the server: everything that is said about it, once. */
export interface NumberOptionSpec {
  /** Its name: an option of `HeartbeatServerOptions`, or `rateLimit.<key>`. */
  readonly name: string;
  /** The seed project's config name (snake_case), for a config file loader. */
  readonly seed: string | undefined;
  /** `integer`, or `zero-or-integer` (0 turns it off). */
  readonly kind: "integer" | "zero-or-integer";
  /** Unit, for people. */
  readonly unit: "ms" | "bytes" | "messages" | "count" | "port";
  /** The default as a constant: the value of `SERVER_OPTION_DEFAULTS`. */
  readonly base: number;
  /** The default given what is resolved so far (`base` unless it depends on other options). */
  readonly fallback: (r: ResolvedNumbers, ctx: OptionContext) => number;
  /** The default as documented (TSDoc, README). */
  readonly defaultText: string;
  /** The range given what is resolved so far. */
  readonly range: (r: ResolvedNumbers) => IntegerRange;
  /** The range as documented (TSDoc, README). */
  readonly rangeText: string;
  /** What it does, one line (README). */
  readonly doc: string;
  /** Whether `HeartbeatServer.reconfigure` may change it while the server runs (`LIVE_OPTIONS`). */
  readonly live: boolean;
}

/** What a default may depend on besides other options. */
export interface OptionContext {
  /** Whether a process-local hook (`authenticate`, `authorize*`) was given inline. */
  readonly localHooks: boolean;
}

const CPUS = Math.min(availableParallelism(), 1_024);

const fixed = (min: number, max: number) => (): IntegerRange => ({ min, max });
const spec = (
  name: string,
  seed: string | undefined,
  unit: NumberOptionSpec["unit"],
  base: number,
  defaultText: string,
  range: NumberOptionSpec["range"],
  rangeText: string,
  doc: string,
  more: Partial<Pick<NumberOptionSpec, "kind" | "fallback" | "live">> = {},
): NumberOptionSpec => ({
  name,
  seed,
  kind: more.kind ?? "integer",
  unit,
  base,
  fallback: more.fallback ?? (() => base),
  defaultText,
  range,
  rangeText,
  doc,
  live: more.live ?? false,
});

/**
 * Every numeric option of `HeartbeatServerOptions`, in resolution order
 * (an option's default or bounds may use those before it): name, seed
 * name, unit, default, range, doc and whether it can change live, declared
 * once. Validation ({@link resolveNumber}), `SERVER_OPTION_DEFAULTS`,
 * `LIVE_OPTIONS`, the option table of packages/server/README.md
 * ({@link renderOptionTable}) come from it; a
 * test fails when the README or the TSDoc of `HeartbeatServerOptions`
 * drifts from it.
 */
export const NUMBER_OPTIONS: readonly NumberOptionSpec[] = [
  spec("port", "port", "port", 0, "0", fixed(0, 65_535), "0 .. 65 535", "TCP port; 0 picks a free one (`listen()` resolves with the bound address)"),
  spec(
    "workerCount",
    "worker_num",
    "count",
    CPUS,
    "the number of CPUs",
    fixed(1, 1_024),
    "1 .. 1 024",
    "worker processes sharing the port; 1 by default inside a cluster worker or with hooks given inline",
    { fallback: (_r, ctx) => (ctx.localHooks || !cluster.isPrimary ? 1 : CPUS) },
  ),
  spec("heartbeatInterval", "heartbeat_interval", "ms", 10_000, "10 000", fixed(50, 3_600_000), "50 .. 3 600 000", "interval granted when a Hello asks for 0"),
  spec(
    "minHeartbeatInterval",
    undefined,
    "ms",
    100,
    "min(100, heartbeatInterval)",
    (r) => ({ min: 10, max: r.heartbeatInterval as number, maxName: "heartbeatInterval" }),
    "10 .. heartbeatInterval",
    "smallest interval a client may negotiate",
    { fallback: (r) => Math.min(100, r.heartbeatInterval as number) },
  ),
  spec(
    "heartbeatTimeout",
    "heartbeat_timeout",
    "ms",
    30_000,
    "30 000",
    (r) => ({ min: 2 * (r.minHeartbeatInterval as number) + 1, max: 86_400_000, minName: "2 × minHeartbeatInterval + 1" }),
    "> 2 × minHeartbeatInterval, ≤ 86 400 000",
    "silence after which a node is timed out",
  ),
  spec(
    "heartbeatCheckInterval",
    "heartbeat_check_interval",
    "ms",
    1_000,
    "min(1 000, heartbeatTimeout)",
    (r) => ({ min: 10, max: r.heartbeatTimeout as number, maxName: "heartbeatTimeout" }),
    "10 .. heartbeatTimeout",
    "tick of the liveness wheel: a verdict is late by at most this much",
    { fallback: (r) => Math.min(1_000, r.heartbeatTimeout as number) },
  ),
  spec("phiThreshold", undefined, "count", 8, "8", fixed(1, 64), "1 .. 64", "`failureDetector: \"phi\"`: φ at which a node is suspect (`heartbeat_missed`)"),
  spec(
    "acceptablePause",
    undefined,
    "ms",
    1_000,
    "1 000",
    fixed(0, 3_600_000),
    "0 .. 3 600 000",
    "`failureDetector: \"phi\"`: silence added to a node's mean heartbeat gap before φ is computed",
  ),
  spec("minStdDev", undefined, "ms", 100, "100", fixed(1, 60_000), "1 .. 60 000", "`failureDetector: \"phi\"`: smallest standard deviation of a node's heartbeat gaps"),
  spec(
    "loopLagThreshold",
    undefined,
    "ms",
    500,
    "500",
    fixed(10, 600_000),
    "0 or 10 .. 600 000",
    "event-loop lag at or above which the server holds timeout verdicts (`server_lagging`), emits `loopLag` and logs a warning; 0: never",
    { kind: "zero-or-integer" },
  ),
  spec(
    "massSilencePercent",
    undefined,
    "count",
    50,
    "50",
    fixed(1, 100),
    "0 or 1 .. 100",
    "mass-departure brake: when more than this percentage of the nodes is silent or timed out within one `heartbeatTimeout`, timeouts are held (`mass_silence`); 0: no brake",
    { kind: "zero-or-integer" },
  ),
  spec("massSilenceMinNodes", undefined, "count", 10, "10", fixed(1, 10_000_000), "1 .. 10 000 000", "fewest silent nodes that make a mass silence"),
  spec(
    "maxHeldVerdict",
    undefined,
    "ms",
    60_000,
    "2 × heartbeatTimeout",
    (r) => ({ min: r.heartbeatTimeout as number, max: 172_800_000, minName: "heartbeatTimeout" }),
    "heartbeatTimeout .. 172 800 000",
    "longest a timeout verdict is held (`server_lagging`, `mass_silence`) after the node reached its timeout",
    { fallback: (r) => Math.min(172_800_000, 2 * (r.heartbeatTimeout as number)) },
  ),
  spec(
    "flapSuppressThreshold",
    undefined,
    "count",
    8,
    "8",
    fixed(2, 1_000),
    "0 or 2 .. 1 000",
    "flap damping: presence transitions of a node id (decayed) at which its changes are damped for presence subscribers; 0: no damping",
    { kind: "zero-or-integer" },
  ),
  spec(
    "flapReuseThreshold",
    undefined,
    "count",
    4,
    "flapSuppressThreshold / 2",
    (r) => ({ min: 1, max: Math.max(1, (r.flapSuppressThreshold as number) - 1), maxName: "flapSuppressThreshold − 1" }),
    "1 .. flapSuppressThreshold − 1",
    "flap damping ends when the decayed penalty falls below it",
    { fallback: (r) => Math.max(1, Math.floor((r.flapSuppressThreshold as number) / 2)) },
  ),
  spec("flapHalfLife", undefined, "ms", 30_000, "30 000", fixed(100, 86_400_000), "100 .. 86 400 000", "flap damping: half-life of a node id's penalty"),
  spec(
    "flapMaxDamping",
    undefined,
    "ms",
    300_000,
    "300 000",
    fixed(100, 86_400_000),
    "100 .. 86 400 000",
    "flap damping: longest a node stays damped",
  ),
  spec("handshakeTimeout", undefined, "ms", 10_000, "10 000", fixed(100, 600_000), "100 .. 600 000", "from connect until Welcome (auth hook included)"),
  spec("resumeGrace", undefined, "ms", 0, "0", fixed(0, 3_600_000), "0 .. 3 600 000", "how long a lost session stays resumable; 0: never"),
  spec(
    "channelMaxQueueSize",
    "channel_max_queue_size",
    "messages",
    1_000,
    "1 000",
    fixed(1, 10_000_000),
    "1 .. 10 000 000",
    "queue limit of a subscription asking `queue_size` 0, and of each connection's channel-0 queue (drop-oldest)",
  ),
  spec(
    "maxSubscriptionQueueSize",
    undefined,
    "messages",
    100_000,
    "max(100 000, channelMaxQueueSize)",
    (r) => ({ min: r.channelMaxQueueSize as number, max: 10_000_000, minName: "channelMaxQueueSize" }),
    "channelMaxQueueSize .. 10 000 000",
    "larger `queue_size` values are clamped to it",
    { fallback: (r) => Math.max(100_000, r.channelMaxQueueSize as number) },
  ),
  spec(
    "maxSubscriptionsPerConnection",
    undefined,
    "count",
    10_000,
    "10 000",
    fixed(1, 10_000_000),
    "1 .. 10 000 000",
    "live subscriptions per connection; one more is refused with non-fatal `SERVER_FULL`",
  ),
  spec(
    "maxAttachedPerConnection",
    undefined,
    "count",
    100_000,
    "100 000",
    fixed(1, 10_000_000),
    "1 .. 10 000 000",
    "nodes one connection may attach (gateway mode); one more is refused with non-fatal `SERVER_FULL`",
  ),
  spec("maxConnections", "max_connections", "count", 1_000_000, "1 000 000", fixed(1, 10_000_000), "1 .. 10 000 000", "open connections; more are refused with `SERVER_FULL`", {
    live: true,
  }),
  spec("maxConnectionsPerIp", undefined, "count", 0, "0", fixed(0, 10_000_000), "0 .. 10 000 000", "open connections per remote address; 0: no limit", {
    live: true,
  }),
  spec(
    "maxPendingHellos",
    undefined,
    "count",
    10_000,
    "10 000",
    fixed(1, 10_000_000),
    "1 .. 10 000 000",
    "connections that have not sent their Hello yet (handshake floods, slowloris); one more closes the oldest with `SERVER_FULL`",
    { live: true },
  ),
  spec(
    "maxPendingHelloBytes",
    undefined,
    "bytes",
    64 * 1024 * 1024,
    "64 MiB",
    fixed(1024 * 1024, 2 ** 36),
    "1 MiB .. 64 GiB",
    "bytes those connections may hold in all (partial Hellos); over it the oldest are closed with `SERVER_FULL`",
    { live: true },
  ),
  spec(
    "maxFrameSize",
    "max_package_size",
    "bytes",
    DEFAULT_MAX_FRAME_SIZE,
    "1 MiB",
    fixed(MIN_MAX_FRAME_SIZE, MAX_FRAME_SIZE_LIMIT),
    "1 024 .. 64 MiB",
    "largest incoming frame (length prefix excluded)",
  ),
  spec(
    "closeTimeout",
    undefined,
    "ms",
    5_000,
    "5 000",
    fixed(0, 600_000),
    "0 .. 600 000",
    "how long `close()` waits for clients to leave (`GoAway.drain_ms`); each GoAway's `reconnect_delay_ms` spreads them over it",
  ),
  spec(
    "maxHandshakes",
    undefined,
    "count",
    2_000,
    "2 000",
    fixed(1, 1_000_000),
    "1 .. 1 000 000",
    "connections in their handshake at once (accept pacing); more wait unread, in arrival order, and after 1 s take the slot of one silent for 3 s; shared out over workers",
  ),
  spec(
    "retryAfter",
    undefined,
    "ms",
    2_000,
    "2 000",
    fixed(100, 600_000),
    "0 or 100 .. 600 000",
    "`retry_after_ms` of fatal `SERVER_FULL` / `RATE_LIMITED` / `SHUTTING_DOWN` refusals, × uniform(0.5, 1.5); 0: not said",
    { kind: "zero-or-integer" },
  ),
  spec(
    "maxMessageSize",
    undefined,
    "bytes",
    DEFAULT_MAX_MESSAGE_SIZE,
    "64 MiB",
    fixed(1_024, 1024 * 1024 * 1024),
    "0 or 1 024 .. 1 GiB",
    "`Welcome.max_message_size`: largest frame reassembled from fragments, either direction; 0: no fragments",
    { kind: "zero-or-integer" },
  ),
  spec(
    "publishWindow",
    undefined,
    "bytes",
    8 * 1024 * 1024,
    "8 MiB",
    fixed(1_024, 2 ** 40),
    "0 or 1 024 .. 2^40",
    "`Welcome.initial_window`, flow-control window in payload bytes; 0: no flow control (≥ maxFrameSize when maxMessageSize is 0)",
    { kind: "zero-or-integer" },
  ),
  spec("rateLimit.framesPerSecond", undefined, "count", 2_000, "2 000", fixed(1, 1e9), "1 .. 1 000 000 000", "per-connection token bucket: frames per second", {
    live: true,
  }),
  spec("rateLimit.burst", undefined, "count", 4_000, "4 000", fixed(1, 1e9), "1 .. 1 000 000 000", "per-connection token bucket: frames at once after a quiet period", {
    live: true,
  }),
];

/** The other options, as the README lists them (their checks are in `resolveServerOptions`). */
export const OTHER_OPTIONS: readonly { name: string; defaultText: string; doc: string }[] = [
  { name: "host", defaultText: "every interface", doc: "interface to listen on" },
  {
    name: "failureDetector",
    defaultText: "`\"fixed\"`",
    doc: "`\"fixed\"` (suspect after 1.5 × interval) or `\"phi\"` (phi accrual: `phiThreshold`, `acceptablePause`, `minStdDev`); the timeout is `heartbeatTimeout` either way",
  },
  { name: "workerModule", defaultText: "none", doc: "absolute path or `file:` URL of a module every worker imports for its hooks and logger" },
  { name: "authenticate", defaultText: "accept all", doc: "`(hello, { remoteAddress }) => boolean | Promise<boolean>`; anything but `true` → `UNAUTHORIZED`" },
  { name: "authorizeSubscribe", defaultText: "allow", doc: "`(node, subject) => boolean`" },
  { name: "authorizePublish", defaultText: "allow", doc: "`(node, subject) => boolean`, once per message (wills included)" },
  { name: "authorizeBroadcast", defaultText: "refuse", doc: "`(node) => boolean`; `server.broadcast()` is never subject to it" },
  { name: "authorizeSend", defaultText: "allow", doc: "`(node, targetNodeId) => boolean`, once per Send (requests to a node included)" },
  {
    name: "auth",
    defaultText: '`{ mode: "none" }`',
    doc:
      'authentication without code: `mode` `"none"` (warns unless on loopback), `"tokens"` (hashed list: `tokens: [{ hash, nodeId?, labels?, permissions? }]`) ' +
      'or `"jwt"` (`jwt: { keys | jwks, audience, issuer, nodeIdClaim, labelsClaim, permissionsClaim }`); `certificateNodeId` (mTLS); ' +
      "`tokenGrace` (ms, default 30 000); live (`reconfigure`)",
  },
  {
    name: "permissions",
    defaultText: "no rules",
    doc: "rules `[{ match?: { labels, nodeId }, publish, subscribe, send, broadcast, attach, presence }]`, first match wins, no match: nothing allowed; live (`reconfigure`)",
  },
  { name: "messageRate", defaultText: "none", doc: "per-node token buckets `{ messagesPerSecond, messageBurst, bytesPerSecond, byteBurst }`; over: non-fatal `RATE_LIMITED`" },
  { name: "tls", defaultText: "none", doc: "`node:tls` options; set: the server speaks TLS; `requestCert` + `ca`: client certificates (mTLS); `reloadTls()` replaces certificates live" },
  {
    name: "reusePort",
    defaultText: "unset",
    doc:
      "`SO_REUSEPORT` (Linux, Node.js ≥ 22.12): unset, each worker listens with a socket of its own (the port must be free); `true`, the port " +
      "may also be shared with other servers (rolling restart), one process too; `false`: workers share it through `node:cluster` round-robin",
  },
  {
    name: "proxyProtocol",
    defaultText: "`false`",
    doc:
      "expect a PROXY v1/v2 header (HAProxy `send-proxy`, nginx `proxy_protocol on`) on every connection: its client address is the " +
      "connection's `remoteAddress` (per-IP limit, `authenticate`, `NodeInfo`); without a valid one within `handshakeTimeout` the " +
      "connection is closed (`socketErrors`, logged `PROXY_PROTOCOL`); not with `tls`",
  },
  { name: "logger", defaultText: "silent", doc: "any pino-compatible logger (pino is not a dependency); the default drops every record" },
  { name: "serverId", defaultText: "`<hostname>:<pid>:<random>`", doc: "1 .. 128 characters; sent in Welcome and events" },
  { name: "bus", defaultText: "none", doc: "a `BusLink` (`RedisBus` from `@hb/server/redis`, `MemoryBus` from `@hb/server/memory`): several servers form one bus" },
];

/** Resolves one numeric option from `source` (its own key, `rateLimit.x` → key `x`) into `r`. */
export function resolveNumber(spec: NumberOptionSpec, source: object, r: ResolvedNumbers, ctx: OptionContext): number {
  const key = spec.name.startsWith("rateLimit.") ? spec.name.slice("rateLimit.".length) : spec.name;
  const value = (source as Record<string, unknown>)[key];
  const check = spec.kind === "integer" ? integerOption : zeroOrIntegerOption;
  const resolved = check(value, spec.name, spec.fallback(r, ctx), spec.range(r));
  r[spec.name] = resolved;
  return resolved;
}

/** The option table of packages/server/README.md, as markdown (a test keeps the README equal to it). */
export function renderOptionTable(): string {
  const rows = [
    "| option | unit | default | range | meaning |",
    "|---|---|---|---|---|",
    ...NUMBER_OPTIONS.map((s) => `| \`${s.name}\` | ${s.unit} | ${s.defaultText} | ${s.rangeText} | ${s.doc}${s.live ? "; live (`reconfigure`)" : ""} |`),
    ...OTHER_OPTIONS.map((s) => `| \`${s.name}\` | | ${s.defaultText} | | ${s.doc.replaceAll("|", "\\|")} |`),
  ];
  return rows.join("\n");
}
