import type { AuthOptions, PermissionRule } from "./auth-options.js";
import { NUMBER_OPTIONS } from "./server-option-table.js";
import {
  type HeartbeatServerOptions,
  type RateLimitOptions,
  type ResolvedServerOptions,
  resolveServerOptions,
} from "./server-options.js";

/**
 * The options `HeartbeatServer.reconfigure` may change while the server
 * runs: those marked `live` in the option table (`NUMBER_OPTIONS`): the
 * connection limits (they apply to connections accepted from then on),
 * the frame rate limit (to connections opened from then on; open ones keep
 * theirs), and `auth` and `permissions` (handshakes and renewals from then on).
 */
export const LIVE_OPTIONS: readonly string[] = Object.freeze([
  ...new Set(NUMBER_OPTIONS.filter((o) => o.live).map((o) => o.name.split(".")[0] as string)),
  "auth",
  "permissions",
]);

/** The subset of {@link HeartbeatServerOptions} that can change while the server runs (`HeartbeatServer.reconfigure`). */
export interface LiveServerOptions {
  /** See {@link HeartbeatServerOptions.maxConnections}. */
  maxConnections?: number;
  /** See {@link HeartbeatServerOptions.maxConnectionsPerIp}. */
  maxConnectionsPerIp?: number;
  /** See {@link HeartbeatServerOptions.maxPendingHellos}. */
  maxPendingHellos?: number;
  /** See {@link HeartbeatServerOptions.maxPendingHelloBytes}. */
  maxPendingHelloBytes?: number;
  /** See {@link HeartbeatServerOptions.rateLimit}; fields left out keep their value. */
  rateLimit?: RateLimitOptions;
  /** See {@link HeartbeatServerOptions.auth}: replaces the whole `auth` option (handshakes and renewals from then on). */
  auth?: AuthOptions;
  /** See {@link HeartbeatServerOptions.permissions}: replaces the rules (connections welcomed or renewed from then on). */
  permissions?: PermissionRule[];
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
    if (!LIVE_OPTIONS.includes(key)) {
      throw new TypeError(`${key} cannot change while the server runs (live: ${LIVE_OPTIONS.join(", ")})`);
    }
  }
  const given = { ...current, ...changes, rateLimit: { ...current.rateLimit, ...changes.rateLimit } };
  const next = resolveServerOptions(given as HeartbeatServerOptions);
  // Unchanged auth and permissions keep their identity: what is compiled from them (keys, rules) stays.
  return Object.freeze({
    ...next,
    auth: changes.auth === undefined ? current.auth : next.auth,
    permissions: changes.permissions === undefined ? current.permissions : next.permissions,
  });
}

/**
 * The options in force, one object shared by a server and the parts built
 * from them (the core, the sessions' context, the router, the connection
 * gate): {@link LiveOptions.reconfigure} replaces what it holds, and the
 * parts read {@link LiveOptions.current} when they need a value, so that a
 * live change reaches them without a copy to update. Options that are not
 * live never change: a part may read those once.
 */
export class LiveOptions {
  #current: ResolvedServerOptions;

  constructor(initial: ResolvedServerOptions) {
    this.#current = initial;
  }

  /** The options in force now. */
  get current(): ResolvedServerOptions {
    return this.#current;
  }

  /**
   * Applies `changes` ({@link applyLiveOptions}); nothing changes when it throws.
   *
   * @returns the options now in force
   */
  reconfigure(changes: LiveServerOptions): ResolvedServerOptions {
    this.#current = applyLiveOptions(this.#current, changes);
    return this.#current;
  }
}
