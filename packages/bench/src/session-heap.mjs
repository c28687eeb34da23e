// Heap per connection of hb's own objects (issue 13's memory budget), without sockets: --sessions sessions of
// the built server core (@hb/server/internal: ServerCore, Session) on a transport that only counts writes, each
// welcomed (Hello with one label, as bench:scale's fleet) and heartbeated once, then heap snapshots (full GC
// first) before and after, and the growth per session by constructor — arrays, strings, numbers and closures
// named after what holds them. What Node's sockets and streams add per connection is in heap.mjs (real TCP).
//
//   node --expose-gc packages/bench/src/session-heap.mjs [--sessions 20000] [--top 20]
//
// The Hellos arrive 500 at a time, more than one turn's work budget: most are held for a later turn, as in a
// reconnect storm, so what a connection keeps after its input was held shows too.
import { EventEmitter } from "node:events";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { writeHeapSnapshot } from "node:v8";
import { encodeFrame, makeFrame } from "@hb/codec";
import { ServerCore, ServerCounters, Session, processSlicer, resolveServerOptions } from "@hb/server/internal";
import { heapByConstructor, heapDiff } from "./heap/heap-by-constructor.mjs";
import { describeMachine } from "./report/machine.mjs";
import { printUsage } from "./usage.mjs";

const { values: a } = parseArgs({
  options: { help: { type: "boolean", default: false }, sessions: { type: "string", default: "20000" }, top: { type: "string", default: "20" } },
});
if (a.help) printUsage(import.meta.url);
if (globalThis.gc === undefined) throw new Error("run with node --expose-gc");
const N = Number(a.sessions);
const dir = path.join(fileURLToPath(new URL("../../..", import.meta.url)), ".cache/session-heap");
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

/** A transport that writes nowhere (counts), for sessions without sockets. */
class NullTransport {
  writableLength = 0;
  writes = 0;
  constructor(remoteAddress) {
    this.remoteAddress = remoteAddress;
  }
  write() {
    this.writes++;
  }
  pause() {}
  resume() {}
  end() {}
  destroy() {}
}
const clock = { now: () => performance.now(), epoch: (m) => Math.round(performance.timeOrigin + m) };
const core = new ServerCore(resolveServerOptions({ workerCount: 1 }), new EventEmitter(), new ServerCounters(), clock, () => 0);
const gone = () => {};
const drained = async () => {
  for (let i = 0; i < 1_000 && (i === 0 || processSlicer().backlogged); i++) await new Promise((r) => setImmediate(r));
};
const sessions = [];
const open = (nodeId) => {
  const k = sessions.length;
  const t = new NullTransport(`10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`);
  const s = new Session(core.sessions, t, k + 1, gone);
  s.receive(encodeFrame(makeFrame("hello", { protocolVersion: 1, nodeId, labels: { bench: "scale" }, heartbeatIntervalMs: 10_000 })));
  sessions.push(s);
};
const snapshot = (name) => {
  globalThis.gc();
  globalThis.gc();
  const used = process.memoryUsage().heapUsed;
  return { used, file: writeHeapSnapshot(path.join(dir, `${name}.heapsnapshot`)) };
};

for (let i = 0; i < 100; i++) open(`warm-${i}`); // code and caches warm before the first snapshot
await drained();
const before = snapshot("before");
for (let i = 0; i < N; i++) {
  open(`fleet-${i}`);
  if (i % 500 === 499) await drained();
}
await drained();
const heartbeat = encodeFrame(makeFrame("heartbeat", { seq: 1n }));
for (const s of sessions) s.receive(heartbeat);
await drained();
const after = snapshot("after");

const rows = heapDiff(heapByConstructor(before.file, { retainers: true }), heapByConstructor(after.file, { retainers: true }));
const total = rows.reduce((s, r) => s + r.size, 0);
console.log(`\n## hb's heap per session, no sockets: ${N} sessions\n\n${describeMachine()}\n`);
console.log(`heapUsed +${Math.round((after.used - before.used) / N)} B per session; snapshot growth +${Math.round(total / N)} B per session\n`);
console.log("| what (V8 type:constructor < held by) | count per session | bytes per session |");
console.log("|---|---|---|");
for (const r of rows.slice(0, Number(a.top))) {
  console.log(`| ${r.key.replace(/\|/g, "\\|")} | ${(r.count / N).toFixed(2)} | ${(r.size / N).toFixed(1)} |`);
}
