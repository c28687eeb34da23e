// Cross-server messages through Redis, end to end, with the sending server
// in one process and then with worker processes behind its primary (which
// bridges Redis to them, src/workers/bus-uplink.ts).
//
//   npx tsx packages/server/bench/cross-server.bench.ts [--pairs 20] [--messages 100000] [--workers 1,2]
//
// Starts its own redis-server on loopback (like the tests), then for each
// worker count W: server A (W workers, RedisBus) and server B (one process,
// RedisBus) in their own processes; `pairs` HeartbeatClient senders on A and
// as many receivers on B, in this process. Each sender sends its share of
// `messages` direct 100-byte messages to its receiver (at most 64 in flight
// per sender). Reports messages/s from the first send to the last receipt,
// the messages the servers dropped (counted by their queues; a receiver's
// queue holds 100,000 so that none should be), and the CPU time of A's main
// process per message (with W > 1 that is the primary: the IPC hub plus the
// uplink to Redis). Every run is bounded: it stops after 60 s and reports
// what arrived.
import { fork, type ChildProcess } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { HeartbeatClient } from "@hb/client";
import { startRedis } from "../test/bus/redis-server.js";

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const PAIRS = Number(arg("pairs", "20"));
const MESSAGES = Number(arg("messages", "100000"));
const WORKERS = arg("workers", "1,2").split(",").map(Number);
const IN_FLIGHT = 64;
const RUN_LIMIT_MS = 60_000;
const SERVER = fileURLToPath(new URL("./cross-server/server.ts", import.meta.url));
const payload = new Uint8Array(100).fill(7);

interface Server {
  child: ChildProcess;
  port: number;
  request<T>(type: string): Promise<T>;
  close(): Promise<void>;
}

function startServer(options: object): Promise<Server> {
  const child = fork(SERVER, [JSON.stringify(options)], { execArgv: ["--import", "tsx"], stdio: "inherit" });
  const request = <T>(type: string): Promise<T> =>
    new Promise((resolve) => {
      const on = (m: { type: string }) => {
        if (m.type !== type) return;
        child.off("message", on);
        resolve(m as T);
      };
      child.on("message", on);
      child.send({ type });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.send({ type: "close" });
      setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
    });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`server exited early (${code})`)));
    child.on("message", (m: { type: string; port?: number }) => {
      if (m.type === "ready") resolve({ child, port: m.port as number, request, close });
    });
  });
}

async function connect(port: number, nodeId: string): Promise<HeartbeatClient> {
  const c = new HeartbeatClient({ host: "127.0.0.1", port, nodeId, autoReconnect: false, heartbeatInterval: 600_000 });
  c.on("error", () => {});
  await c.connect();
  return c;
}

const redis = await startRedis();
const rows: string[] = [];
try {
  for (const workers of WORKERS) {
    const prefix = `bench${workers}`;
    const a = await startServer({ serverId: "a", workerCount: workers, redisUrl: redis.url, prefix });
    const b = await startServer({ serverId: "b", workerCount: 1, redisUrl: redis.url, prefix });
    const receivers = await Promise.all(Array.from({ length: PAIRS }, (_, i) => connect(b.port, `r${i}`)));
    const senders = await Promise.all(Array.from({ length: PAIRS }, (_, i) => connect(a.port, `s${i}`)));
    let received = 0;
    let lastAt = 0;
    let done: () => void = () => {};
    const all = new Promise<void>((resolve) => (done = resolve));
    for (const r of receivers) {
      r.on("message", () => {
        lastAt = performance.now();
        if (++received === MESSAGES) done();
      });
    }
    // Until A's workers know the receivers (presence crosses Redis, then the hub).
    await new Promise((r) => setTimeout(r, 1_000));
    const cpu0 = (await a.request<{ us: number }>("cpu")).us;
    const t0 = performance.now();
    const per = Math.floor(MESSAGES / PAIRS);
    await Promise.race([
      Promise.all(
        senders.map(async (s, i) => {
          const to = `r${i}`;
          const inFlight = new Set<Promise<void>>();
          for (let k = 0; k < per; k++) {
            const p: Promise<void> = s.send(to, payload).finally(() => inFlight.delete(p));
            inFlight.add(p);
            if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
          }
          await Promise.all(inFlight);
        }),
      ).then(() => all),
      new Promise((r) => setTimeout(r, RUN_LIMIT_MS)),
    ]);
    const seconds = ((lastAt || performance.now()) - t0) / 1_000;
    const cpu = (await a.request<{ us: number }>("cpu")).us - cpu0;
    const atB = await b.request<{ dropped: Record<string, number>; bus: Record<string, unknown> }>("cpu");
    const atA = await a.request<{ dropped: Record<string, number>; bus: Record<string, unknown> }>("cpu");
    if (process.env.HB_BENCH_VERBOSE) console.log({ aDropped: atA.dropped, aBus: atA.bus, bDropped: atB.dropped, bBus: atB.bus });
    const rate = Math.round(received / seconds);
    const drops = Object.values(atA.dropped).reduce((x, y) => x + y, 0) + Object.values(atB.dropped).reduce((x, y) => x + y, 0);
    const row = `| ${workers} | ${received.toLocaleString("en-US")} of ${(per * PAIRS).toLocaleString("en-US")} (${drops} dropped) | ${rate.toLocaleString("en-US")} msgs/s | ${(cpu / Math.max(received, 1)).toFixed(2)} µs |`;
    console.log(row);
    rows.push(row);
    await Promise.all([...senders, ...receivers].map((c) => c.close().catch(() => {})));
    await Promise.all([a.close(), b.close()]);
  }
} finally {
  await redis.stop();
}
console.log(`\n${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
console.log("| A's workers | delivered | cross-server throughput | A's main process CPU per message |");
console.log("|---|---|---|---|");
for (const r of rows) console.log(r);
