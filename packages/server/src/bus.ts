/**
 * @hb/server/bus: the port through which several hb servers form one bus,
 * for those who write a link of their own (the `bus` option of
 * {@link index!HeartbeatServerOptions}). Types only: nothing here is loaded at
 * run time. The links hb ships are `RedisBus` (`@hb/server/redis`, servers
 * on different hosts) and `MemoryBus` (`@hb/server/memory`, servers in one
 * process).
 *
 * A {@link BusLink} carries {@link BusEnvelope}s (messages, already encoded)
 * and {@link BusPresence} changes between members, keeps the directory of
 * every member's {@link BusNode}s, calls the server's {@link BusHandlers},
 * and reports its {@link BusHealth}.
 *
 * ```ts
 * import type { BusLink } from "@hb/server/bus";
 * import { MemoryBus } from "@hb/server/memory";
 *
 * const link: BusLink = new MemoryBus().link();
 * ```
 *
 * @packageDocumentation
 */
export type { BusEnvelope, BusHandlers, BusHealth, BusLink, BusNode, BusPresence } from "./core/ports/bus-link.js";
