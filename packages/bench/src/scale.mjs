// bench:scale — N real TCP nodes against the default hb server (issue 13).
//
//   pnpm bench:scale                                   # 100,000 nodes (builds first)
//   node packages/bench/src/scale.mjs --nodes 20000 --steps 4
//   node packages/bench/src/scale.mjs --nodes 30000 --server '{"workerCount":1}'
//   node packages/bench/src/scale.mjs --node .tools/node22/node_modules/node/bin/node   # server on another Node
//
// Options (default): --nodes (100000), --steps (5: fleet sizes measured),
// --interval (10000 ms between a node's heartbeats), --samplers (50),
// --sample-interval (1000 ms), --window (the interval: measurement per step),
// --per-process (12500 nodes per load process), --concurrency (1000 connects
// in flight per load process), --rate (0: connects/s in all, 0 = as fast as
// they go), --server ('{}': HeartbeatServer options), --server-env ('{}'),
// --node (the Node binary of the server), --no-restart, --deadline (1800 s),
// --chart (docs/bench-scale.svg), --json (.cache/bench-scale.json), --label.
//
// What it does, each phase bounded in time:
//  1. Starts the server in its own process (hb-server.mjs: `new HeartbeatServer()`
//     with its defaults, on 127.0.0.1 and a fixed free port). The defaults mean
//     one worker per core; when that many processes cannot hold the fleet
//     within the per-process file limit, workerCount is raised (and said so).
//  2. Starts --samplers real HeartbeatClients (@hb/client, heartbeat every
//     --sample-interval ms) whose Heartbeat/Ack round trips are the "live RTT".
//  3. Ramps the fleet in --steps equal steps of raw load clients
//     (fleet-client.mjs: Hello, then a Heartbeat every --interval ms at each
//     node's own phase) spread over processes and source addresses. At each
//     step, once every node is registered: a --window of measurement (RTT of
//     samplers and fleet, server CPU per heartbeat), then the RSS of every
//     server process (from /proc).
//  4. Restarts the server (graceful close: GoAway, then a new server process
//     on the same port) and measures how long the whole fleet takes to come
//     back: the samplers reconnect by themselves, the raw clients with the
//     same full-jitter backoff (`backoffDelay` of @hb/client, default base and
//     cap), and the peak accept rate.
//  5. Prints the results (a Markdown table too), writes them as JSON to
//     --json (default .cache/bench-scale.json) and the chart (RSS and RTT
//     against fleet size) to --chart (default docs/bench-scale.svg).
//
// Every error a load client sees is counted by phase (connect, handshake =
// after TCP connect and before Welcome, established) and code; a refusal
// (fatal ProtocolError) by its code. "Lost" = everything but the connection
// refusals of a server that is down during the restart.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { printUsage } from "./usage.mjs";
import { CLIENT_DEFAULTS } from "@hb/client";
import { Fleet, sumCounters } from "./load/fleet.mjs";
import { LoadProcess, mergedHistogram } from "./load/load-process.mjs";
import { treeUsage } from "./proc/process-tree.mjs";
import { describeMachine, fileLimit } from "./report/machine.mjs";
import { rttSummary } from "./report/rtt-summary.mjs";
import { countOf, errorsText, fmt, hardDeadline, mib, progressLog } from "./report/run-console.mjs";
import { scaleChart } from "./report/scale-chart.mjs";
import { freePort } from "./servers/free-port.mjs";
import { HbServerProcess } from "./servers/hb-server-process.mjs";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const { values: a } = parseArgs({
  options: {
    help: { type: "boolean", default: false },
    nodes: { type: "string", default: "100000" },
    steps: { type: "string", default: "5" },
    interval: { type: "string", default: "10000" },
    samplers: { type: "string", default: "50" },
    "sample-interval": { type: "string", default: "1000" },
    window: { type: "string" },
    "per-process": { type: "string", default: "12500" },
    concurrency: { type: "string", default: "1000" },
    rate: { type: "string", default: "0" },
    server: { type: "string", default: "{}" },
    "server-env": { type: "string", default: "{}" },
    node: { type: "string" },
    restart: { type: "boolean", default: true },
    "no-restart": { type: "boolean", default: false },
    deadline: { type: "string", default: "1800" },
    chart: { type: "string", default: path.join(root, "docs/bench-scale.svg") },
    json: { type: "string", default: path.join(root, ".cache/bench-scale.json") },
    label: { type: "string", default: "" },
  },
});
if (a.help) printUsage(import.meta.url);
const NODES = Number(a.nodes);
const STEPS = Math.max(1, Number(a.steps));
const INTERVAL = Number(a.interval);
const SAMPLERS = Number(a.samplers);
const WINDOW = Number(a.window ?? INTERVAL);
const PER_PROCESS = Number(a["per-process"]);
const RESTART = a.restart && !a["no-restart"];
const DEADLINE = Date.now() + Number(a.deadline) * 1000;
const serverOptions = JSON.parse(a.server);
const RECONNECT = { base: CLIENT_DEFAULTS.reconnectInterval, cap: CLIENT_DEFAULTS.maxReconnectDelay };

hardDeadline("bench:scale", DEADLINE);
const log = progressLog();

// ── the server ────────────────────────────────────────────────────────────
const limit = fileLimit();
const cores = os.availableParallelism();
if (serverOptions.workerCount === undefined) {
  // Each process holds its connections' files; leave room for its own.
  const needed = Math.ceil((NODES + SAMPLERS) / (limit - 2_000));
  if (needed > cores) {
    serverOptions.workerCount = needed;
    log(`the default workerCount (${cores}, one per core) cannot hold ${fmt(NODES)} nodes within the file limit of ${limit} per process: workerCount ${needed}`);
  }
}
const workers = serverOptions.workerCount ?? cores;
const port = await freePort();
mkdirSync(path.join(root, ".cache"), { recursive: true });
const serverLog = a.json.replace(/\.json$/, "") + ".server.log";
writeFileSync(serverLog, ""); // this run's servers append to it
const startServer = () =>
  HbServerProcess.start({
    options: { ...serverOptions, port },
    execPath: a.node,
    env: JSON.parse(a["server-env"]),
    log: serverLog,
  });
let server = await startServer();
log(`server pid ${server.pid} on 127.0.0.1:${port}, ${workers > 1 ? `${workers} worker processes` : "one process"}; its log: ${path.relative(root, serverLog)}`);
await sleep(2_000);
// Idle cost: what the listening server spends without any node (timers, stats), to tell the marginal cost of a heartbeat.
const idle0 = treeUsage(server.pid);
await sleep(5_000);
const baseline = treeUsage(server.pid);
const idleCpuPerMs = (baseline.cpuMs - idle0.cpuMs) / 5_000;
log(`listening baseline: RSS ${mib(baseline.rss).toFixed(1)} MiB in ${baseline.processes.length} processes, idle CPU ${(idleCpuPerMs * 100).toFixed(1)} % of a core`);

// ── samplers and fleet ────────────────────────────────────────────────────
const samplers = new LoadProcess(fileURLToPath(new URL("./load/hb-sampler.mjs", import.meta.url)), {
  port,
  count: SAMPLERS,
  interval: Number(a["sample-interval"]),
  prefix: "sampler",
  deadlineMs: DEADLINE - Date.now(),
});
const fleets = [];
const fleetTotals = () => sumCounters(fleets.map((f) => f.totals()));
let fleetTarget = 0;
let subnet = 1;

const usageLine = () => {
  const u = treeUsage(server.pid);
  const parts = u.processes.map((p, i) => `${i === 0 ? "primary" : `w${i}`} ${mib(p.rss).toFixed(0)}M/${fmt(p.fds)}fd`);
  return { u, text: `server RSS ${mib(u.rss).toFixed(0)} MiB (${parts.join(", ")})` };
};

/** Polls every second until `done()` or `ms` pass; prints progress; returns per-second samples. */
async function watch(what, ms, done) {
  const samples = [];
  const until = Math.min(Date.now() + ms, DEADLINE);
  let last = { t: performance.now(), ready: fleetTotals().readyTotal ?? 0, tcp: fleetTotals().tcpConnected ?? 0, conns: undefined };
  for (;;) {
    await sleep(1_000);
    const t = fleetTotals();
    const s = samplers.counters;
    const st = await server.stats();
    const now = performance.now();
    const dt = (now - last.t) / 1000;
    const sample = {
      at: now,
      ready: t.ready ?? 0,
      registrationsPerS: ((t.readyTotal ?? 0) - last.ready) / dt,
      connectsPerS: ((t.tcpConnected ?? 0) - last.tcp) / dt,
      serverConnections: st?.connections,
      acceptsPerS: st !== undefined && last.conns !== undefined ? (st.connections - last.conns) / dt : undefined,
    };
    samples.push(sample);
    last = { t: now, ready: t.readyTotal ?? 0, tcp: t.tcpConnected ?? 0, conns: st?.connections };
    const { text } = usageLine();
    log(
      `${what}: ready ${fmt(sample.ready)}/${fmt(fleetTarget)} (+${fmt(sample.registrationsPerS)}/s), samplers ${s.ready ?? 0}/${SAMPLERS}, ` +
        `${errorsText(t)} | ${text}`,
    );
    if (done(t, s)) return { samples, ok: true };
    if (Date.now() >= until) return { samples, ok: false };
  }
}

await watch("samplers", 60_000, (_, s) => s.ready === SAMPLERS);

const rows = [];
let previous = 0;
let stepErrors = {};
for (let k = 1; k <= STEPS; k++) {
  const size = Math.round((NODES * k) / STEPS);
  const chunk = size - previous;
  previous = size;
  const processes = Math.max(1, Math.ceil(chunk / PER_PROCESS));
  const before = fleetTotals();
  fleetTarget = size;
  const fleet = new Fleet({
    protocol: "hb",
    wire: { interval: INTERVAL },
    port,
    nodes: chunk,
    processes,
    interval: INTERVAL,
    concurrency: Number(a.concurrency),
    rate: Number(a.rate),
    reconnect: RECONNECT,
    deadlineMs: DEADLINE - Date.now(),
    idPrefix: `s${k}p`,
    subnet,
  });
  subnet += processes;
  fleets.push(fleet);
  const rampCpu0 = { server: treeUsage(server.pid).cpuMs, clients: fleetTotals().cpuMs, at: performance.now() };
  const ramp = await watch(`step ${k}/${STEPS} ramp`, Math.max(120_000, chunk * 5), (t) => (t.ready ?? 0) >= size);
  const rampCpu = cpuShares(rampCpu0);
  // From the load processes' start to their last node's Welcome (0 while not every node is registered).
  const rampMs = ramp.ok ? fleet.totals().allReadyAt : Number.NaN;
  const after = fleetTotals();
  const errors = diffMaps(before, after);
  stepErrors = errors;
  if (!ramp.ok) log(`step ${k}: not every node registered within the step's deadline`);
  await sleep(2_000);
  // Measurement window.
  await Promise.all([mergedHistogram(fleets), samplers.histogram()]); // drop what came before
  const c0 = treeUsage(server.pid).cpuMs;
  const p0 = (fleetTotals().pongs ?? 0) + (samplers.counters.pongs ?? 0);
  const w0 = performance.now();
  const clientCpu0 = fleetTotals().cpuMs + cpuMs(samplers.counters);
  await watch(`step ${k}/${STEPS} window`, WINDOW, () => false);
  const windowMs = performance.now() - w0;
  const c1 = treeUsage(server.pid).cpuMs;
  const p1 = (fleetTotals().pongs ?? 0) + (samplers.counters.pongs ?? 0);
  const clientCpu1 = fleetTotals().cpuMs + cpuMs(samplers.counters);
  const [fleetHist, samplerHist] = await Promise.all([mergedHistogram(fleets), samplers.histogram()]);
  const u = treeUsage(server.pid);
  const st = await server.stats();
  const nodes = (fleetTotals().ready ?? 0) + (samplers.counters.ready ?? 0);
  const row = {
    step: k,
    target: size + SAMPLERS,
    nodes,
    registered: st?.nodes,
    rampMs,
    connectsPerS: chunk / (rampMs / 1000),
    peakRegistrationsPerS: Math.max(0, ...ramp.samples.map((x) => x.registrationsPerS)),
    lost: countOf(errors.errors) + countOf(errors.refused),
    errors,
    rssTotal: u.rss,
    rssPerProcess: u.processes.map((p) => ({ pid: p.pid, rss: p.rss, fds: p.fds })),
    perNode: (u.rss - baseline.rss) / nodes,
    // Marginal: RSS added since the previous step, per node added.
    marginalPerNode: rows.length === 0 ? (u.rss - baseline.rss) / nodes : (u.rss - (rows.at(-1)?.rssTotal ?? 0)) / (nodes - (rows.at(-1)?.nodes ?? 0)),
    primaryPerNode: ((u.processes[0]?.rss ?? 0) - (baseline.processes[0]?.rss ?? 0)) / nodes,
    samplerRtt: rttSummary(samplerHist),
    fleetRtt: rttSummary(fleetHist),
    heartbeats: p1 - p0,
    cpuPerHeartbeatUs: ((c1 - c0) * 1000) / Math.max(1, p1 - p0),
    // The same without the idle server's own CPU over the window.
    marginalCpuPerHeartbeatUs: ((c1 - c0 - idleCpuPerMs * windowMs) * 1000) / Math.max(1, p1 - p0),
    serverCpuPct: ((c1 - c0) / windowMs) * 100,
    clientCpuPct: ((clientCpu1 - clientCpu0) / windowMs) * 100,
    // While this step's nodes connected: is the load generator or the server the bottleneck?
    rampServerCpuPct: rampCpu.server,
    rampClientCpuPct: rampCpu.clients,
  };
  rows.push(row);
  log(
    `step ${k}: ${fmt(nodes)} nodes, RSS ${mib(row.rssTotal).toFixed(0)} MiB (${fmt(row.perNode)} B/node over the baseline), ` +
      `sampler RTT p50 ${row.samplerRtt.p50?.toFixed(2)} p99 ${row.samplerRtt.p99?.toFixed(2)} ms, ` +
      `${row.cpuPerHeartbeatUs.toFixed(1)} µs server CPU per heartbeat (${row.marginalCpuPerHeartbeatUs.toFixed(1)} over idle), lost ${fmt(row.lost)}`,
  );
  if (Date.now() > DEADLINE) break;
}

// ── restart ───────────────────────────────────────────────────────────────
let restart;
if (RESTART && Date.now() < DEADLINE) {
  const before = fleetTotals();
  const r0 = performance.now();
  log("restart: closing the server (GoAway, drain)…");
  const closeMs = await server.close();
  const downAt = performance.now();
  server = await startServer();
  const upAt = performance.now();
  log(`restart: closed in ${fmt(closeMs)} ms; new server pid ${server.pid} listening ${fmt(upAt - downAt)} ms later`);
  const backCpu0 = { server: treeUsage(server.pid).cpuMs, clients: fleetTotals().cpuMs, at: performance.now() };
  const back = await watch("restart", 300_000, (t, s) => (t.ready ?? 0) >= fleetTarget && s.ready === SAMPLERS);
  const backCpu = cpuShares(backCpu0);
  const backAt = performance.now();
  const after = fleetTotals();
  const errors = diffMaps(before, after);
  restart = {
    ok: back.ok,
    closeMs,
    downMs: upAt - downAt,
    backFromCloseMs: backAt - r0,
    backFromListenMs: backAt - upAt,
    back: (after.ready ?? 0) + (samplers.counters.ready ?? 0),
    of: fleetTarget + SAMPLERS,
    peakRegistrationsPerS: Math.max(0, ...back.samples.map((x) => x.registrationsPerS)),
    peakAcceptsPerS: Math.max(0, ...back.samples.map((x) => x.acceptsPerS ?? 0)),
    goAways: (after.goAways ?? 0) - (before.goAways ?? 0),
    serverCpuPct: backCpu.server,
    clientCpuPct: backCpu.clients,
    errors,
    // Refused connects while no server listens are the expected cost of a restart; the rest is lost.
    lost:
      countOf(errors.refused) +
      countOf(Object.fromEntries(Object.entries(errors.errors).filter(([k]) => !k.startsWith("connect:ECONNREFUSED") && !k.startsWith("established:")))),
  };
  log(
    `restart: ${fmt(restart.back)}/${fmt(restart.of)} back ${(restart.backFromCloseMs / 1000).toFixed(1)} s after the close began ` +
      `(${(restart.backFromListenMs / 1000).toFixed(1)} s after the new server listened); peak ${fmt(restart.peakAcceptsPerS)} accepts/s, ` +
      `${fmt(restart.peakRegistrationsPerS)} registrations/s; ${errorsText(errors)}`,
  );
}

// ── report ────────────────────────────────────────────────────────────────
const final = usageLine().u;
await Promise.all([...fleets.map((f) => f.stop()), samplers.stop()]);
await server.close();

const machine = describeMachine(a.node);
const result = {
  command: `node packages/bench/src/scale.mjs ${process.argv.slice(2).join(" ")}`.trim(),
  label: a.label,
  machine,
  at: new Date().toISOString(),
  nodes: NODES,
  samplers: SAMPLERS,
  interval: INTERVAL,
  serverOptions,
  workers,
  baseline: { rss: baseline.rss, processes: baseline.processes.map((p) => ({ pid: p.pid, rss: p.rss })) },
  steps: rows,
  restart,
  finalProcesses: final.processes.length,
};
mkdirSync(path.dirname(a.json), { recursive: true });
writeFileSync(a.json, `${JSON.stringify(result, null, 2)}\n`);

const ms2 = (v) => (v === undefined ? "n/a" : v.toFixed(2));
console.log(`\n## bench:scale ${a.label}\n\n${machine}; ${workers > 1 ? `${workers} worker processes` : "one process"}; heartbeat interval ${INTERVAL} ms; ${SAMPLERS} HeartbeatClient samplers at ${a["sample-interval"]} ms\n`);
console.log(`Listening baseline: RSS ${mib(baseline.rss).toFixed(1)} MiB (${baseline.processes.map((p) => mib(p.rss).toFixed(0)).join(" + ")}).\n`);
console.log(
  "| nodes | lost | step ramp (s) | connects/s | server RSS, MiB (primary + workers) | per node over baseline / marginal | RTT p50 / p99 (samplers, ms) | RTT p50 / p99 (fleet, ms) | server CPU / heartbeat (over idle) |",
);
console.log("|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(
    `| ${fmt(r.nodes)} | ${fmt(r.lost)} | ${(r.rampMs / 1000).toFixed(1)} | ${fmt(r.connectsPerS)} | ${mib(r.rssTotal).toFixed(0)} (${r.rssPerProcess.map((p) => mib(p.rss).toFixed(0)).join(" + ")}) | ` +
      `${fmt(r.perNode)} B / ${fmt(r.marginalPerNode)} B | ${ms2(r.samplerRtt.p50)} / ${ms2(r.samplerRtt.p99)} | ${ms2(r.fleetRtt.p50)} / ${ms2(r.fleetRtt.p99)} | ${r.cpuPerHeartbeatUs.toFixed(1)} µs (${r.marginalCpuPerHeartbeatUs.toFixed(1)} µs) |`,
  );
}
if (restart !== undefined) {
  console.log(
    `\nRestart: ${fmt(restart.back)}/${fmt(restart.of)} back in ${(restart.backFromCloseMs / 1000).toFixed(1)} s from the start of the close ` +
      `(${(restart.backFromListenMs / 1000).toFixed(1)} s from the new server's listen; close took ${(restart.closeMs / 1000).toFixed(1)} s); ` +
      `peak ${fmt(restart.peakAcceptsPerS)} accepts/s (server), ${fmt(restart.peakRegistrationsPerS)} registrations/s (clients); lost ${fmt(restart.lost)}; ${errorsText(restart.errors)}; ` +
      `CPU meanwhile: server ${restart.serverCpuPct.toFixed(0)} %, load clients ${restart.clientCpuPct.toFixed(0)} % of a core`,
  );
}
console.log(
  `CPU while the steps connected (% of a core): server ${rows.map((r) => r.rampServerCpuPct.toFixed(0)).join(" / ")}, ` +
    `load clients ${rows.map((r) => r.rampClientCpuPct.toFixed(0)).join(" / ")}.`,
);
console.log(`\nErrors of the last step: ${errorsText(stepErrors)}. JSON: ${path.relative(root, a.json)}`);

const chart = scaleChart([result]);
mkdirSync(path.dirname(a.chart), { recursive: true });
writeFileSync(a.chart, chart);
console.log(`Chart: ${path.relative(root, a.chart)}`);
process.exit(0);

function diffMaps(before, after) {
  const d = (b, x) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v - (b[k] ?? 0)]).filter(([, v]) => v !== 0));
  return { errors: d(before.errors ?? {}, after.errors), refused: d(before.refused ?? {}, after.refused) };
}
/** CPU used since `from` ({ server, clients, at }) by the server and the raw load clients, in % of one core. */
function cpuShares(from) {
  const ms = performance.now() - from.at;
  return {
    server: ((treeUsage(server.pid).cpuMs - from.server) / ms) * 100,
    clients: ((fleetTotals().cpuMs - from.clients) / ms) * 100,
  };
}
function cpuMs(c) {
  return c.cpu ? (c.cpu.user + c.cpu.system) / 1000 : 0;
}
