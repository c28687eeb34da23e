// Load generators of the routing benchmark, one process per scenario
// (forked by routing.bench.mjs, pinned to the core the server does not use).
//
//   node loadgen.mjs <scenario> '<json spec>'
//
// All of them use raw sockets (wire.mjs): frames pre-encoded once with
// @hb/codec, written in large batches, deliveries counted by scanning frame
// lengths. Publishers honour the server's flow-control window (Welcome
// initial_window + WindowUpdate). Closed-loop pacing (messages sent but not
// yet received ≤ a budget) keeps every queue below its limit, so what is
// measured is the rate the server sustains without dropping; the open-loop
// variant shows what happens without it.
//
// IPC to the orchestrator: { type: "mark", phase: "start" | "end" } around
// the measurement window (it snapshots the server's counters then), and one
// { type: "result", ... } at the end. Every loop is bounded in time.
import { readFileSync } from "node:fs";
import os from "node:os";
import { RawNode, payload, pool, repeatFrame, sleep, wire } from "./wire.mjs";

const [scenario, specJson] = process.argv.slice(2);
const spec = JSON.parse(specJson ?? "{}");
const PAYLOAD = payload(spec.payloadSize ?? 100);
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const hrMs = () => Number(process.hrtime.bigint()) / 1e6;
// Main thread: ns runnable but waiting for a CPU (Linux), to tell a starved load generator.
const runqueueNs = () => {
  try {
    return Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[1]);
  } catch {
    return 0;
  }
};

// A hard stop, whatever happens.
setTimeout(() => {
  console.error(`loadgen ${scenario}: hard deadline reached, exiting`);
  process.exit(3);
}, spec.deadlineMs ?? 120_000).unref();

function mark(phase) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m.type === "marked" && m.phase === phase) {
        process.off("message", on);
        resolve();
      }
    };
    process.on("message", on);
    if (process.connected) process.send({ type: "mark", phase });
    else process.exit(4);
  });
}

/** Warm up, then measure `count()` over the window; returns rate figures and loadgen CPU. */
async function measure(count, extra = () => ({})) {
  await sleep(spec.warmupMs ?? 1000);
  await mark("start");
  const c0 = count();
  const e0 = extra();
  const t0 = hrMs();
  const cpu0 = process.cpuUsage();
  const w0 = runqueueNs();
  await sleep(spec.measureMs ?? 5000);
  const c1 = count();
  const e1 = extra();
  const t1 = hrMs();
  const cpu = process.cpuUsage(cpu0);
  const wait = (runqueueNs() - w0) / 1e6 / (t1 - t0);
  await mark("end");
  const seconds = (t1 - t0) / 1000;
  const diff = {};
  for (const k of Object.keys(e1)) diff[k] = e1[k] - e0[k];
  return { count: c1 - c0, seconds, rate: (c1 - c0) / seconds, loadgenCpu: (cpu.user + cpu.system) / 1000 / (t1 - t0), loadgenWait: wait, ...diff };
}

const src = (i) => `127.0.0.${2 + (i % 50)}`; // spread source addresses (ephemeral ports are per address)

// ------------------------------------------------------------------ fan-in
// P publishers → 1 subscriber on one subject.
async function fanIn() {
  const { port, publishers = 100, batch = 64, budget = 40_000, openLoop = false, queueSize = 100_000 } = spec;
  const subject = "bench.fanin";
  const sub = await RawNode.connect({ port, nodeId: "fanin-sub" });
  // Closed loop: the largest queue the server allows (maxSubscriptionQueueSize), the budget stays below it.
  // Open loop: the server default (channelMaxQueueSize, 1 000).
  await sub.subscribe(subject, 1, { queueSize });
  const pubs = await pool(
    Array.from({ length: publishers }, (_, i) => i),
    50,
    (i) => RawNode.connect({ port, nodeId: `fanin-pub-${i}`, localAddress: src(i) }),
  );
  const frame = wire("publish", { subject, payload: PAYLOAD });
  const batchBytes = repeatFrame(frame, batch);
  const cost = batch * PAYLOAD.length;
  let sent = 0;
  let stopped = false;
  let rr = 0;
  const pump = () => {
    if (stopped) return;
    for (let k = 0; k < pubs.length; k++) {
      const p = pubs[rr];
      rr = rr + 1 === pubs.length ? 0 : rr + 1;
      if (!p.writable || p.credit < cost) continue;
      if (!openLoop && sent - sub.scanner.deliveries + batch > budget) return;
      p.credit -= cost;
      sent += batch;
      p.write(batchBytes);
    }
  };
  sub.onProgress = pump;
  for (const p of pubs) p.onProgress = pump;
  const tick = setInterval(pump, 2);
  pump();
  const r = await measure(() => sub.scanner.deliveries, () => ({ sent }));
  stopped = true;
  clearInterval(tick);
  const errors = [...sub.errors, ...pubs.flatMap((p) => p.errors)];
  for (const n of [sub, ...pubs]) n.close();
  return { ...r, frameBytes: frame.length, errors: errors.slice(0, 5) };
}

// ----------------------------------------------------------------- fan-out
// 1 publisher → `conns` × `subsPerConn` subscriptions of one subject.
async function fanOut() {
  const { port, conns = 100, subsPerConn = 100, inflight = 32 } = spec;
  const subject = "bench.fanout";
  const total = conns * subsPerConn;
  const frame = wire("publish", { subject, payload: PAYLOAD });
  const many = repeatFrame(frame, inflight);
  let deliveries = 0;
  let completed = 0;
  let pub;
  let sent = 0;
  let stopped = false;
  const pump = () => {
    if (stopped || pub === undefined) return;
    const room = Math.min(inflight - (sent - completed), Math.floor(pub.credit / PAYLOAD.length));
    if (room <= 0 || !pub.writable) return;
    pub.credit -= room * PAYLOAD.length;
    sent += room;
    pub.write(many.subarray(0, room * frame.length));
  };
  const onProgress = (node) => {
    const d = node.scanner.deliveries;
    deliveries += d - node.seen;
    node.seen = d;
    completed = Math.floor(deliveries / total);
    pump();
  };
  const t0 = hrMs();
  const subs = await pool(
    Array.from({ length: conns }, (_, i) => i),
    256,
    async (i) => {
      const n = await RawNode.connect({ port, nodeId: `fanout-sub-${i}`, localAddress: src(i) });
      n.seen = 0;
      const subscribed = [];
      for (let s = 0; s < subsPerConn; s++) subscribed.push(n.subscribe(subject, s + 1));
      await Promise.all(subscribed);
      n.onProgress = onProgress;
      return n;
    },
  );
  const setupSeconds = (hrMs() - t0) / 1000;
  pub = await RawNode.connect({ port, nodeId: "fanout-pub" });
  pub.onProgress = pump;
  const tick = setInterval(pump, 2);
  pump();
  const r = await measure(() => deliveries, () => ({ sent }));
  stopped = true;
  clearInterval(tick);
  const errors = [...pub.errors, ...subs.flatMap((n) => n.errors)];
  for (const n of [pub, ...subs]) n.close();
  return { ...r, subscriptions: total, setupSeconds, errors: errors.slice(0, 5) };
}

// ----------------------------------------------------------------- unicast
// N pairs: sender i sends direct messages (Send) to receiver i.
async function unicast() {
  const { port, pairs = 50, batch = 32, budget = 512 } = spec;
  const nodes = await pool(
    Array.from({ length: pairs * 2 }, (_, i) => i),
    50,
    (i) =>
      RawNode.connect({ port, nodeId: i < pairs ? `uni-r-${i}` : `uni-s-${i - pairs}`, localAddress: src(i) }),
  );
  const receivers = nodes.slice(0, pairs);
  const senders = nodes.slice(pairs);
  let stopped = false;
  const frameBytes = [];
  for (let i = 0; i < pairs; i++) {
    const s = senders[i];
    const r = receivers[i];
    const frame = wire("send", { nodeId: r.nodeId, payload: PAYLOAD });
    frameBytes.push(frame.length);
    const bytes = repeatFrame(frame, batch);
    const cost = batch * PAYLOAD.length;
    s.sent = 0;
    // The receiver's channel-0 queue holds channelMaxQueueSize (1 000) messages: the budget stays below.
    const pump = () => {
      while (!stopped && s.writable && s.credit >= cost && s.sent - r.scanner.deliveries + batch <= budget) {
        s.credit -= cost;
        s.sent += batch;
        s.write(bytes);
      }
    };
    s.onProgress = pump;
    r.onProgress = pump;
    pump();
  }
  const tick = setInterval(() => {
    for (const s of senders) s.onProgress(s);
  }, 2);
  const received = () => receivers.reduce((a, r) => a + r.scanner.deliveries, 0);
  const r = await measure(received, () => ({ sent: senders.reduce((a, s) => a + s.sent, 0) }));
  stopped = true;
  clearInterval(tick);
  const errors = nodes.flatMap((n) => n.errors);
  for (const n of nodes) n.close();
  return { ...r, pairs, frameBytes: frameBytes[0], errors: errors.slice(0, 5) };
}

// --------------------------------------------------------------------- RTT
// Heartbeat RTT on a probe connection: without load, then while 50 MiB
// messages stream to it on a subscription channel of the same connection
// ("download": published by another connection; "self": published by the
// probe itself, so its own upload shares the connection too).
async function rtt() {
  const { build } = await import("hdr-histogram-js");
  const { port, messageSize = 50 * 1024 * 1024, intervalMs = 2, baselineMs = 2000, loadMs = 5000, maxMessages = 40 } = spec;
  const subject = "bench.bulk";
  const probe = await RawNode.connect({ port, nodeId: "rtt-probe", scanner: { decodeFragments: true } });
  await probe.subscribe(subject, 1, { queueSize: 4 });
  const bulk = await RawNode.connect({ port, nodeId: "rtt-bulk" });

  let hist;
  let seq = 0;
  let acks = 0;
  let finals = 0;
  let fragBytesIn = 0;
  probe.onFrame = (f) => {
    const b = f.body;
    if (b.case === "heartbeatAck") {
      acks++;
      const us = nowUs() - Number(b.value.sendTimeUs);
      hist?.recordValue(Math.max(1, us));
    } else if (b.case === "fragment") {
      fragBytesIn += b.value.data.length;
      if (b.value.final) finals++;
    }
  };
  const beat = () => {
    seq++;
    probe.write(wire("heartbeat", { seq: BigInt(seq), sendTimeUs: BigInt(nowUs()) }));
  };
  const newHist = () => build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const summary = (h) => ({
    samples: h.totalCount,
    p50: h.getValueAtPercentile(50) / 1000,
    p90: h.getValueAtPercentile(90) / 1000,
    p99: h.getValueAtPercentile(99) / 1000,
    max: h.maxValue / 1000,
  });

  // Baseline.
  await mark("baseline");
  hist = newHist();
  const w0 = runqueueNs();
  const b0 = hrMs();
  let timer = setInterval(beat, intervalMs);
  await sleep(baselineMs);
  clearInterval(timer);
  await sleep(50);
  const baseline = { ...summary(hist), loadgenWait: (runqueueNs() - w0) / 1e6 / (hrMs() - b0) };

  // The 50 MiB message: a Publish cut into 64 KiB Fragment frames, encoded once.
  const { encodeFrame, fragmentFrame, makeFrame, FrameSchema } = await import("@hb/codec");
  const { toBinary } = await import("@bufbuild/protobuf");
  const big = new Uint8Array(messageSize);
  for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
  const encoded = toBinary(FrameSchema, makeFrame("publish", { subject, payload: big }));
  const fragments = [...fragmentFrame(encoded, { id: 1, maxFrameSize: 64 * 1024 })].map((f) => ({
    bytes: encodeFrame(f),
    data: f.body.value.data.length,
  }));

  const runLoad = async (publisher, label) => {
    hist = newHist();
    let published = 0;
    let frag = 0;
    let stopped = false;
    const finals0 = finals;
    const fragBytes0 = fragBytesIn;
    const t0 = hrMs();
    // Writes one turn's worth at most (≤ 256 KiB), so the probe's own event loop stays responsive.
    const pump = () => {
      if (stopped) return;
      let written = 0;
      while (written < 256 * 1024 && published < maxMessages) {
        // At most two whole messages ahead of what the probe received: the server never holds more than that.
        if (published - (finals - finals0) >= 2) return;
        const f = fragments[frag];
        if (publisher.credit < f.data || !publisher.writable) return;
        if (publisher === probe && probe.socket.writableLength > 0) return; // keep our own heartbeats near the head
        publisher.credit -= f.data;
        publisher.write(f.bytes);
        written += f.bytes.length;
        frag++;
        if (frag === fragments.length) {
          frag = 0;
          published++;
        }
      }
    };
    const pumpSoon = () => setImmediate(pump);
    publisher.onProgress = pumpSoon;
    if (publisher !== probe) probe.onProgress = pumpSoon;
    const pumpTimer = setInterval(pump, 1);
    timer = setInterval(beat, intervalMs);
    pump();
    const c0 = process.cpuUsage();
    const w0 = runqueueNs();
    // Until loadMs has passed (and at least one message arrived), bounded by maxMessages.
    const deadline = t0 + loadMs;
    while ((hrMs() < deadline || finals === finals0) && hrMs() < t0 + 4 * loadMs && finals - finals0 < maxMessages) {
      await sleep(5);
    }
    stopped = true;
    clearInterval(timer);
    clearInterval(pumpTimer);
    const seconds = (hrMs() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const loadgenWait = (runqueueNs() - w0) / 1e6 / (seconds * 1000);
    await mark(`${label}-end`);
    // Let the in-flight messages finish (bounded) so the next phase starts clean.
    for (let i = 0; i < 400 && finals - finals0 < published; i++) await sleep(10);
    publisher.onProgress = undefined;
    probe.onProgress = undefined;
    const received = finals - finals0;
    return {
      label,
      ...summary(hist),
      messages: received,
      mibPerSecond: (fragBytesIn - fragBytes0) / 2 ** 20 / seconds,
      seconds,
      loadgenCpu: (cpu.user + cpu.system) / 1000 / (seconds * 1000),
      loadgenWait,
    };
  };

  await mark("download");
  const download = await runLoad(bulk, "download");
  await mark("self");
  const self = spec.self === false ? undefined : await runLoad(probe, "self");
  const errors = [...probe.errors, ...bulk.errors];
  probe.close();
  bulk.close();
  return { baseline, download, self, heartbeats: seq, acks, messageSize, errors: errors.slice(0, 5) };
}

// ------------------------------------------------------ @hb/client publish
// How fast can @hb/client itself publish (one client, one process)? Decides
// whether it could drive the fan-in scenario.
async function clientPublish() {
  const { port, measureMs = 2000 } = spec;
  const { HeartbeatClient } = await import("../../../client/dist/index.js");
  const client = new HeartbeatClient({ host: "127.0.0.1", port, nodeId: "client-pub", autoReconnect: false });
  await client.connect();
  const subject = "bench.client";
  let done = 0;
  const t0 = hrMs();
  const cpu0 = process.cpuUsage();
  while (hrMs() - t0 < measureMs) {
    const batch = [];
    for (let i = 0; i < 256; i++) batch.push(client.publish(subject, PAYLOAD));
    await Promise.all(batch);
    done += 256;
  }
  const ms = hrMs() - t0;
  const cpu = process.cpuUsage(cpu0);
  await client.close();
  return { count: done, rate: done / (ms / 1000), seconds: ms / 1000, loadgenCpu: (cpu.user + cpu.system) / 1000 / ms };
}

const scenarios = { fanIn, fanOut, unicast, rtt, clientPublish };
try {
  const result = await scenarios[scenario]();
  process.send({ type: "result", result: { ...result, loadgenCpuModel: os.cpus()[0]?.model } });
} catch (err) {
  process.send({ type: "result", error: String(err?.stack ?? err) });
}
setTimeout(() => process.exit(0), 100);
