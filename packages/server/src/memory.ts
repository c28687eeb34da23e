/**
 * @hb/server/memory: the in-memory bus, for several hb servers in one
 * process (tests, simulations). Servers on different hosts use
 * `@hb/server/redis` instead.
 *
 * ```ts
 * import { HeartbeatServer } from "@hb/server";
 * import { MemoryBus } from "@hb/server/memory";
 *
 * const bus = new MemoryBus();
 * const a = new HeartbeatServer({ port: 0, workerCount: 1, bus: bus.link() });
 * const b = new HeartbeatServer({ port: 0, workerCount: 1, bus: bus.link() });
 * ```
 *
 * @packageDocumentation
 */
export { MemoryBus, type MemoryBusOptions, type MemoryLink } from "./bus/memory-bus.js";
