import { EventEmitter } from "node:events";
import { FrameDecoder, encodeFrame, makeFrame } from "@hb/codec";
import { SILENT_LOGGER, ServerCore, ServerCounters, Session, type SessionTransport, resolveServerOptions } from "@hb/server/internal";

class T implements SessionTransport {
  remoteAddress = "10.0.0.1";
  writableLength = 0;
  s: Session | undefined;
  gone = false;
  write(_b: Uint8Array) {}
  end() { this.close(); }
  destroy() { this.close(); }
  close() { if (this.gone) return; this.gone = true; this.s?.transportClosed(); }
}
let now = 0;
const clock = { now: () => now, epoch: (m: number) => 1.7e12 + m };
const core = new ServerCore(resolveServerOptions({ workerCount: 1, logger: SILENT_LOGGER, heartbeatTimeout: 3000, heartbeatInterval: 1000, minHeartbeatInterval: 100, heartbeatCheckInterval: 250 }), new EventEmitter(), new ServerCounters(), clock);
// a presence watcher
const wt = new T(); const w = new Session(core.sessions, wt, 0, () => {}); wt.s = w;
w.receive(encodeFrame(makeFrame("hello", { protocolVersion: 1, nodeId: "watcher" })));
w.receive(encodeFrame(makeFrame("subscribe", { requestId: 1, subject: "$hb.presence", queueSize: 100 })));
const gc = (globalThis as any).gc;
let id = 0;
const silent: T[] = [];
for (let round = 0; round <= 10; round++) {
  for (let i = 0; i < 5000; i++) {
    const t = new T(); const s = new Session(core.sessions, t, ++id, () => {}); t.s = s;
    s.receive(encodeFrame(makeFrame("hello", { protocolVersion: 1, nodeId: `n-${id}`, labels: { zone: `z${id % 10}` } })));
    const k = id % 3;
    if (k === 0) { s.receive(encodeFrame(makeFrame("goodbye", { reason: "x" }))); t.close(); }
    else if (k === 1) { t.close(); }
    else silent.push(t);
    w.receive(encodeFrame(makeFrame("heartbeat", { seq: BigInt(id) })));
    now += 1;
    core.tick(now);
  }
  now += 5000; w.receive(encodeFrame(makeFrame("heartbeat", { seq: 1n }))); core.tick(now);
  for (const t of silent.splice(0)) t.close();
  await new Promise((r) => setImmediate(r));
  gc(); gc();
  console.log(round, `nodes ${core.size}`, `heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(2)} MiB`);
}
