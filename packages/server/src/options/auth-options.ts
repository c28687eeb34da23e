/**
 * The serialisable authentication and permission options of the server
 * (`auth`, `permissions`, `messageRate`): plain data, so that a config file
 * can hold them and the primary can send them to every worker process.
 * The logic that applies them is in auth/.
 */

/** Allow and deny lists: an item is allowed when it matches an `allow` entry (any, when `allow` is absent) and no `deny` entry. */
export interface AllowDeny {
  /** Entries that allow. Absent: everything not denied. */
  allow?: string[];
  /** Entries that deny; they win over `allow`. */
  deny?: string[];
}

/**
 * What a node may do (PROTOCOL.md §5.9). Each kind is `true` (allowed),
 * `false` (denied), or restricted by lists; a kind left out keeps the
 * server's default (allowed, except `broadcast`: allowed only when
 * `authorizeBroadcast` says so). The hooks (`authorize*`) apply on top.
 *
 * Subject lists (`publish`, `subscribe`) hold NATS patterns (`*` one
 * token, a last `>` one or more). Node id lists (`send`, `attach`) hold
 * globs (`*` any run of characters). Every entry may use the templates
 * `{nodeId}` and `{labels.<key>}`, filled with the connection's node id
 * and labels (a label it does not have makes the entry match nothing).
 */
export interface PermissionGrant {
  /** Publish (requests by subject included): the concrete subjects. */
  publish?: boolean | AllowDeny;
  /**
   * Subscribe to subjects and patterns: a Subscribe is accepted when an
   * `allow` pattern covers it and no `deny` pattern does; a wider one
   * (`a.>` with `a.secret` denied) is never delivered a denied subject.
   */
  subscribe?: boolean | AllowDeny;
  /** Send to one node (requests to a node included): the target node ids. */
  send?: boolean | AllowDeny;
  /** Broadcast to every connection. */
  broadcast?: boolean;
  /** Attach nodes (gateway mode): the attached node ids. */
  attach?: boolean | AllowDeny;
  /**
   * Subscribe to `$hb.presence`; with `filter`, only with a `label_filter`
   * holding every one of these entries (so a tenant sees its own nodes).
   */
  presence?: boolean | PresenceGrant;
}

/** The restricted form of {@link PermissionGrant.presence}. */
export interface PresenceGrant {
  /** Label entries every presence subscription's `label_filter` must hold (values may use the templates). */
  filter: Record<string, string>;
}

/** A JWKS document (RFC 7517): `{ "keys": [...] }`. */
export interface JwksDocument {
  /** The JSON Web Keys. */
  keys: object[];
}

/** Which nodes a {@link PermissionRule} applies to: every condition given must hold. */
export interface PermissionMatch {
  /** Labels the node must have (each key with this value). */
  labels?: Record<string, string>;
  /** A glob (`*` any run of characters) the node id must match. */
  nodeId?: string;
}

/** One rule of the `permissions` option: the grant for the nodes it matches. */
export interface PermissionRule extends PermissionGrant {
  /** Which nodes it applies to. Absent: every node (a catch-all, put it last). */
  match?: PermissionMatch;
}

/** One credential of `auth.tokens`. */
export interface StaticToken {
  /**
   * The token's hash, never the token: `sha256:<hex>` (for random tokens of
   * 128 bits or more) or `scrypt:<N>:<r>:<p>:<salt base64>:<hash base64>`
   * (for tokens people choose). `hb-server hash-token` makes both.
   */
  hash: string;
  /** A name for logs (never the token). */
  name?: string;
  /** Binds the node id: the Hello must ask for this id or none (it is then assigned). */
  nodeId?: string;
  /** Binds labels: the node has these; a Hello giving another value for one of them is refused. */
  labels?: Record<string, string>;
  /** The permissions of this credential (instead of the `permissions` rules). */
  permissions?: PermissionGrant;
}

/** A key of `auth.jwt`. */
export interface JwtKey {
  /** Algorithm: `HS256`, `HS384`, `HS512`, `RS256`, `RS384`, `RS512`, `PS256`, `ES256`, `ES384`, `EdDSA`. */
  alg: string;
  /** HS*: the shared secret (UTF-8). */
  secret?: string;
  /** Asymmetric algorithms: the public key, PEM (SPKI, `-----BEGIN PUBLIC KEY-----`). */
  publicKey?: string;
  /** Key id: used when the token's header names a `kid`. */
  kid?: string;
}

/** JWT authentication (`auth.mode` `"jwt"`), verified with `jose`. */
export interface JwtAuthOptions {
  /** Keys to verify with (the token's `kid`, else its `alg`, picks one). */
  keys?: JwtKey[];
  /** A JWKS document (`{ "keys": [...] }`), e.g. read from a file by hb-server's `auth.jwt.jwksFile`. */
  jwks?: JwksDocument;
  /** Required `aud` (one of them). Absent: not checked. */
  audience?: string | string[];
  /** Required `iss` (one of them). Absent: not checked. */
  issuer?: string | string[];
  /** Tolerated clock skew for `exp` / `nbf`, seconds. Default 5. */
  clockTolerance?: number;
  /** Claim binding the node id (the Hello must ask for it or none). Default `sub`; `""`: not bound. */
  nodeIdClaim?: string;
  /** Claim holding labels to bind (an object of strings). Default `hb_labels`. */
  labelsClaim?: string;
  /** Claim holding a {@link PermissionGrant} for the connection. Default `hb_permissions`. */
  permissionsClaim?: string;
  /** Whether a token without `exp` is refused. Default `false`. */
  requireExpiry?: boolean;
}

/**
 * Authentication without code (the `auth` option):
 * - `none`: every Hello is accepted (the server warns at start unless it listens on loopback only);
 * - `tokens`: a static list of credentials, hashed at rest;
 * - `jwt`: signed tokens (`exp`, `nbf`, `aud`, `iss` checked; the node id, labels and permissions may come from claims).
 *
 * With `certificateNodeId` (TLS with client certificates) the node id is
 * taken from the client's certificate, whatever the mode.
 * The `authenticate` hook, if given too, runs after the mode accepted.
 */
export interface AuthOptions {
  /** The mode. Default `"none"`. */
  mode?: "none" | "tokens" | "jwt";
  /** `tokens` mode: the credentials. */
  tokens?: StaticToken[];
  /** `jwt` mode: keys and checks. */
  jwt?: JwtAuthOptions;
  /**
   * Take the node id from the client certificate (needs `tls` with
   * `requestCert` and a `ca`): `"cn"` the subject's common name, `"dns"` /
   * `"uri"` the first subjectAltName of that type. A connection without a
   * verified certificate is refused with `UNAUTHORIZED`; a Hello asking for
   * another id too.
   */
  certificateNodeId?: "cn" | "dns" | "uri";
  /**
   * How long an expired, unrenewed credential keeps its session before
   * it is closed with `TOKEN_EXPIRED` (`Welcome.token_grace_ms`), ms.
   * Default 30 000; 0 .. 3 600 000.
   */
  tokenGrace?: number;
}

/**
 * Per-node message limits (token buckets) on Publish, Send, Broadcast and
 * Reply frames, besides the per-connection frame bucket (`rateLimit`). A
 * message over a limit is refused with non-fatal `RATE_LIMITED` (`ref` its
 * request id), counted and logged; the connection stays. A gateway's
 * attached nodes share their connection's buckets.
 */
export interface MessageRateOptions {
  /** Messages per second. 0: no message limit. Default 0. */
  messagesPerSecond?: number;
  /** Messages at once after a quiet period. Default 2 × messagesPerSecond. */
  messageBurst?: number;
  /** Payload bytes per second. 0: no byte limit. Default 0. */
  bytesPerSecond?: number;
  /** Payload bytes at once after a quiet period. Default 2 × bytesPerSecond. */
  byteBurst?: number;
}
