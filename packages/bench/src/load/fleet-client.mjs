// One load-client process of a fleet: opens `count` raw TCP connections
// (nodes) from its source addresses, says the protocol's hello, heartbeats
// every `interval` ms (each node at its own phase), times each heartbeat's
// answer, and counts everything that goes wrong by phase and code. Forked by
// the bench orchestrators (scale.mjs, peers.mjs); driven over IPC:
//
//   in:  { type: "start", spec }   see `spec` below
//        { type: "histogram" }     → { type: "histogram", encoded } (RTT, µs) and starts a new one
//        { type: "stop" }          destroys every socket and exits
//   out: { type: "progress", counters } every 500 ms
//
// Raw sockets and protocol bytes written by hand (the *-wire.mjs modules):
// one process holds up to ~19,000 nodes within the per-process file limit,
// for a few MB and a few % of a core at a 10 s interval (the client library
// of each protocol would cost more per node than the servers under test).
// Reconnects use the full-jitter backoff of @hb/client (`backoffDelay`, the
// same function HeartbeatClient uses), reset by a successful handshake.
import net from "node:net";
import { backoffDelay } from "@hb/client";
import hdr from "hdr-histogram-js";
import { newHistogram } from "./load-process.mjs";
import { hbWire } from "./hb-wire.mjs";
import { mqttWire } from "./mqtt-wire.mjs";
import { natsWire } from "./nats-wire.mjs";
import { socketioWire } from "./socketio-wire.mjs";

const IDLE = 0;
const CONNECTING = 1;
const HANDSHAKE = 2;
const READY = 3;
const WAITING = 4; // a reconnect is scheduled
const CLOSED = 5;

const TICK_MS = 100;

/** @param {string} name @param {object} o */
function wireOf(name, o) {
  if (name === "hb") return hbWire(o);
  if (name === "mqtt") return mqttWire(o);
  if (name === "nats") return natsWire(o);
  if (name === "socket.io") return socketioWire(o);
  throw new Error(`unknown protocol ${name}`);
}



/**
 * @param {{
 *   protocol: string, wire: object, host: string, port: number,
 *   count: number, sources: string[], interval: number,
 *   concurrency: number, rate: number, clientPings?: boolean,
 *   reconnect: { base: number, cap: number } | null, deadlineMs: number,
 * }} spec
 */
function run(spec) {
  const wire = wireOf(spec.protocol, { ...spec.wire, port: spec.port, interval: spec.interval });
  const n = spec.count;
  const state = new Uint8Array(n);
  const attempts = new Uint8Array(n);
  const sentAt = new Float64Array(n);
  const sockets = new Array(n);
  const queue = []; // nodes waiting to connect
  for (let i = n - 1; i >= 0; i--) queue.push(i);
  let inflight = 0;
  let stopping = false;
  let histogram = newHistogram();
  const c = {
    count: n,
    attempts: 0,
    tcpConnected: 0,
    ready: 0, // gauge
    readyTotal: 0,
    reconnects: 0,
    waiting: 0, // gauge: reconnect scheduled
    pings: 0,
    pongs: 0,
    serverPings: 0, // heartbeats driven by the server (Socket.IO), answered
    goAways: 0,
    errors: {}, // "phase:code" → count
    refused: {}, // reason → count
    allReadyAt: 0, // ms since start, first time every node was ready
    startedAt: Date.now(),
    cpu: process.cpuUsage(),
    rss: 0,
  };
  const t0 = performance.now();
  const count = (map, key) => {
    map[key] = (map[key] ?? 0) + 1;
  };

  const phaseOf = (s) => (s === CONNECTING ? "connect" : s === READY ? "established" : "handshake");

  // The connection of node i ended (error, close, refusal or GoAway): count, then reconnect or stay closed.
  const lost = (i, socket, what) => {
    if (sockets[i] !== socket) return; // an older socket of this node
    const s = state[i];
    if (s === READY) c.ready--;
    if (s === CONNECTING) inflight--;
    if (what !== undefined) count(c.errors, `${phaseOf(s)}:${what}`);
    sockets[i] = undefined;
    socket.destroy();
    if (stopping || spec.reconnect === null) {
      state[i] = CLOSED;
      return;
    }
    state[i] = WAITING;
    c.waiting++;
    const delay = backoffDelay(attempts[i], spec.reconnect.base, spec.reconnect.cap);
    if (attempts[i] < 60) attempts[i]++;
    setTimeout(() => {
      c.waiting--;
      if (stopping || state[i] !== WAITING) return;
      state[i] = IDLE;
      c.reconnects++;
      queue.push(i);
      pump();
    }, delay);
  };

  const open = (i) => {
    state[i] = CONNECTING;
    inflight++;
    c.attempts++;
    const socket = net.connect({ host: spec.host, port: spec.port, localAddress: spec.sources[i % spec.sources.length] });
    sockets[i] = socket;
    socket.setNoDelay(true);
    let why; // first error code seen on this socket
    const events = {
      ready() {
        if (sockets[i] !== socket || state[i] !== HANDSHAKE) return;
        state[i] = READY;
        attempts[i] = 0;
        c.ready++;
        c.readyTotal++;
        if (c.ready === n && c.allReadyAt === 0) c.allReadyAt = performance.now() - t0;
      },
      pong() {
        const at = sentAt[i];
        if (at > 0) {
          histogram.recordValue(Math.max(1, Math.round((performance.now() - at) * 1000)));
          sentAt[i] = 0;
        }
        c.pongs++;
      },
      refused(reason) {
        count(c.refused, reason);
        why = "refused";
        lost(i, socket, undefined);
      },
      goAway() {
        c.goAways++;
        lost(i, socket, undefined);
      },
      bad(reason) {
        why = `bad:${reason}`;
        lost(i, socket, why);
      },
      write(bytes) {
        if (!socket.destroyed) socket.write(bytes);
      },
      serverPing() {
        c.serverPings++;
      },
    };
    socket.on("connect", () => {
      if (sockets[i] !== socket) return;
      inflight--;
      c.tcpConnected++;
      state[i] = HANDSHAKE;
      const hello = wire.open(i);
      if (hello !== undefined) socket.write(hello);
      pump();
    });
    socket.on("data", wire.reader(events));
    socket.on("error", (err) => {
      why ??= err.code ?? err.message;
    });
    socket.on("close", () => {
      if (sockets[i] !== socket) return;
      lost(i, socket, why ?? "closed");
      pump();
    });
  };

  // Starts connects while below the concurrency and rate limits.
  let budget = spec.rate > 0 ? Math.max(1, spec.rate / 100) : Number.POSITIVE_INFINITY;
  const pump = () => {
    while (!stopping && queue.length > 0 && inflight < spec.concurrency && budget >= 1) {
      const i = queue.pop();
      if (state[i] !== IDLE) continue;
      if (spec.rate > 0) budget--;
      open(i);
    }
  };
  if (spec.rate > 0) {
    setInterval(() => {
      budget = Math.min(budget + spec.rate / 100, spec.rate / 10);
      pump();
    }, 10).unref();
  }
  pump();

  // Heartbeats: node i sends in slot i % slots of every interval.
  const slots = Math.max(1, Math.round(spec.interval / TICK_MS));
  let tick = 0;
  // Where the server drives the heartbeat (Socket.IO), only RTT samplers ping (spec.clientPings).
  if (spec.interval > 0 && (spec.clientPings ?? !wire.serverPings)) {
    setInterval(() => {
      const slot = tick++ % slots;
      const now = performance.now();
      for (let i = slot; i < n; i += slots) {
        if (state[i] !== READY) continue;
        const s = sockets[i];
        if (s.writableLength > 0) continue; // not even the last one left: do not pile up
        s.write(wire.ping);
        sentAt[i] = now;
        c.pings++;
      }
    }, TICK_MS).unref();
  }

  const progress = setInterval(() => {
    c.cpu = process.cpuUsage();
    c.rss = process.memoryUsage.rss();
    if (process.connected) process.send({ type: "progress", counters: c });
  }, 500);
  progress.unref();

  process.on("message", (m) => {
    if (m.type === "histogram") {
      const encoded = hdr.encodeIntoCompressedBase64(histogram);
      histogram = newHistogram();
      process.send({ type: "histogram", encoded });
    } else if (m.type === "stop") {
      stopping = true;
      for (const s of sockets) s?.destroy();
      c.cpu = process.cpuUsage();
      process.send({ type: "progress", counters: c }, () => process.exit(0));
    }
  });
}

process.once("message", (m) => {
  if (m.type !== "start") return;
  // A hard stop, whatever happens.
  setTimeout(() => {
    console.error("fleet-client: deadline reached, exiting");
    process.exit(3);
  }, m.spec.deadlineMs).unref();
  run(m.spec);
});
process.on("disconnect", () => process.exit(0));
