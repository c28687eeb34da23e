/** How a setting's value is written and checked. */
export type SettingType = "int" | "duration" | "size" | "string" | "bool" | "level" | "format" | "path" | "data";

/** Which part of hb-server a setting configures (and which validator checks it). */
export type SettingSection = "server" | "admin" | "log" | "redis" | "demo";

/** One setting of hb-server: a key of the config file, an `HB_*` variable and a flag. */
export interface Setting {
  /** camelCase path in the config file, `.` between sections: `heartbeatTimeout`, `admin.port`. */
  path: string;
  /** The part it configures. */
  section: SettingSection;
  /** Its type. */
  type: SettingType;
  /** One line for `--help` and docs/OPERATIONS.md. */
  doc: string;
  /** hb-server's own default when it differs from the library's (or the library has none). */
  default?: string | number | boolean;
  /** Redacted by `print-config`. */
  secret?: boolean;
  /** Applied on SIGHUP without a restart. */
  live?: boolean;
  /** The seed project's name for it (its config file keys). */
  seed?: string;
}

const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/** Values of `log.level`. */
export const LOG_LEVELS: readonly string[] = LEVELS;
/** Values of `log.format`. */
export const LOG_FORMATS: readonly string[] = ["auto", "json", "pretty"];

/**
 * Every setting hb-server reads, declared once: the config file keys
 * (camelCase, or snake_case as in the seed), the environment variables
 * (`HB_` + upper snake case: `HB_HEARTBEAT_TIMEOUT`, `HB_ADMIN_PORT`), the
 * flags (kebab case: `--heartbeat-timeout`, `--admin-port`), `--help`,
 * `print-config` and the table in docs/OPERATIONS.md (checked by a test)
 * all come from here. Server settings are then checked by @hb/server's
 * `resolveServerOptions` (ranges and messages live there).
 */
export const SETTINGS: readonly Setting[] = [
  { path: "host", section: "server", type: "string", default: "0.0.0.0", doc: "interface the node port listens on" },
  { path: "port", section: "server", type: "int", default: 9501, doc: "TCP port for nodes" },
  { path: "workerCount", section: "server", type: "int", seed: "worker_count", doc: "worker processes sharing the port (default: one per CPU)" },
  { path: "heartbeatInterval", section: "server", type: "duration", seed: "heartbeat_interval", doc: "interval given to nodes that ask for none" },
  { path: "minHeartbeatInterval", section: "server", type: "duration", doc: "shortest interval a node may ask for" },
  { path: "heartbeatTimeout", section: "server", type: "duration", seed: "heartbeat_timeout", doc: "silence after which a node is offline" },
  { path: "heartbeatCheckInterval", section: "server", type: "duration", seed: "heartbeat_check_interval", doc: "tick of the liveness check" },
  { path: "failureDetector", section: "server", type: "string", doc: "who is suspect: `fixed` (1.5 × interval) or `phi` (phi accrual)" },
  { path: "phiThreshold", section: "server", type: "int", doc: "phi detector: φ at which a node is suspect" },
  { path: "acceptablePause", section: "server", type: "duration", doc: "phi detector: pause tolerated on top of a node's mean heartbeat gap" },
  { path: "minStdDev", section: "server", type: "duration", doc: "phi detector: smallest standard deviation of heartbeat gaps" },
  { path: "loopLagThreshold", section: "server", type: "duration", doc: "event-loop lag that holds timeouts (server_lagging) and is logged (0: never)" },
  { path: "massSilencePercent", section: "server", type: "int", doc: "mass-departure brake: % of nodes silent at once that holds timeouts (0: off)" },
  { path: "massSilenceMinNodes", section: "server", type: "int", doc: "fewest silent nodes that make a mass silence" },
  { path: "maxHeldVerdict", section: "server", type: "duration", doc: "longest a held timeout waits before it is made anyway" },
  { path: "flapSuppressThreshold", section: "server", type: "int", doc: "flap damping: penalty (transitions, decaying) that damps a node (0: off)" },
  { path: "flapReuseThreshold", section: "server", type: "int", doc: "flap damping: penalty below which damping ends" },
  { path: "flapHalfLife", section: "server", type: "duration", doc: "flap damping: half-life of the penalty" },
  { path: "flapMaxDamping", section: "server", type: "duration", doc: "flap damping: longest a node stays damped" },
  { path: "handshakeTimeout", section: "server", type: "duration", doc: "time a new connection has to send Hello (and its PROXY header)" },
  { path: "resumeGrace", section: "server", type: "duration", doc: "how long a lost session waits for a resume (0: off)" },
  { path: "closeTimeout", section: "server", type: "duration", doc: "drain time on shutdown before connections are closed" },
  { path: "maxHandshakes", section: "server", type: "int", doc: "connections in their handshake at once; more wait unread (accept pacing)" },
  { path: "retryAfter", section: "server", type: "duration", doc: "retry_after_ms told to refused clients, spread ×0.5–1.5 (0: not said)" },
  { path: "channelMaxQueueSize", section: "server", type: "int", seed: "channel_max_queue_size", doc: "default queue of a subscription, messages" },
  { path: "maxSubscriptionQueueSize", section: "server", type: "int", doc: "largest queue a subscription may ask for" },
  { path: "maxSubscriptionsPerConnection", section: "server", type: "int", doc: "subscriptions per connection" },
  { path: "maxAttachedPerConnection", section: "server", type: "int", doc: "nodes one gateway connection may attach" },
  { path: "maxMessageSize", section: "server", type: "size", doc: "largest message reassembled from fragments (0: no fragments)" },
  { path: "publishWindow", section: "server", type: "size", doc: "flow-control window per connection (0: off)" },
  { path: "maxFrameSize", section: "server", type: "size", doc: "largest frame accepted" },
  { path: "maxConnections", section: "server", type: "int", live: true, seed: "max_connections", doc: "connections of the whole server" },
  { path: "maxConnectionsPerIp", section: "server", type: "int", live: true, doc: "connections per client address (0: no limit)" },
  { path: "maxPendingHellos", section: "server", type: "int", live: true, doc: "connections not yet past Hello; more close the oldest (handshake floods)" },
  { path: "maxPendingHelloBytes", section: "server", type: "size", live: true, doc: "bytes those connections may hold in all (partial Hellos)" },
  { path: "rateLimit.framesPerSecond", section: "server", type: "int", live: true, doc: "frames per second per connection (new connections)" },
  { path: "rateLimit.burst", section: "server", type: "int", live: true, doc: "frame burst per connection (new connections)" },
  { path: "serverId", section: "server", type: "string", doc: "this server's id on the bus (default: host:pid:random)" },
  { path: "proxyProtocol", section: "server", type: "bool", doc: "expect a PROXY v1/v2 header from a load balancer on every connection" },
  { path: "reusePort", section: "server", type: "bool", doc: "SO_REUSEPORT: unset, one listening socket per worker; true, may share the port with another server; false, round-robin" },
  { path: "workerModule", section: "server", type: "path", doc: "module exporting authenticate / authorize hooks for the workers" },
  { path: "tls.cert", section: "server", type: "path", live: true, doc: "PEM certificate file: nodes connect over TLS; re-read on SIGHUP" },
  { path: "tls.key", section: "server", type: "path", live: true, doc: "PEM private key file; re-read on SIGHUP" },
  { path: "tls.ca", section: "server", type: "path", live: true, doc: "PEM CA file (to verify client certificates); re-read on SIGHUP" },
  { path: "tls.passphrase", section: "server", type: "string", secret: true, live: true, doc: "passphrase of the key" },
  { path: "tls.requestCert", section: "server", type: "bool", doc: "ask nodes for client certificates, verified against tls.ca (mTLS)" },
  { path: "tls.rejectUnauthorized", section: "server", type: "bool", doc: "with tls.requestCert: refuse a node without a valid certificate in the TLS handshake (default true)" },
  { path: "auth.mode", section: "server", type: "string", live: true, doc: "authentication: none (warns beyond loopback), tokens or jwt" },
  { path: "auth.tokens", section: "server", type: "data", live: true, doc: "tokens mode: list of { hash, name, nodeId, labels, permissions } (hash from hb-server hash-token; config file)" },
  { path: "auth.tokenGrace", section: "server", type: "duration", live: true, doc: "how long an expired credential's session lives unrenewed (default 30s)" },
  { path: "auth.certificateNodeId", section: "server", type: "string", live: true, doc: "take the node id from the client certificate: cn, dns or uri (mTLS)" },
  { path: "auth.jwt.algorithm", section: "server", type: "string", live: true, doc: "jwt mode: HS256 (with auth.jwt.secret), RS256, PS256, ES256, EdDSA (with auth.jwt.publicKeyFile)" },
  { path: "auth.jwt.secret", section: "server", type: "string", secret: true, live: true, doc: "jwt mode: the HS256/384/512 shared secret (32+ characters)" },
  { path: "auth.jwt.publicKeyFile", section: "server", type: "path", live: true, doc: "jwt mode: PEM public key (SPKI) verifying the tokens; re-read on SIGHUP" },
  { path: "auth.jwt.jwksFile", section: "server", type: "path", live: true, doc: "jwt mode: a JWKS file ({ keys: [...] }) verifying the tokens; re-read on SIGHUP" },
  { path: "auth.jwt.audience", section: "server", type: "string", live: true, doc: "jwt mode: required aud claim" },
  { path: "auth.jwt.issuer", section: "server", type: "string", live: true, doc: "jwt mode: required iss claim" },
  { path: "auth.jwt.nodeIdClaim", section: "server", type: "string", live: true, doc: "jwt mode: claim binding the node id (default sub)" },
  { path: "auth.jwt.clockTolerance", section: "server", type: "int", live: true, doc: "jwt mode: tolerated clock skew for exp/nbf, seconds (default 5)" },
  { path: "permissions", section: "server", type: "data", live: true, doc: "permission rules: list of { match, publish, subscribe, send, broadcast, attach, presence } (config file)" },
  { path: "messageRate.messagesPerSecond", section: "server", type: "int", doc: "per-node message limit, messages per second (0: none)" },
  { path: "messageRate.messageBurst", section: "server", type: "int", doc: "per-node message burst (default 2 × the rate)" },
  { path: "messageRate.bytesPerSecond", section: "server", type: "size", doc: "per-node payload byte limit per second (0: none)" },
  { path: "messageRate.byteBurst", section: "server", type: "size", doc: "per-node payload byte burst (default 2 × the rate)" },
  { path: "admin.enabled", section: "admin", type: "bool", default: true, doc: "serve /metrics, /healthz, /readyz, /v1/* and the dashboard" },
  { path: "admin.host", section: "admin", type: "string", default: "127.0.0.1", doc: "interface of the admin port (loopback by default)" },
  { path: "admin.port", section: "admin", type: "int", default: 9502, doc: "admin HTTP port" },
  { path: "admin.token", section: "admin", type: "string", secret: true, doc: "bearer token required by everything but the probes" },
  { path: "admin.dashboard", section: "admin", type: "bool", default: true, doc: "serve the live dashboard at /" },
  { path: "log.level", section: "log", type: "level", default: "info", live: true, doc: `log level: ${LEVELS.join(", ")}` },
  { path: "log.format", section: "log", type: "format", default: "auto", doc: "json, pretty, or auto (pretty on a terminal)" },
  { path: "redis.url", section: "redis", type: "string", doc: "redis:// URL: join the servers of this Redis into one bus (a password in it is redacted)" },
  { path: "redis.prefix", section: "redis", type: "string", doc: "key prefix of the bus in Redis (default hb)" },
  { path: "redis.leaseTtl", section: "redis", type: "duration", doc: "a server silent this long is gone for the others" },
  { path: "redis.leaseRefresh", section: "redis", type: "duration", doc: "how often the lease is renewed" },
  { path: "demo", section: "demo", type: "bool", default: false, doc: "run a small demo fleet against this server" },
];

/** Sections that are objects in the config file. */
export const SECTIONS: readonly string[] = ["rateLimit", "tls", "auth", "auth.jwt", "messageRate", "admin", "log", "redis"];

/** The setting at a camelCase path. */
export function settingAt(path: string): Setting | undefined {
  return SETTINGS.find((s) => s.path === path);
}

/** `heartbeatTimeout` → `heartbeat_timeout`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** `heartbeat_timeout` (or `heartbeat-timeout`) → `heartbeatTimeout`. */
export function camelCase(name: string): string {
  return name.replace(/[_-]([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** The environment variable of a setting: `HB_RATE_LIMIT_BURST`. */
export function envName(s: Setting): string {
  return `HB_${s.path.split(".").map(snakeCase).join("_").toUpperCase()}`;
}

/** The flag of a setting, without dashes: `rate-limit-burst`; `admin.enabled` is `admin` (`--admin`, `--no-admin`). */
export function flagName(s: Setting): string {
  return s.path
    .replace(/\.enabled$/, "")
    .split(".")
    .map((p) => snakeCase(p).replaceAll("_", "-"))
    .join("-");
}
