import type { RedisOptions } from "ioredis";
import type { Logger } from "../core/ports/logger.js";
import { checkKnownKeys, integerOption } from "../options/option-checks.js";

/**
 * Options of {@link RedisBus}. Durations are in milliseconds. Every value is
 * checked by `resolveRedisBusOptions` (the constructor): the wrong type
 * throws a `TypeError`, a value out of range a `RangeError`, both naming the
 * option and its range; unknown option names throw a `TypeError`.
 */
export interface RedisBusOptions {
  /**
   * Where Redis is: a `redis://` / `rediss://` URL, or ioredis options
   * (host, port, password, tls, sentinels, `retryStrategy`, …). Default
   * `redis://127.0.0.1:6379`. The bus opens two connections with them (one
   * for commands, one for SUBSCRIBE) and overrides what its design needs:
   * `lazyConnect`, `enableOfflineQueue: false`, `autoResubscribe: false`,
   * `autoResendUnfulfilledCommands: false`, `maxRetriesPerRequest: 0` (a
   * command never waits for a reconnect: the bus resyncs instead). Without
   * a `retryStrategy` it reconnects after 100, 200, … up to 1 000 ms; unless
   * told otherwise the command connection uses `enableAutoPipelining`.
   */
  redis?: string | RedisOptions;
  /** Prefix of every key and channel (buses with different prefixes share a Redis). Default `"hb"`; 1..64 characters, no whitespace. */
  prefix?: string;
  /**
   * How long a member's lease lasts: a member that stops renewing it (crash,
   * cut off from Redis) is declared lost by the others after at most
   * `leaseTtl + leaseRefresh`. Default 5 000; 100..3 600 000.
   */
  leaseTtl?: number;
  /**
   * How often a member renews its lease and checks the others'. Default
   * `floor(leaseTtl / 3)`; 10..`floor(leaseTtl / 2)` (one late renewal must
   * not cost the lease).
   */
  leaseRefresh?: number;
  /** How long `start()` waits for Redis before it rejects. Default 10 000; 100..3 600 000. */
  startTimeout?: number;
  /**
   * Most presence changes kept while Redis is unreachable (the last per
   * node), sent as hints on reconnect so the others report them with their
   * real reasons. Beyond it only the reasons are lost, never state. Default
   * 10 000; 0..1 000 000.
   */
  maxPendingPresence?: number;
  /** Nodes per HSET when a member rewrites its directory entry. Default 1 000; 1..100 000. */
  syncChunk?: number;
  /** Where to log link state changes (pino fits). Default: no logging. */
  logger?: Logger;
}

/** {@link RedisBusOptions} with defaults applied. */
export interface ResolvedRedisBusOptions {
  /** See {@link RedisBusOptions.redis}. */
  readonly redis: string | RedisOptions;
  /** See {@link RedisBusOptions.prefix}. */
  readonly prefix: string;
  /** See {@link RedisBusOptions.leaseTtl}. */
  readonly leaseTtl: number;
  /** See {@link RedisBusOptions.leaseRefresh}. */
  readonly leaseRefresh: number;
  /** See {@link RedisBusOptions.startTimeout}. */
  readonly startTimeout: number;
  /** See {@link RedisBusOptions.maxPendingPresence}. */
  readonly maxPendingPresence: number;
  /** See {@link RedisBusOptions.syncChunk}. */
  readonly syncChunk: number;
  /** See {@link RedisBusOptions.logger}. */
  readonly logger: Logger | undefined;
}

const KNOWN = new Set([
  "redis",
  "prefix",
  "leaseTtl",
  "leaseRefresh",
  "startTimeout",
  "maxPendingPresence",
  "syncChunk",
  "logger",
]);

/**
 * Applies defaults to {@link RedisBusOptions} and checks every value.
 *
 * @throws TypeError for an unknown option or a value of the wrong type
 * @throws RangeError for a value out of its range (the message names the
 *   option and the range)
 */
export function resolveRedisBusOptions(options: RedisBusOptions = {}): ResolvedRedisBusOptions {
  if (typeof options !== "object" || options === null) throw new TypeError("RedisBus options must be an object");
  checkKnownKeys(options, KNOWN, "RedisBus");
  const redis = options.redis ?? "redis://127.0.0.1:6379";
  if (typeof redis === "string") {
    if (!/^rediss?:\/\//.test(redis)) throw new TypeError(`redis must be a redis:// or rediss:// URL or ioredis options, got "${redis}"`);
  } else if (typeof redis !== "object" || redis === null) {
    throw new TypeError("redis must be a redis:// or rediss:// URL or ioredis options");
  }
  const prefix = options.prefix ?? "hb";
  if (typeof prefix !== "string") throw new TypeError("prefix must be a string");
  if (prefix.length < 1 || prefix.length > 64 || /\s/.test(prefix)) {
    throw new RangeError(`prefix must be 1..64 characters without whitespace, got "${prefix}"`);
  }
  const leaseTtl = integerOption(options.leaseTtl, "leaseTtl", 5_000, { min: 100, max: 3_600_000 });
  const maxRefresh = Math.floor(leaseTtl / 2);
  const leaseRefresh = integerOption(options.leaseRefresh, "leaseRefresh", Math.floor(leaseTtl / 3), {
    min: 10,
    max: maxRefresh,
    maxName: "floor(leaseTtl / 2)",
  });
  const startTimeout = integerOption(options.startTimeout, "startTimeout", 10_000, { min: 100, max: 3_600_000 });
  const maxPendingPresence = integerOption(options.maxPendingPresence, "maxPendingPresence", 10_000, { min: 0, max: 1_000_000 });
  const syncChunk = integerOption(options.syncChunk, "syncChunk", 1_000, { min: 1, max: 100_000 });
  const logger = options.logger;
  if (logger !== undefined && (typeof logger !== "object" || logger === null || typeof logger.warn !== "function")) {
    throw new TypeError("logger must be an object with debug/info/warn/error methods");
  }
  return { redis, prefix, leaseTtl, leaseRefresh, startTimeout, maxPendingPresence, syncChunk, logger };
}
