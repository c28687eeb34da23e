// Liveness benchmark of @hb/server at 1,000,000 gateway nodes.
//
//   cd packages/server && npx tsup && node --expose-gc bench/liveness.bench.mjs [--nodes 1000000] [--gateways 10] [--detector fixed|phi] [--stalls 2]
//
// Drives real Sessions through HeartbeatServer.accept() with an in-memory
// transport (no sockets): real encoded frames in, replies discarded. Reports
//   1. bytes per gateway node (heap + typed arrays, after GC),
//   2. heartbeats (batch-refreshed handles) processed per second on one core,
//      decoding included,
//   3. detection error of the liveness wheel: nodeTimeout time minus
//      (last heard + heartbeatTimeout), for 1/gateways of the nodes that stop
//      being refreshed while the rest keep going; and how long after their
//      last refresh they were suspected (the detector's verdict: 1.5 ×
//      interval with "fixed", φ ≥ 8 with "phi");
//   4. false positives under injected server stalls: the event loop is
//      blocked (busy-wait) for 1.5 × heartbeatTimeout, `--stalls` times,
//      while every remaining gateway keeps refreshing its nodes; any
//      nodeSuspect / nodeTimeout then is a false verdict (must be 0).
import { FrameEncoder, encodeFrame, makeFrame } from "@hb/codec";
import { HeartbeatServer } from "../dist/index.js";
import { processSlicer } from "../dist/internal.js";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const NODES = arg("nodes", 1_000_000);
const DETECTOR = process.argv.includes("--detector") ? process.argv[process.argv.indexOf("--detector") + 1] : "fixed";
const STALLS = arg("stalls", 2);
const GATEWAYS = arg("gateways", 10);
const PER_GATEWAY = Math.floor(NODES / GATEWAYS);
const INTERVAL = 2_000;
const TIMEOUT = 5_000;
const CHECK = 1_000;

if (typeof globalThis.gc !== "function") {
  console.error("run with node --expose-gc");
  process.exit(1);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const turn = () => new Promise((r) => setImmediate(r));
// Input a session received after its turn's budget was spent is held and handled in later slices of the
// process's TurnSlicer: wait until all of it is handled before reading the clock or the registry.
const drained = () => new Promise((r) => processSlicer().whenIdle(r));
async function settle() {
  for (let i = 0; i < 3; i++) {
    await turn();
    globalThis.gc();
  }
}
const mem = () => {
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers, external: m.external };
};

/** A transport that discards what is written. */
class NullTransport {
  remoteAddress = "10.0.0.1";
  writableLength = 0;
  bytes = 0;
  write(b) {
    this.bytes += b.length;
  }
  end() {}
  destroy() {}
}

const server = new HeartbeatServer({
  workerCount: 1, // in-process: the bench drives sessions directly
  heartbeatInterval: INTERVAL,
  heartbeatTimeout: TIMEOUT,
  heartbeatCheckInterval: CHECK,
  failureDetector: DETECTOR,
  closeTimeout: 0,
  rateLimit: { framesPerSecond: 1_000_000_000, burst: 1_000_000_000 },
});

const handles = Array.from({ length: PER_GATEWAY }, (_, i) => i + 1);
const batchAll = encodeFrame(makeFrame("batchHeartbeat", { all: true }));
const batchListed = encodeFrame(makeFrame("batchHeartbeat", { handles }));
const batchNone = encodeFrame(makeFrame("batchHeartbeat", { handles: [] }));

// Gateways heartbeat on their own timer whatever the server is doing: while nodes are attached, and while the
// bench waits for the server to read all it was sent (seconds: input beyond a turn's budget is read in later
// turns), every gateway attached so far refreshes all its nodes every interval / 2. Without it a gateway whose
// input was all read went silent for longer than the timeout while the others' was still being read.
const sessions = [];
let keepAlive;
const keepAttachedAlive = () => {
  keepAlive = setInterval(() => {
    for (const s of sessions) s.receive(batchAll);
  }, INTERVAL / 2);
};

// ------------------------------------------------------------------ memory
await settle();
const before = mem();
const t0 = performance.now();
keepAttachedAlive();
for (let g = 0; g < GATEWAYS; g++) {
  const session = server.accept(new NullTransport());
  session.receive(encodeFrame(makeFrame("hello", { protocolVersion: 1, nodeId: `gateway-${g}` })));
  sessions.push(session);
  for (let start = 1; start <= PER_GATEWAY; start += 4096) {
    const enc = new FrameEncoder();
    for (let h = start; h < start + 4096 && h <= PER_GATEWAY; h++) {
      enc.add(
        makeFrame("attach", {
          handle: h,
          nodeId: `gw${g}-node-${String(h).padStart(7, "0")}`,
          labels: { region: `r${h % 4}`, tier: `t${(h >> 2) % 4}` },
        }),
      );
    }
    session.receive(enc.finish());
    await turn();
  }
}
await drained();
const attachMs = performance.now() - t0;
clearInterval(keepAlive);
await settle();
const after = mem();
const registered = server.count();
const heapPerNode = (after.heap - before.heap) / registered;
const buffersPerNode = (after.buffers - before.buffers) / registered;

// -------------------------------------------------------------- throughput
const ROUNDS = 5;
const cpu0 = process.cpuUsage();
const w0 = performance.now();
for (let r = 0; r < ROUNDS; r++) for (const s of sessions) s.receive(batchListed);
await drained();
const listedMs = performance.now() - w0;
const cpu1 = process.cpuUsage(cpu0);
await turn();
const w1 = performance.now();
for (let r = 0; r < ROUNDS; r++) for (const s of sessions) s.receive(batchAll);
await drained();
const allMs = performance.now() - w1;
const refreshed = ROUNDS * GATEWAYS * PER_GATEWAY;
const listedRate = refreshed / (listedMs / 1000);
const allRate = refreshed / (allMs / 1000);
const cpuRate = refreshed / ((cpu1.user + cpu1.system) / 1e6);

// ----------------------------------------------------------------- warm-up
// The throughput rounds above refreshed every node back to back, which the phi detector would take for each
// node's rhythm. Gateway 0 (the one whose nodes go silent below) detaches and attaches its nodes again, so their
// history starts afresh; then 16 refreshes of every node at interval / 2 (the fixed detector does not care).
keepAttachedAlive();
sessions[0].receive(encodeFrame(makeFrame("detach", { handles })));
for (let start = 1; start <= PER_GATEWAY; start += 4096) {
  const enc = new FrameEncoder();
  for (let h = start; h < start + 4096 && h <= PER_GATEWAY; h++) {
    enc.add(makeFrame("attach", { handle: h, nodeId: `gw0-node-${String(h).padStart(7, "0")}`, labels: { region: `r${h % 4}`, tier: `t${(h >> 2) % 4}` } }));
  }
  sessions[0].receive(enc.finish());
  await turn();
}
await drained();
clearInterval(keepAlive);
for (let i = 0; i < 16; i++) {
  for (const s of sessions) s.receive(batchListed);
  await sleep(INTERVAL / 2);
}

// --------------------------------------------------------------- detection
// Gateway 0 keeps its connection alive but stops listing its handles, after
// a last refresh spread over one second (20 slices, 50 ms apart) so that the
// deadlines fall at every phase of the wheel's tick. The other gateways keep
// refreshing theirs every interval / 2.
const errors = [];
let suspects = 0;
const suspectAfter = [];
server.on("nodeSuspect", (e) => {
  suspects++;
  suspectAfter.push(e.time - e.lastHeardAt);
});
server.on("nodeTimeout", (e) => errors.push(e.time - e.lastHeardAt - TIMEOUT));
for (const s of sessions) s.receive(batchListed);
const SLICES = 20;
const sliceSize = Math.ceil(PER_GATEWAY / SLICES);
for (let k = 0; k < SLICES; k++) {
  const slice = encodeFrame(makeFrame("batchHeartbeat", { handles: handles.slice(k * sliceSize, (k + 1) * sliceSize) }));
  setTimeout(() => sessions[0].receive(slice), k * 50);
}
const stopAt = performance.now();
let tickMax = 0;
const refreshing = setInterval(() => {
  const t = performance.now();
  sessions[0].receive(batchNone);
  for (let g = 1; g < GATEWAYS; g++) sessions[g].receive(batchListed);
  tickMax = Math.max(tickMax, performance.now() - t);
}, INTERVAL / 2);
// Measure event-loop lag meanwhile (how late timers fire).
let lagMax = 0;
let expected = performance.now() + 50;
const lagTimer = setInterval(() => {
  const now = performance.now();
  lagMax = Math.max(lagMax, now - expected);
  expected = now + 50;
}, 50);
while (errors.length < PER_GATEWAY && performance.now() - stopAt < TIMEOUT + 10 * CHECK) await sleep(100);
await sleep(CHECK * 2); // nobody else may time out
clearInterval(refreshing);
clearInterval(lagTimer);
const timedOut = errors.length;
errors.sort((a, b) => a - b);
const pct = (p) => errors[Math.min(errors.length - 1, Math.floor((p / 100) * errors.length))] ?? Number.NaN;
const stillOnline = server.count({ state: "online" });
const suspectsSeen = suspects;

suspectAfter.sort((a, b) => a - b);
const spct = (p) => suspectAfter[Math.min(suspectAfter.length - 1, Math.floor((p / 100) * suspectAfter.length))] ?? Number.NaN;

// ----------------------------------------------------------------- stalls
// Every remaining gateway refreshes its nodes every interval / 2; the loop is blocked for 1.5 × timeout, STALLS times.
const falseVerdicts = { suspect: 0, timeout: 0 };
const countSuspect = () => falseVerdicts.suspect++;
const countTimeout = () => falseVerdicts.timeout++;
server.on("nodeSuspect", countSuspect);
server.on("nodeTimeout", countTimeout);
const refresh = setInterval(() => {
  sessions[0].receive(batchNone); // gateway 0 itself stays (its attached nodes timed out above)
  for (let g = 1; g < GATEWAYS; g++) sessions[g].receive(batchListed);
}, INTERVAL / 2);
const stallMs = Math.round(1.5 * TIMEOUT);
const stats0 = server.stats().liveness;
for (let i = 0; i < STALLS; i++) {
  await sleep(INTERVAL);
  const until = performance.now() + stallMs;
  while (performance.now() < until) {
    // the server cannot run: no refresh is read, no check runs
  }
  await sleep(TIMEOUT + 2 * CHECK); // the server judges again meanwhile
}
clearInterval(refresh);
const stats1 = server.stats().liveness;

await server.close();

// ------------------------------------------------------------------ report
const fmt = (n, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const rows = [
  ["nodes registered (gateway nodes + gateways)", fmt(registered)],
  ["attach time (in-process, decode included)", `${fmt(attachMs)} ms (${fmt(registered / (attachMs / 1000))}/s)`],
  ["bytes per node: heap", fmt(heapPerNode, 1)],
  ["bytes per node: typed arrays (ArrayBuffers)", fmt(buffersPerNode, 1)],
  ["bytes per node: total (target ≤ 300)", fmt(heapPerNode + buffersPerNode, 1)],
  ["heartbeats/s, BatchHeartbeat listing handles (wall)", fmt(listedRate)],
  ["heartbeats/s, same, per CPU-second", fmt(cpuRate)],
  ["heartbeats/s, BatchHeartbeat all=true (wall)", fmt(allRate)],
  [`nodes stopped / timed out`, `${fmt(PER_GATEWAY)} / ${fmt(timedOut)}`],
  ["detection error p50 / p99 / max (target ≤ 1 000 ms)", `${fmt(pct(50))} / ${fmt(pct(99))} / ${fmt(errors.at(-1) ?? Number.NaN)} ms`],
  ["still online (others kept refreshing)", fmt(stillOnline)],
  ["suspect events during detection (the stopped nodes)", fmt(suspectsSeen)],
  ["longest refresh round (9 × 100k handles) / timer lag max", `${fmt(tickMax)} ms / ${fmt(lagMax)} ms`],
  [`suspected after last refresh p50 / p99 (${DETECTOR})`, `${fmt(spct(50))} / ${fmt(spct(99))} ms`],
  [`false verdicts under ${STALLS} stalls of ${fmt(stallMs)} ms (target 0)`, `${falseVerdicts.suspect} suspect, ${falseVerdicts.timeout} timeout`],
  ["stalls seen by the liveness timer / stalled time", `${stats1.stalls - stats0.stalls} / ${fmt(stats1.stalledMs - stats0.stalledMs)} ms`],
];
const w = Math.max(...rows.map((r) => r[0].length));
console.log(`\n@hb/server liveness bench — ${fmt(NODES)} gateway nodes on ${GATEWAYS} gateways, detector ${DETECTOR}, interval ${INTERVAL} ms, timeout ${TIMEOUT} ms, tick ${CHECK} ms, node ${process.version}\n`);
for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
console.log("");
