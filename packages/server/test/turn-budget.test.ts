// Bounded work per event-loop turn (issue 10), over real sockets: the
// server runs in this process, the load in another (fixtures/turn-load.ts),
// so the event-loop lag measured here is the server's. While a burst fans
// out to 1,000 connections, a 50 MiB message crosses the server, or a
// 100,000-node presence snapshot streams, the server's loop lag and a
// heartbeat round trip stay bounded, and every message arrives, in order,
// byte for byte. (Before the slicer: 0.3–1 s single turns in each case.)
//
// 1,000 connections: run under the heavy lock when run alone
// (`flock /tmp/hb-heavy.lock npx vitest run packages/server/test/turn-budget.test.ts`).
import { type ChildProcess, fork } from "node:child_process";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { FrameEncoder, makeFrame } from "@hb/codec";
import { afterEach, describe, expect, it } from "vitest";
import type { HeartbeatServer } from "../src/index.js";
import { payloadOf } from "./fixtures/turn-load.js";
import { start } from "./helpers.js";
import { RawPeer, sleep } from "./raw-peer.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/turn-load.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

// Generous bounds: far above the slicer's ≈ 20 ms turns on a quiet
// machine, so a loaded 2-core machine (other suites preempting this
// process, load average 10) does not fail them, and below what the code
// before the slicer did on that same loaded machine (each checked to fail
// there): fan-out heartbeat RTT 3.7 s (after: 0.75 s), 50 MiB RTT 270 ms
// (after: 50–100 ms), snapshot lag 477 ms and 1,000 of 100,001 events (after:
// 82 ms, all). The fan-out's worst loop lag is not asserted tightly: with 3
// million deliveries queued, a major GC pause (not sliceable) reaches
// 0.2–0.5 s on that machine, before and after (see PERFORMANCE.md).
const FANOUT_MAX_RTT_MS = 2_000;
const FANOUT_MAX_LAG_MS = 1_500;
const BIG_MAX_RTT_MS = 200;
const BIG_MAX_LAG_MS = 400;
const SNAPSHOT_MAX_LAG_MS = 300;
const SNAPSHOT_MAX_RTT_MS = 2_000;

class Load {
  readonly child: ChildProcess;
  #next = 1;
  readonly #waiting = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  readonly booted: Promise<Record<string, unknown>>;

  constructor() {
    this.child = fork(FIXTURE, [], { cwd: ROOT, execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.booted = new Promise((resolve, reject) => this.#waiting.set(0, { resolve, reject }));
    this.child.on("message", (m: { id: number; ok?: boolean; error?: string }) => {
      const w = this.#waiting.get(m.id);
      if (w === undefined) return;
      this.#waiting.delete(m.id);
      if (m.error !== undefined) w.reject(new Error(m.error));
      else w.resolve(m as unknown as Record<string, unknown>);
    });
  }

  call(cmd: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.child.send({ id, cmd, ...args });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const gone = new Promise((r) => this.child.once("exit", r));
    this.child.send({ cmd: "stop" });
    const t = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await gone;
    clearTimeout(t);
  }
}

/** This process's event-loop lag (the server's), and a heartbeat probe's round trips, while `work` runs. */
async function measured<T>(port: number, work: () => Promise<T>): Promise<{ result: T; lagMaxMs: number; lagP99Ms: number; rttMaxMs: number; rtts: number }> {
  const probe = await RawPeer.connect(port);
  await probe.hello({ nodeId: `probe-${port}-${Math.random()}` });
  const lag = monitorEventLoopDelay({ resolution: 1 });
  let rttMax = 0;
  let rtts = 0;
  let stop = false;
  const beating = (async () => {
    while (!stop) {
      const t0 = performance.now();
      probe.heartbeat();
      await probe.next("heartbeatAck", 30_000);
      rttMax = Math.max(rttMax, performance.now() - t0);
      rtts++;
      await sleep(2);
    }
  })();
  lag.enable();
  let result: T;
  try {
    result = await work();
  } finally {
    stop = true;
    lag.disable();
    await beating;
    probe.destroy();
  }
  const m = { result, lagMaxMs: lag.max / 1e6 - 1, lagP99Ms: lag.percentile(99) / 1e6 - 1, rttMaxMs: rttMax, rtts };
  console.log(`loop lag p99 ${m.lagP99Ms.toFixed(1)} ms, max ${m.lagMaxMs.toFixed(1)} ms; heartbeat RTT max ${rttMax.toFixed(1)} ms (${rtts} round trips)`);
  return m;
}

let load: Load | undefined;
let server: HeartbeatServer | undefined;
afterEach(async () => {
  await load?.stop();
  load = undefined;
  await server?.close();
  server = undefined;
});

describe("bounded work per event-loop turn (real sockets, load in another process)", () => {
  it("a burst fanned out to 1,000 connections (2 subscriptions each): lag and heartbeat RTT stay bounded, every message in order, byte for byte", async () => {
    const s = await start({ heartbeatInterval: 60_000, heartbeatTimeout: 180_000, rateLimit: { framesPerSecond: 10_000_000, burst: 10_000_000 } });
    server = s.server;
    load = new Load();
    await load.booted;
    const conns = 1_000;
    const messages = 1_500;
    await load.call("subscribers", { port: s.port, conns, subs: 2, subject: "burst", queueSize: 5_000 });
    const pub = await RawPeer.connect(s.port);
    await pub.hello({ nodeId: "publisher" });
    const enc = new FrameEncoder();
    for (let seq = 0; seq < messages; seq++) enc.add(makeFrame("publish", { subject: "burst", payload: payloadOf(seq, 100) }));
    const burst = enc.finish();
    // 3 M deliveries from one write (≈ 180 KB of publishes): before the slicer, 0.5–2 s turns.
    const m = await measured(s.port, async () => {
      pub.sendRaw(burst);
      return load?.call("expect", { count: 2 * messages });
    });
    expect(m.result).toMatchObject({ complete: true, ordered: true, exact: true });
    expect(s.server.stats().dropped).toMatchObject({ dropOldest: 0, dropNewest: 0, slowConsumer: 0 });
    expect(m.rtts).toBeGreaterThan(0);
    expect(m.rttMaxMs).toBeLessThan(FANOUT_MAX_RTT_MS);
    expect(m.lagMaxMs).toBeLessThan(FANOUT_MAX_LAG_MS);
    pub.destroy();
  }, 120_000);

  it("a 50 MiB message through the server: lag and heartbeat RTT stay bounded, it arrives byte for byte", async () => {
    const s = await start({ heartbeatInterval: 60_000, heartbeatTimeout: 180_000 });
    server = s.server;
    load = new Load();
    await load.booted;
    const m = await measured(s.port, () => (load as Load).call("big", { port: s.port, size: 50 * 1024 * 1024 }));
    expect(m.result).toMatchObject({ exact: true });
    expect(s.server.stats().reassembled).toBe(1);
    expect(m.lagMaxMs).toBeLessThan(BIG_MAX_LAG_MS);
    expect(m.rttMaxMs).toBeLessThan(BIG_MAX_RTT_MS);
  }, 120_000);

  it("a presence snapshot of 100,000 nodes with the default queue size: arrives whole, lag and RTT stay bounded", async () => {
    const s = await start({ heartbeatInterval: 60_000, heartbeatTimeout: 180_000, rateLimit: { framesPerSecond: 10_000_000, burst: 10_000_000 } });
    server = s.server;
    load = new Load();
    await load.booted;
    const nodes = 100_000;
    expect(await load.call("fleet", { port: s.port, nodes })).toMatchObject({ attached: nodes });
    const m = await measured(s.port, () => (load as Load).call("watch", { port: s.port }));
    // Every node (the gateway, the probe and the watcher too), each once, through a 1,000-message queue.
    expect(m.result.snapshot).toBeGreaterThanOrEqual(nodes + 1);
    expect(m.result.unique).toBe(m.result.snapshot);
    expect(s.server.stats().dropped.dropOldest).toBe(0);
    expect(m.lagMaxMs).toBeLessThan(SNAPSHOT_MAX_LAG_MS);
    expect(m.rttMaxMs).toBeLessThan(SNAPSHOT_MAX_RTT_MS);
  }, 120_000);
});
