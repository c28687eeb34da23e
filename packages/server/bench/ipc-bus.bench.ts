// Throughput of the IPC bus: envelopes relayed worker → primary → worker.
//
//   npx tsx packages/server/bench/ipc-bus.bench.ts [--size 100] [--count 400000] [--unbatched-count 100000] [--window 50000] [--max-batch-bytes 262144]
//
// The primary (this process) runs an IpcBusHub and forks two workers (this
// file again, through tsx): a sender and a receiver, each with an
// IpcBusLink. The sender publishes `--size`-byte envelopes as fast as the
// window allows (at most `--window` envelopes sent and not yet received; the
// receiver reports its count every 2 000 envelopes through the primary), and
// the primary times `--count` envelopes from the first send to the last
// delivery, after a warm-up. For each IPC serialization (`advanced`,
// `json`), with batching on (one IPC message per event-loop turn, at most
// maxBatchBytes) and off (one IPC message per envelope, hub and links).
// Also reported: CPU time of the primary per envelope, the average number
// of envelopes per IPC message it received, and the round trip of one
// envelope sender → receiver → sender on an idle bus (2 000 in a row), which
// shows what waiting for the end of the event-loop turn costs.
import { type ChildProcess, fork } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import type { BusHandlers } from "../src/core/ports/bus-link.js";
import { IpcBusHub } from "../src/workers/ipc-bus-hub.js";
import { IpcBusLink } from "../src/workers/ipc-bus-link.js";
import type { IpcSerialization } from "../src/workers/ipc-bus-message.js";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

interface BenchMessage {
  bench: "ready" | "run" | "progress" | "ack" | "done" | "ping" | "latency";
  p50?: number;
  p99?: number;
  count?: number;
  size?: number;
  received?: number;
  window?: number;
}

const isBench = (m: unknown): m is BenchMessage => typeof m === "object" && m !== null && "bench" in m;

const maxBatchBytes = arg("max-batch-bytes", 262_144);

if (process.argv[2] === "--worker") await worker(process.argv[3] as "sender" | "receiver", process.argv[4] === "batched");
else await primary();

async function worker(role: "sender" | "receiver", batching: boolean): Promise<void> {
  const link = new IpcBusLink({ batching, maxBatchBytes });
  let received = 0;
  let reported = 0;
  let target = Number.POSITIVE_INFINITY;
  const send = (m: BenchMessage): void => {
    process.send?.(m);
  };
  let echo = false;
  let pong: (() => void) | undefined;
  const handlers: BusHandlers = {
    deliver(envelope) {
      if (echo) {
        link.send({ type: "reply", nodeId: "sender-node", body: envelope.body }, "sender");
        return;
      }
      if (pong !== undefined) {
        pong();
        return;
      }
      received++;
      if (received - reported >= 2_000) {
        reported = received;
        send({ bench: "progress", received });
      }
      if (received === target) send({ bench: "done", received });
    },
    presence() {},
    memberLost() {},
    localNodes: () => [],
  };
  let acked = 0;
  let wake: (() => void) | undefined;
  process.on("message", (m: unknown) => {
    if (!isBench(m)) return;
    if (m.bench === "ack") {
      acked = m.received ?? 0;
      wake?.();
    } else if (m.bench === "run" && role === "receiver") {
      target = received + (m.count ?? 0);
    } else if (m.bench === "run" && role === "sender") {
      void sendMany(m.count ?? 0, m.size ?? 100, m.window ?? 50_000);
    } else if (m.bench === "ping" && role === "receiver") {
      echo = true;
    } else if (m.bench === "ping" && role === "sender") {
      void pingPong(m.count ?? 0, m.size ?? 100);
    }
  });
  // Round trips one at a time on an idle bus: what batching costs in latency.
  async function pingPong(count: number, size: number): Promise<void> {
    const body = new Uint8Array(size).fill(7);
    const rtt: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        pong = resolve;
        link.send({ type: "publish", subject: "bench.ping", body });
      });
      rtt.push(performance.now() - t0);
    }
    pong = undefined;
    rtt.sort((a, b) => a - b);
    const at = (q: number): number => (rtt[Math.min(rtt.length - 1, Math.floor(q * rtt.length))] ?? 0) * 1_000;
    send({ bench: "latency", p50: at(0.5), p99: at(0.99) });
  }
  async function sendMany(count: number, size: number, window: number): Promise<void> {
    const body = new Uint8Array(size).fill(7);
    const base = acked;
    let sent = 0;
    while (sent < count) {
      const room = Math.min(count - sent, 1_000, window - (sent - (acked - base)));
      if (room <= 0) {
        await new Promise<void>((r) => {
          wake = r;
        });
        continue;
      }
      for (let i = 0; i < room; i++) link.send({ type: "publish", subject: "bench.telemetry", body });
      sent += room;
      await new Promise((r) => setImmediate(r));
    }
  }
  await link.start(role, handlers);
  send({ bench: "ready" });
}

async function primary(): Promise<void> {
  const size = arg("size", 100);
  const count = arg("count", 400_000);
  const unbatchedCount = arg("unbatched-count", 100_000);
  const window = arg("window", 50_000);
  const cpus = os.cpus();
  console.log("# IPC bus throughput: worker → primary → worker");
  console.log(`command: npx tsx packages/server/bench/ipc-bus.bench.ts ${process.argv.slice(2).join(" ")}`.trim());
  console.log(
    `machine: ${cpus[0]?.model ?? "?"} × ${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`,
  );
  console.log(`payload ${size} B, window ${window} envelopes, maxBatchBytes ${maxBatchBytes}\n`);
  console.log(
    "| serialization | batching | envelopes | envelopes/s | payload MB/s | primary CPU µs/envelope | envelopes per IPC message in | idle round trip p50 / p99 µs |",
  );
  console.log("|---|---|---:|---:|---:|---:|---:|---:|");
  for (const serialization of ["advanced", "json"] as IpcSerialization[]) {
    for (const batching of [true, false]) {
      const n = batching ? count : unbatchedCount;
      const r = await run(serialization, batching, n, size, window);
      console.log(
        `| ${serialization} | ${batching ? "on" : "off"} | ${n} | ${Math.round(r.rate).toLocaleString("en")} | ${((r.rate * size) / 1e6).toFixed(1)} | ${r.cpuPerEnvelope.toFixed(2)} | ${r.perMessage.toFixed(1)} | ${r.p50.toFixed(0)} / ${r.p99.toFixed(0)} |`,
      );
    }
  }
}

async function run(
  serialization: IpcSerialization,
  batching: boolean,
  count: number,
  size: number,
  window: number,
): Promise<{ rate: number; cpuPerEnvelope: number; perMessage: number; p50: number; p99: number }> {
  const hub = new IpcBusHub({ batching, maxBatchBytes });
  const file = fileURLToPath(import.meta.url);
  const spawn = (role: string): ChildProcess => {
    const child = fork(file, ["--worker", role, batching ? "batched" : "unbatched", "--max-batch-bytes", String(maxBatchBytes)], {
      execArgv: ["--import", "tsx"],
      serialization,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    hub.attach(child);
    return child;
  };
  const sender = spawn("sender");
  const receiver = spawn("receiver");
  const ready = (c: ChildProcess) =>
    new Promise<void>((resolve) => c.on("message", (m: unknown) => isBench(m) && m.bench === "ready" && resolve()));
  await Promise.all([ready(sender), ready(receiver)]);
  let done: (() => void) | undefined;
  receiver.on("message", (m: unknown) => {
    if (!isBench(m)) return;
    if (m.bench === "progress") sender.send({ bench: "ack", received: m.received });
    if (m.bench === "done") {
      sender.send({ bench: "ack", received: m.received });
      done?.();
    }
  });
  const once = async (n: number): Promise<number> => {
    const finished = new Promise<void>((r) => {
      done = r;
    });
    receiver.send({ bench: "run", count: n });
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    sender.send({ bench: "run", count: n, size, window });
    await finished;
    return performance.now() - t0;
  };
  await once(Math.min(20_000, count)); // warm-up
  const statsBefore = hub.stats();
  const cpu0 = process.cpuUsage();
  const ms = await once(count);
  const cpu = process.cpuUsage(cpu0);
  const stats = hub.stats();
  const batchesIn = (stats.batchesIn ?? 0) - (statsBefore.batchesIn ?? 0);
  const relayedIn = (stats.relayedIn ?? 0) - (statsBefore.relayedIn ?? 0);
  if ((stats.dropped ?? 0) > 0) console.error(`warning: ${stats.dropped} dropped`);
  const latency = new Promise<BenchMessage>((resolve) =>
    sender.on("message", (m: unknown) => isBench(m) && m.bench === "latency" && resolve(m)),
  );
  receiver.send({ bench: "ping" });
  await new Promise((r) => setTimeout(r, 20));
  sender.send({ bench: "ping", count: 2_000, size });
  const { p50 = 0, p99 = 0 } = await latency;
  sender.kill("SIGKILL");
  receiver.kill("SIGKILL");
  await hub.close();
  await new Promise((r) => setTimeout(r, 50));
  return {
    rate: count / (ms / 1_000),
    cpuPerEnvelope: (cpu.user + cpu.system) / count,
    perMessage: relayedIn / Math.max(1, batchesIn),
    p50,
    p99,
  };
}
