// The witness nodes of the hostile battery, in a process of their own: what
// they measure is the server's answer time, not the attack code's work in
// the test process. Started by witness-fleet.ts with `--import tsx` and an
// IPC channel; WITNESS_PORT, WITNESS_COUNT and WITNESS_INTERVAL_MS in the
// environment. Heartbeats are staggered (a few witnesses every 10 ms), so
// that one scheduling hiccup touches a few samples, not all 50 at once.
// Times are absolute (performance.timeOrigin + performance.now()), so the
// test process can name windows in its own clock.
import { RawPeer } from "../raw-peer.js";

const port = Number(process.env.WITNESS_PORT);
const count = Number(process.env.WITNESS_COUNT ?? 50);
const interval = Number(process.env.WITNESS_INTERVAL_MS ?? 100);
const TICK_MS = 10;
const now = () => performance.timeOrigin + performance.now();

const peers = await Promise.all(Array.from({ length: count }, () => RawPeer.connect(port, { keep: false })));
await Promise.all(peers.map((p, i) => p.hello({ nodeId: `witness-${i}` })));
const samples: { at: number; rtt: number }[] = [];
const sentAt = peers.map(() => new Map<bigint, number>());
peers.forEach((p, i) => {
  const sent = sentAt[i] as Map<bigint, number>;
  p.onFrame = (f) => {
    if (f.body.case !== "heartbeatAck") return;
    const at = sent.get(f.body.value.seq);
    if (at === undefined) return;
    sent.delete(f.body.value.seq);
    samples.push({ at, rtt: now() - at });
  };
});
// Each tick heartbeats the next slice of witnesses: every witness once per interval.
const perTick = Math.max(1, Math.ceil((count * TICK_MS) / interval));
let next = 0;
const timer = setInterval(() => {
  const t = now();
  for (let k = 0; k < perTick; k++) {
    const i = next++ % count;
    const p = peers[i] as RawPeer;
    if (p.isClosed) continue;
    p.heartbeat();
    (sentAt[i] as Map<bigint, number>).set(p.seq, t);
  }
}, TICK_MS);

process.send?.({ ready: true });
process.on("message", (m: { cmd: string; from?: number; to?: number; before?: number }) => {
  if (m.cmd === "rtts") {
    const r = samples.filter((s) => s.at >= (m.from as number) && s.at < (m.to as number)).map((s) => s.rtt);
    process.send?.({ rtts: r });
  } else if (m.cmd === "status") {
    let unanswered = 0;
    for (const s of sentAt) for (const at of s.values()) if (at < (m.before as number)) unanswered++;
    const disturbed = peers.filter((p) => p.isClosed || p.count("error") > 0).length;
    process.send?.({ unanswered, disturbed });
  } else if (m.cmd === "stop") {
    clearInterval(timer);
    for (const p of peers) p.destroy();
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
