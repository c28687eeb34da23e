// bench:peers — the same idle fleet against hb, Mosquitto, NATS and
// Socket.IO, one after the other in one run (issue 13).
//
//   pnpm bench:peers                                  # 18,000 connections each (builds hb first)
//   node packages/bench/src/peers.mjs --nodes 10000 --only hb,nats
//
// Options (default): --nodes (18000), --interval (10000 ms), --samplers (50),
// --sample-interval (1000 ms), --window (20000 ms), --settle (5000 ms),
// --rate (2000 connects/s), --per-process (12500), --only (name prefixes,
// comma-separated: hb, mosquitto, nats, socket), --deadline (1800 s),
// --chart (docs/bench-peers.svg), --json (.cache/bench-peers.json).
//
// For each contender (servers/peer-servers.mjs says how each is started and
// why its settings are fair): start it alone on 127.0.0.1 (Mosquitto and
// nats-server are installed with apt-get if missing, Socket.IO comes from
// npm), measure its RSS listening, open --nodes idle connections from raw
// load clients (paced at --rate connections/s: this measures the idle
// fleet, not burst absorption, which bench:scale covers for hb) that
// heartbeat once per --interval with the protocol's own ping (hb Heartbeat /
// HeartbeatAck, MQTT PINGREQ / PINGRESP, NATS PING / PONG, Socket.IO:
// Engine.IO's server-driven ping), plus --samplers connections timing a
// ping every --sample-interval (Socket.IO: an emit with an ack). After a
// settling pause, a --window of measurement: ping RTT (p50/p99) of the
// samplers, server CPU per heartbeat, then the server's RSS (its whole
// process tree, from /proc). Memory per connection = (RSS with the fleet −
// RSS listening) / connections.
//
// The per-process file limit (20,000 here) bounds a single-process server's
// connections: the default fleet leaves room for the samplers and the
// servers' own files.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { printUsage } from "./usage.mjs";
import { Fleet } from "./load/fleet.mjs";
import { treeUsage } from "./proc/process-tree.mjs";
import { barChartSvg } from "./report/bar-chart-svg.mjs";
import { describeMachine } from "./report/machine.mjs";
import { rttSummary } from "./report/rtt-summary.mjs";
import { countOf, errorsText, fmt, hardDeadline, mib, progressLog } from "./report/run-console.mjs";
import { freePort } from "./servers/free-port.mjs";
import { PEERS } from "./servers/peer-servers.mjs";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const { values: a } = parseArgs({
  options: {
    help: { type: "boolean", default: false },
    nodes: { type: "string", default: "18000" },
    interval: { type: "string", default: "10000" },
    samplers: { type: "string", default: "50" },
    "sample-interval": { type: "string", default: "1000" },
    window: { type: "string", default: "20000" },
    settle: { type: "string", default: "5000" },
    rate: { type: "string", default: "2000" },
    "per-process": { type: "string", default: "12500" },
    only: { type: "string" },
    deadline: { type: "string", default: "1800" },
    chart: { type: "string", default: path.join(root, "docs/bench-peers.svg") },
    json: { type: "string", default: path.join(root, ".cache/bench-peers.json") },
  },
});
if (a.help) printUsage(import.meta.url);
const NODES = Number(a.nodes);
const INTERVAL = Number(a.interval);
const SAMPLERS = Number(a.samplers);
const WINDOW = Number(a.window);
const DEADLINE = Date.now() + Number(a.deadline) * 1000;
const only = a.only?.split(",").map((s) => s.trim().toLowerCase());
const peers = PEERS.filter((p) => only === undefined || only.some((o) => p.name.toLowerCase().startsWith(o)));

hardDeadline("bench:peers", DEADLINE);
const log = progressLog();

mkdirSync(path.join(root, ".cache"), { recursive: true });
const results = [];
for (const peer of peers) {
  if (Date.now() > DEADLINE) break;
  const port = await freePort();
  const serverLog = [];
  const logFile = path.join(root, `.cache/bench-peers-${peer.name.replace(/\W+/g, "-").toLowerCase()}.log`);
  writeFileSync(logFile, "");
  log(`${peer.name}: starting on 127.0.0.1:${port}`);
  const server = await peer.start({ port, interval: INTERVAL, log: serverLog, logFile });
  await sleep(2_000);
  const baseline = treeUsage(server.pid);
  const samplers = new Fleet({
    protocol: peer.protocol,
    wire: { interval: INTERVAL },
    port,
    nodes: SAMPLERS,
    processes: 1,
    interval: Number(a["sample-interval"]),
    clientPings: true,
    concurrency: 50,
    reconnect: null,
    deadlineMs: DEADLINE - Date.now(),
    idPrefix: "sampler",
    subnet: 250,
  });
  const fleet = new Fleet({
    protocol: peer.protocol,
    wire: { interval: INTERVAL },
    port,
    nodes: NODES,
    processes: Math.max(1, Math.ceil(NODES / Number(a["per-process"]))),
    interval: INTERVAL,
    concurrency: 500,
    rate: Number(a.rate),
    reconnect: null,
    deadlineMs: DEADLINE - Date.now(),
    idPrefix: "n",
    subnet: 1,
  });
  const until = Math.min(DEADLINE, Date.now() + Math.max(120_000, (NODES / Number(a.rate)) * 3_000));
  let all = false;
  const rampStart = performance.now();
  while (Date.now() < until) {
    await sleep(1_000);
    const t = fleet.totals();
    const s = samplers.totals();
    const u = treeUsage(server.pid);
    log(`${peer.name}: ready ${fmt(t.ready ?? 0)}/${fmt(NODES)}, samplers ${s.ready ?? 0}/${SAMPLERS}, ${errorsText(t)} | RSS ${mib(u.rss).toFixed(0)} MiB`);
    if ((t.ready ?? 0) === NODES && (s.ready ?? 0) === SAMPLERS) {
      all = true;
      break;
    }
    const closed = (t.ready ?? 0) + countOf(t.errors) + countOf(t.refused);
    if (closed >= NODES && (t.ready ?? 0) < NODES) break; // every node either ready or failed: no point waiting
  }
  const rampMs = performance.now() - rampStart;
  await sleep(Number(a.settle));
  await Promise.all([fleet.histogram(), samplers.histogram()]); // drop what came before
  const c0 = treeUsage(server.pid).cpuMs;
  const beats0 = fleet.totals();
  const samplerBeats0 = samplers.totals().pongs ?? 0;
  const w0 = performance.now();
  while (performance.now() - w0 < WINDOW) {
    await sleep(Math.min(5_000, WINDOW - (performance.now() - w0)));
    log(`${peer.name}: measuring (${((performance.now() - w0) / 1000).toFixed(0)}/${WINDOW / 1000} s)`);
  }
  const windowMs = performance.now() - w0;
  const c1 = treeUsage(server.pid).cpuMs;
  const beats1 = fleet.totals();
  const samplerBeats1 = samplers.totals().pongs ?? 0;
  const [fleetHist, samplerHist] = await Promise.all([fleet.histogram(), samplers.histogram()]);
  const u = treeUsage(server.pid);
  const t = fleet.totals();
  const s = samplers.totals();
  const connections = (t.ready ?? 0) + (s.ready ?? 0);
  // One heartbeat = one round trip: the fleet's (client pongs, or answered server pings for Socket.IO) and the samplers' pings.
  const heartbeats =
    (beats1.pongs ?? 0) - (beats0.pongs ?? 0) + ((beats1.serverPings ?? 0) - (beats0.serverPings ?? 0)) + (samplerBeats1 - samplerBeats0);
  const row = {
    name: peer.name,
    version: server.version,
    nodes: NODES,
    connections,
    all,
    rampMs,
    lost: countOf(t.errors) + countOf(t.refused) + countOf(s.errors) + countOf(s.refused),
    errors: { fleet: { errors: t.errors, refused: t.refused }, samplers: { errors: s.errors, refused: s.refused } },
    rssListening: baseline.rss,
    rss: u.rss,
    processes: u.processes.length,
    perConnection: (u.rss - baseline.rss) / Math.max(1, connections),
    samplerRtt: rttSummary(samplerHist),
    fleetRtt: rttSummary(fleetHist),
    heartbeats,
    cpuPerHeartbeatUs: heartbeats > 0 ? ((c1 - c0) * 1000) / heartbeats : undefined,
    serverCpuPct: ((c1 - c0) / windowMs) * 100,
    log: serverLog.join("").slice(-2_000),
  };
  results.push(row);
  log(
    `${peer.name}: ${fmt(connections)} connections, ${fmt(row.perConnection)} B each, ping RTT p50 ${row.samplerRtt.p50?.toFixed(2)} / p99 ${row.samplerRtt.p99?.toFixed(2)} ms, lost ${fmt(row.lost)}`,
  );
  await Promise.all([fleet.stop(), samplers.stop()]);
  await server.stop();
}

const machine = describeMachine();
const command = `node packages/bench/src/peers.mjs ${process.argv.slice(2).join(" ")}`.trim();
writeFileSync(a.json, `${JSON.stringify({ command, machine, at: new Date().toISOString(), nodes: NODES, interval: INTERVAL, samplers: SAMPLERS, results }, null, 2)}\n`);

const ms2 = (v) => (v === undefined ? "n/a" : v.toFixed(2));
console.log(`\n## bench:peers\n\n${machine}; ${fmt(NODES)} idle connections + ${SAMPLERS} samplers each; one heartbeat round trip per connection every ${INTERVAL / 1000} s; samplers ping every ${a["sample-interval"]} ms\n`);
console.log("| server | connections held | lost | RSS listening (MiB) | RSS with the fleet (MiB) | per connection | ping RTT p50 / p99 (ms) | server CPU per heartbeat | server CPU |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const r of results) {
  console.log(
    `| ${r.name} (${r.version}) | ${fmt(r.connections)} | ${fmt(r.lost)} | ${mib(r.rssListening).toFixed(1)} | ${mib(r.rss).toFixed(1)} | ${fmt(r.perConnection)} B | ` +
      `${ms2(r.samplerRtt.p50)} / ${ms2(r.samplerRtt.p99)} | ${r.cpuPerHeartbeatUs === undefined ? "n/a" : `${r.cpuPerHeartbeatUs.toFixed(1)} µs`} | ${r.serverCpuPct.toFixed(1)} % |`,
  );
}
for (const r of results) if (r.lost > 0) console.log(`\n${r.name}: ${errorsText(r.errors.fleet)}; samplers: ${errorsText(r.errors.samplers)}`);
console.log(`\nJSON: ${path.relative(root, a.json)}`);

const chart = barChartSvg({
  title: `Idle fleet of ${fmt(NODES)} connections, one heartbeat per ${INTERVAL / 1000} s`,
  note: `${command} — ${machine}`,
  names: results.map((r) => r.name),
  panels: [
    { label: "server memory per connection (KiB)", values: results.map((r) => (r.all ? r.perConnection / 1024 : undefined)), format: (v) => v.toFixed(1) },
    { label: "ping RTT p99 (ms)", values: results.map((r) => r.samplerRtt.p99), format: (v) => v.toFixed(2) },
  ],
});
mkdirSync(path.dirname(a.chart), { recursive: true });
writeFileSync(a.chart, chart);
console.log(`Chart: ${path.relative(root, a.chart)}`);
process.exit(0);
