// Import direction and cycle check (run by `npm test`, scripts/test.sh):
//
//   bash scripts/check-imports.sh (codec, client, server, metrics and cli sources)
//
// The server reads top-down, and imports only go down:
//
//   admin      admin/: the @hb/server/admin subpath (AdminServer); it uses a
//              server through its public API (the facade, ports and
//              registry types, telemetry), and nothing imports it
//   facade     index.ts, internal.ts, redis.ts, memory.ts, auth.ts, bus.ts, heartbeat-server.ts, worker-main.ts
//   core       core/*.ts: the wiring (ServerCore), nothing else imports it
//   parts      auth/ liveness/ session/ transport/ proxy/ gateway/ presence/ routing/ bus/ workers/
//   options    options/: the option table, its validation, the live options
//   ports      core/ports/: the narrow interfaces the parts use instead of
//              the core (Clock, EventSink, NodeDirectory, BusLink, …)
//   registry   registry/: the node registry and node-level rules
//   telemetry  telemetry/: plain counters and samplers (RTT histogram,
//              process sampler); imports nothing of the server
//   codec      @hb/codec: every byte of the wire
//
// Parts may use each other, never in a cycle. No cycle anywhere, type-only
// imports included (tsPreCompilationDeps). @hb/codec imports neither the
// server nor the client; the client does not import the server.
const S = "^packages/server/src/";
const ADMIN = `${S}admin/`;
const FACADE = `${S}(index|internal|redis|memory|auth|bus|heartbeat-server|worker-main)\\.ts$`;
const CORE = `${S}core/[^/]+\\.ts$`;
const PARTS = `${S}(auth|liveness|session|transport|proxy|gateway|presence|routing|bus|workers)/`;
const OPTIONS = `${S}options/`;
const PORTS = `${S}core/ports/`;
const REGISTRY = `${S}registry/`;
const TELEMETRY = `${S}telemetry/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "No import cycle, type-only imports included.",
      from: {},
      to: { circular: true },
    },
    {
      name: "nothing-imports-the-facade",
      severity: "error",
      comment: "Only the entry points (facade) and the admin endpoint above them import the facade.",
      from: { path: S, pathNot: [FACADE, ADMIN] },
      to: { path: FACADE },
    },
    {
      name: "nothing-imports-admin",
      severity: "error",
      comment: "The admin endpoint is a subpath of its own, on top: the server does not depend on it.",
      from: { path: S, pathNot: ADMIN },
      to: { path: ADMIN },
    },
    {
      name: "admin-uses-the-public-api",
      severity: "error",
      comment: "The admin endpoint observes a server through its public API, never through the core, the parts or the options.",
      from: { path: ADMIN },
      to: { path: [CORE, PARTS, OPTIONS] },
    },
    {
      name: "only-the-facade-imports-the-core",
      severity: "error",
      comment: "The core's wiring is reached from the facade only; parts use its ports.",
      from: { path: S, pathNot: [FACADE, CORE] },
      to: { path: CORE },
    },
    {
      name: "options-below-the-parts",
      severity: "error",
      comment: "Options are read by the parts and the core; they import neither.",
      from: { path: OPTIONS },
      to: { path: [PARTS, CORE, FACADE] },
    },
    {
      name: "ports-below-the-parts",
      severity: "error",
      comment: "Ports are interfaces: they import only the registry and the codec.",
      from: { path: PORTS },
      to: { path: [PARTS, CORE, FACADE, OPTIONS] },
    },
    {
      name: "registry-at-the-bottom",
      severity: "error",
      comment: "The registry imports only the codec.",
      from: { path: REGISTRY },
      to: { path: [PARTS, CORE, FACADE, OPTIONS, PORTS] },
    },
    {
      name: "telemetry-at-the-bottom",
      severity: "error",
      comment: "Telemetry (counters, samplers) imports nothing of the server: the ports' counters use it.",
      from: { path: TELEMETRY },
      to: { path: S, pathNot: TELEMETRY },
    },
    {
      name: "codec-imports-no-sdk",
      severity: "error",
      from: { path: "^packages/codec/" },
      to: { path: "^packages/(server|client)/" },
    },
    {
      name: "client-imports-no-server",
      severity: "error",
      from: { path: "^packages/client/" },
      to: { path: "^packages/server/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(dist|gen)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "types", "default"] },
  },
};
