/** Options of {@link AdminServer}. */
export interface AdminOptions {
  /** Interface to listen on. Default `127.0.0.1` (loopback: the admin endpoint is not for the internet). */
  host?: string;
  /** TCP port; 0 picks a free one. Default 9502; 0 .. 65 535. */
  port?: number;
  /**
   * When set, every endpoint but `/healthz`, `/readyz` and the dashboard's
   * files (which hold no data) needs
   * `Authorization: Bearer <token>` (or `?token=<token>`, which the
   * dashboard uses for its event stream); others get 401. At least 16
   * characters. Default: none (anyone who reaches the port may read).
   */
  token?: string;
  /** Serve the live dashboard at `/`. Default `true`. */
  dashboard?: boolean;
  /** Most `/v1/events` streams open at once; more get 503. Default 64; 1 .. 10 000. */
  maxEventStreams?: number;
  /** Version reported by `/v1/stats` and `heartbeat_server_info`. Default: @hb/server's. */
  version?: string;
}

/** {@link AdminOptions} with defaults applied. */
export interface ResolvedAdminOptions {
  /** See {@link AdminOptions.host}. */
  readonly host: string;
  /** See {@link AdminOptions.port}. */
  readonly port: number;
  /** See {@link AdminOptions.token}. */
  readonly token: string | undefined;
  /** See {@link AdminOptions.dashboard}. */
  readonly dashboard: boolean;
  /** See {@link AdminOptions.maxEventStreams}. */
  readonly maxEventStreams: number;
  /** See {@link AdminOptions.version}. */
  readonly version: string | undefined;
}

/** Defaults of {@link AdminOptions}. */
export const ADMIN_DEFAULTS = Object.freeze({
  /** Loopback only. */
  host: "127.0.0.1",
  /** Next to the seed's node port 9501. */
  port: 9502,
  /** The dashboard is served. */
  dashboard: true,
  /** Event streams open at once. */
  maxEventStreams: 64,
});

const KNOWN = new Set(["host", "port", "token", "dashboard", "maxEventStreams", "version"]);

/**
 * Applies defaults to {@link AdminOptions} and checks them.
 *
 * @throws TypeError for an unknown option or a value of the wrong type
 * @throws RangeError for a number out of range or a token shorter than 16 characters
 */
export function resolveAdminOptions(options: AdminOptions = {}): ResolvedAdminOptions {
  if (typeof options !== "object" || options === null) throw new TypeError("admin options must be an object");
  for (const key of Object.keys(options)) if (!KNOWN.has(key)) throw new TypeError(`unknown admin option "${key}"`);
  const { host = ADMIN_DEFAULTS.host, port = ADMIN_DEFAULTS.port, token, dashboard = ADMIN_DEFAULTS.dashboard } = options;
  const maxEventStreams = options.maxEventStreams ?? ADMIN_DEFAULTS.maxEventStreams;
  if (typeof host !== "string" || host.length === 0) throw new TypeError("admin host must be a non-empty string");
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new RangeError(`admin port must be an integer in 0..65535, got ${port}`);
  if (token !== undefined) {
    if (typeof token !== "string") throw new TypeError("admin token must be a string");
    if (token.length < 16) throw new RangeError(`admin token must be at least 16 characters long, got ${token.length}`);
  }
  if (typeof dashboard !== "boolean") throw new TypeError("admin dashboard must be true or false");
  if (!Number.isInteger(maxEventStreams) || maxEventStreams < 1 || maxEventStreams > 10_000) {
    throw new RangeError(`admin maxEventStreams must be an integer in 1..10000, got ${maxEventStreams}`);
  }
  if (options.version !== undefined && typeof options.version !== "string") throw new TypeError("admin version must be a string");
  return Object.freeze({ host, port, token, dashboard, maxEventStreams, version: options.version });
}
