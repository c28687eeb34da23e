/**
 * @hb/server/admin: the admin HTTP endpoint of an hb server — Prometheus
 * `/metrics`, health and readiness probes, a JSON API over nodes and stats,
 * presence as Server-Sent Events, and a live dashboard. Needs `@hb/metrics`
 * (an optional peer dependency of @hb/server): `npm i @hb/metrics`.
 *
 * ```ts
 * import { HeartbeatServer } from "@hb/server";
 * import { AdminServer } from "@hb/server/admin";
 *
 * const server = new HeartbeatServer({ port: 9501 });
 * const admin = new AdminServer(server, { port: 9502 }); // 127.0.0.1 unless told otherwise
 * await server.listen();
 * await admin.listen(); // http://127.0.0.1:9502/ is the dashboard
 * ```
 *
 * @packageDocumentation
 */
export { AdminServer } from "./admin-server.js";
export { ADMIN_DEFAULTS, type AdminOptions, type ResolvedAdminOptions, resolveAdminOptions } from "./admin-options.js";
export { MAX_STREAM_BACKLOG, type PresenceMessage } from "./event-stream.js";
export type { LabelKeyCount, LabelValueCount } from "./label-tally.js";
export { NODE_LIMITS } from "./node-query.js";
export type { HistoryPoint } from "./stats-history.js";
