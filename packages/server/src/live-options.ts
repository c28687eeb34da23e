import {
  type HeartbeatServerOptions,
  type RateLimitOptions,
  type ResolvedServerOptions,
  resolveServerOptions,
} from "./server-options.js";

/**
 * The options {@link HeartbeatServer.reconfigure} may change while the
 * server runs: the connection limits (they apply to connections accepted
 * from then on) and the frame rate limit (to connections opened from then
 * on; open ones keep theirs).
 */
export const LIVE_OPTIONS = ["maxConnections", "maxConnectionsPerIp", "rateLimit"] as const;

/** The subset of {@link HeartbeatServerOptions} that can change live ({@link LIVE_OPTIONS}). */
export interface LiveServerOptions {
  /** See {@link HeartbeatServerOptions.maxConnections}. */
  maxConnections?: number;
  /** See {@link HeartbeatServerOptions.maxConnectionsPerIp}. */
  maxConnectionsPerIp?: number;
  /** See {@link HeartbeatServerOptions.rateLimit}; fields left out keep their value. */
  rateLimit?: RateLimitOptions;
}

/**
 * `current` with `changes` applied, checked like any options (the same
 * ranges and messages as {@link resolveServerOptions}).
 *
 * @throws TypeError naming an option that cannot change live, or a value of the wrong type
 * @throws RangeError for a value outside its range
 */
export function applyLiveOptions(current: ResolvedServerOptions, changes: LiveServerOptions): ResolvedServerOptions {
  if (typeof changes !== "object" || changes === null) throw new TypeError("changes must be an object");
  for (const key of Object.keys(changes)) {
    if (!(LIVE_OPTIONS as readonly string[]).includes(key)) {
      throw new TypeError(`${key} cannot change while the server runs (live: ${LIVE_OPTIONS.join(", ")})`);
    }
  }
  const given: HeartbeatServerOptions = { ...current, ...changes, rateLimit: { ...current.rateLimit, ...changes.rateLimit } };
  return resolveServerOptions(given);
}
