// Cost of the Redis bus (RedisBus): Redis operations per 1,000 nodes at
// steady state and under churn, and the cost of a cross-server message.
//
//   npx tsx packages/server/bench/redis-bus.bench.ts [--members 3] [--nodes 10000] [--seconds 10]
//       [--churn 1000] [--messages 200000] [--redis redis://host:port]
//
// Without --redis it starts its own redis-server (like the tests) on a free
// port. Every member is a RedisBus with its own two connections, all in this
// one process (so message throughput is bounded by this process, not Redis).
// Reports:
//   1. steady state: Redis commands/s with nodes registered and nothing
//      changing (lease renewals only), per 1,000 nodes; cross-checked against
//      Redis's own total_commands_processed;
//   2. churn: commands/s and Redis CPU at --churn presence changes per second;
//   3. messages: round-trip latency of a direct message A → B → A through
//      Redis pub/sub (one-way ≈ RTT / 2), and one-way throughput of 100-byte
//      direct messages A → B, with and without ioredis auto-pipelining;
//   4. the envelope codec's encode + decode cost.
import { fork } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import type { BusEnvelope, BusHandlers, BusNode } from "../src/core/ports/bus-link.js";
import { decodeEnvelope, encodeEnvelope } from "../src/bus/envelope-codec.js";
import { RedisBus } from "../src/bus/redis-bus.js";
import type { RedisBusOptions } from "../src/bus/redis-bus-options.js";
import { startRedis, type TestRedis } from "../test/bus/redis-server.js";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const argString = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const MEMBERS = arg("members", 3);
const NODES = arg("nodes", 10_000); // per member
const SECONDS = arg("seconds", 10);
const CHURN = arg("churn", 1_000); // presence changes per second, all members together
const MESSAGES = arg("messages", 200_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Member implements BusHandlers {
  readonly local = new Map<string, BusNode>();
  received = 0;
  onDeliver: ((e: BusEnvelope, from: string) => void) | undefined;
  constructor(
    readonly id: string,
    readonly link: RedisBus,
  ) {}
  deliver(e: BusEnvelope, from: string): void {
    this.received++;
    this.onDeliver?.(e, from);
  }
  presence(): void {}
  memberLost(): void {}
  localNodes(): Iterable<BusNode> {
    return this.local.values();
  }
  join(nodeId: string): void {
    const labels = { zone: `z${nodeId.length % 3}`, role: "sensor" };
    this.local.set(nodeId, { nodeId, labels, state: "online", memberId: this.id });
    this.link.announce({ kind: "joined", nodeId, labels, reason: "hello", time: Date.now(), memberId: this.id });
  }
  leave(nodeId: string): void {
    const node = this.local.get(nodeId) as BusNode;
    this.local.delete(nodeId);
    this.link.announce({ kind: "left", nodeId, labels: node.labels, reason: "goodbye", time: Date.now(), memberId: this.id });
  }
}

async function info(admin: Redis): Promise<{ commands: number; cpu: number; version: string }> {
  const text = (await admin.info()) as string;
  const field = (k: string) => (text.match(new RegExp(`^${k}:(.*)$`, "m"))?.[1] ?? "").trim();
  return {
    commands: Number(field("total_commands_processed")),
    cpu: Number(field("used_cpu_user")) + Number(field("used_cpu_sys")),
    version: field("redis_version"),
  };
}

const total = (ms: Member[], k: string) => ms.reduce((n, m) => n + (m.link.stats()[k] as number), 0);

async function main(): Promise<void> {
  let own: TestRedis | undefined;
  let url = argString("redis");
  if (url === undefined) {
    own = await startRedis();
    url = own.url;
  }
  const admin = new Redis(url);
  const prefix = `bench${process.pid}`;
  const r0 = await info(admin);
  console.log(`# hb RedisBus benchmark`);
  console.log(`command: npx tsx packages/server/bench/redis-bus.bench.ts ${process.argv.slice(2).join(" ")}`);
  console.log(
    `machine: ${cpus()[0]?.model} × ${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}; redis ${r0.version} (${own ? "local, started by the bench" : url})`,
  );
  console.log(`setup: ${MEMBERS} members × ${NODES} nodes, defaults leaseTtl 5000 ms / leaseRefresh 1666 ms\n`);

  const start = async (id: string, options: RedisBusOptions = {}): Promise<Member> => {
    const link = new RedisBus({ redis: url, prefix, ...options });
    const m = new Member(id, link);
    await link.start(id, m);
    return m;
  };
  const members: Member[] = [];
  for (let i = 0; i < MEMBERS; i++) members.push(await start(`server-${i}`));

  // Registration.
  let t = performance.now();
  for (const m of members) for (let i = 0; i < NODES; i++) m.join(`${m.id}-node-${i}`);
  const all = MEMBERS * NODES;
  while (members.some((m) => m.link.remoteNodes().size < all - NODES)) await sleep(10);
  const regMs = performance.now() - t;
  console.log(`registration: ${all} joins replicated to every member in ${Math.round(regMs)} ms (${Math.round(all / (regMs / 1000))} joins/s, one script call each)`);

  // 1. Steady state.
  await sleep(2_000);
  let c0 = total(members, "redisCommands");
  let i0 = await info(admin);
  t = performance.now();
  await sleep(SECONDS * 1000);
  let secs = (performance.now() - t) / 1000;
  let i1 = await info(admin);
  let ops = (total(members, "redisCommands") - c0) / secs;
  console.log(`\n1. steady state (${SECONDS} s, nodes registered, nothing changing):`);
  console.log(`   ${ops.toFixed(2)} commands/s for ${all} nodes = ${((ops / all) * 1000).toFixed(4)} per 1,000 nodes per second`);
  console.log(`   (= members / leaseRefresh, independent of node count: ${(MEMBERS / 1.666).toFixed(2)}/s expected)`);
  console.log(`   redis total_commands_processed: ${((i1.commands - i0.commands - 1) / secs).toFixed(2)}/s (scripts count their inner calls too)`);

  // 2. Churn: half leaves, half joins, spread over the members.
  let n = 0;
  const tickMs = 10;
  const perTick = Math.max(1, Math.round((CHURN * tickMs) / 1000));
  c0 = total(members, "redisCommands");
  i0 = await info(admin);
  t = performance.now();
  const churn = setInterval(() => {
    for (let k = 0; k < perTick; k++) {
      const m = members[n % MEMBERS] as Member;
      if (n % 2 === 0) m.join(`${m.id}-churn-${n}`);
      else {
        const first = m.local.keys().next().value as string;
        m.leave(first);
      }
      n++;
    }
  }, tickMs);
  await sleep(SECONDS * 1000);
  clearInterval(churn);
  secs = (performance.now() - t) / 1000;
  await sleep(200);
  i1 = await info(admin);
  ops = (total(members, "redisCommands") - c0) / secs;
  console.log(`\n2. churn: ${(n / secs).toFixed(0)} presence changes/s for ${SECONDS} s:`);
  console.log(`   ${ops.toFixed(0)} commands/s = ${((ops / all) * 1000).toFixed(2)} per 1,000 nodes per second (≈ 1 per change + leases)`);
  console.log(`   redis CPU ${(((i1.cpu - i0.cpu) / secs) * 100).toFixed(1)} % of one core; total_commands_processed ${((i1.commands - i0.commands) / secs).toFixed(0)}/s`);

  // 3. Messages, to a receiver member in another process (as between two servers).
  const [a] = members as [Member];
  const rx = fork(fileURLToPath(import.meta.url), ["--role", "rx", "--redis", url, "--prefix", prefix]);
  const fromRx = (type: string) => new Promise<Record<string, number>>((resolve) => {
    const on = (msg: { type: string }) => {
      if (msg.type !== type) return;
      rx.off("message", on);
      resolve(msg as unknown as Record<string, number>);
    };
    rx.on("message", on);
  });
  await fromRx("ready");
  while ((a.link.stats().members ?? 0) < MEMBERS) await sleep(10);
  const ping = new Uint8Array(100).fill(1);
  const body = new Uint8Array(100).fill(7);

  // 3a. Round trip A → Redis → rx → Redis → A.
  const rounds = 5_000;
  const rtts: number[] = [];
  await new Promise<void>((done) => {
    let at = 0;
    a.onDeliver = () => {
      rtts.push(performance.now() - at);
      if (rtts.length === rounds) return done();
      at = performance.now();
      a.link.send({ type: "direct", nodeId: "y", body: ping }, "rx");
    };
    at = performance.now();
    a.link.send({ type: "direct", nodeId: "y", body: ping }, "rx");
  });
  a.onDeliver = undefined;
  rtts.sort((x, y) => x - y);
  const q = (p: number) => (rtts[Math.min(rtts.length - 1, Math.floor(p * rtts.length))] as number).toFixed(3);
  console.log(`\n3. cross-server messages (100-byte body, receiver in another process):`);
  console.log(`   round trip A → Redis → B → Redis → A, ${rounds} sequential: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms (one way ≈ half)`);

  // 3b. One-way throughput of direct messages A → rx.
  const throughput = async (sender: Member, label: string) => {
    rx.send({ type: "expect", count: MESSAGES });
    await fromRx("armed");
    const done = fromRx("done");
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < MESSAGES; i++) {
      sender.link.send({ type: "direct", nodeId: "n", body }, "rx");
      if (i % 1_000 === 999) await new Promise((r) => setImmediate(r));
    }
    const sentMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const report = await done;
    const ms = performance.now() - t0;
    const got = report.received as number;
    console.log(`   ${label}: ${MESSAGES} sent in ${Math.round(sentMs)} ms, ${got} received in ${Math.round(ms)} ms = ${Math.round(got / (ms / 1000))} msgs/s;`);
    console.log(
      `      CPU per message: sender ${((cpu.user + cpu.system) / MESSAGES).toFixed(1)} µs, receiver ${((report.cpu as number) / got).toFixed(1)} µs`,
    );
  };
  await throughput(a, "one-way throughput (auto-pipelining, the default)");
  const pl = new RedisBus({ redis: { ...parse(url), enableAutoPipelining: false }, prefix });
  const pb = new Member("unpipelined", pl);
  await pl.start("unpipelined", pb);
  await throughput(pb, "sender with enableAutoPipelining: false");
  rx.kill();

  // 4. Codec.
  const env: BusEnvelope = { type: "publish", subject: "bench.load", body };
  const N = 1_000_000;
  t = performance.now();
  let size = 0;
  for (let i = 0; i < N; i++) size += decodeEnvelope(encodeEnvelope(env, "server-0")).envelope.body.length;
  const ns = ((performance.now() - t) * 1e6) / N;
  console.log(`\n4. envelope codec: encode + decode ${ns.toFixed(0)} ns per 100-byte publish (${encodeEnvelope(env, "server-0").length} bytes on the wire; ${size === N * 100 ? "ok" : "BAD"})`);
  console.log(`   stats of server-0: ${JSON.stringify(a.link.stats())}`);

  for (const m of [...members, pb]) m.link.kill();
  const keys = await admin.keys(`${prefix}:*`);
  if (keys.length > 0) await admin.del(...keys);
  admin.disconnect();
  await own?.stop();
}

function parse(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379) };
}

// The receiving member, in a child process: echoes pings, counts the rest.
async function receiver(): Promise<void> {
  const link = new RedisBus({ redis: argString("redis"), prefix: argString("prefix") });
  const m = new Member("rx", link);
  let expected = 0;
  let cpu0 = process.cpuUsage();
  m.onDeliver = (e, from) => {
    if (e.body[0] === 1) {
      link.send({ type: "reply", nodeId: "x", body: e.body }, from);
      return;
    }
    if (m.received === expected) {
      const cpu = process.cpuUsage(cpu0);
      process.send?.({ type: "done", received: m.received, cpu: cpu.user + cpu.system });
    }
  };
  process.on("message", (msg: { type: string; count: number }) => {
    if (msg.type !== "expect") return;
    m.received = 0;
    expected = msg.count;
    cpu0 = process.cpuUsage();
    process.send?.({ type: "armed" });
  });
  await link.start("rx", m);
  process.send?.({ type: "ready" });
}

if (argString("role") === "rx") await receiver();
else await main();
