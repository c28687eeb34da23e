/**
 * @hb/server/redis: the Redis bus, for several hb servers forming one bus
 * through Redis. Kept apart from the main entry so that `ioredis` (an
 * optional peer dependency of @hb/server) is loaded only by those who use it:
 * `npm i ioredis` next to @hb/server, then
 *
 * ```ts
 * import { HeartbeatServer } from "@hb/server";
 * import { RedisBus } from "@hb/server/redis";
 *
 * const server = new HeartbeatServer({ port: 9501, bus: new RedisBus({ redis: "redis://127.0.0.1:6379" }) });
 * ```
 *
 * @packageDocumentation
 */
export { RedisBus } from "./bus/redis-bus.js";
export { type RedisBusOptions, type ResolvedRedisBusOptions, resolveRedisBusOptions } from "./bus/redis-bus-options.js";
