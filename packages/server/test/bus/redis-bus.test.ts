import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { encodeDirectoryEntry } from "../../src/bus/directory-entry-codec.js";
import { encodePresenceMessage } from "../../src/bus/presence-codec.js";
import { RedisBus } from "../../src/bus/redis-bus.js";
import { SYNC_FIELD } from "../../src/bus/redis-keys.js";
import type { RedisBusOptions } from "../../src/bus/redis-bus-options.js";
import { FakeMember, until } from "./fake-member.js";
import { startRedis, type TestRedis } from "./redis-server.js";

const LEASE_TTL = 600;
const LEASE_REFRESH = 150;

let redis: TestRedis;
let admin: Redis;
let prefixes = 0;
const running: RedisBus[] = [];

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  admin.on("error", () => {}); // it sees the Redis restarts too
  await admin.connect();
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
});

afterEach(() => {
  for (const link of running.splice(0)) link.kill();
});

/** Starts one member per id, each with its own RedisBus (own connections), on a fresh prefix. */
async function cluster(ids: string[], options: RedisBusOptions = {}): Promise<FakeMember[]> {
  const prefix = `t${++prefixes}`;
  const out: FakeMember[] = [];
  for (const id of ids) out.push(await member(id, prefix, options));
  return out;
}

async function member(id: string, prefix: string, options: RedisBusOptions = {}): Promise<FakeMember> {
  const link = new RedisBus({ redis: redis.url, prefix, leaseTtl: LEASE_TTL, leaseRefresh: LEASE_REFRESH, ...options });
  running.push(link);
  const m = new FakeMember(id, link);
  await m.start();
  return m;
}

const bus = (m: FakeMember) => m.link as RedisBus;
const stat = (m: FakeMember, name: string) => m.link.stats()[name] as number;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("RedisBus", () => {
  it("replicates presence both ways; a new member loads the directory silently", async () => {
    const [a, b] = (await cluster(["a", "b"])) as [FakeMember, FakeMember];
    expect(a.link.health()).toEqual({ state: "ok" });
    a.join("n1", { zone: "eu" });
    b.join("n2");
    a.suspect("n1");
    a.recover("n1");
    await until(() => b.story("n1").length === 3 && a.story("n2").length === 1);
    expect(b.story("n1")).toEqual(["joined hello @a", "suspect heartbeat_missed @a", "recovered heartbeat @a"]);
    expect(a.story("n2")).toEqual(["joined hello @b"]);
    expect(b.link.remoteNodes().get("n1")).toEqual({ nodeId: "n1", labels: { zone: "eu" }, state: "online", memberId: "a" });
    expect(a.link.locate("n2")).toBe("b");
    expect(b.link.locate("n1")).toBe("a");
    expect(a.link.locate("n1")).toBeUndefined();

    const c = await member("c", `t${prefixes}`);
    expect(c.view()).toEqual(["n1@a:online", "n2@b:online"]);
    expect(c.events).toEqual([]);
    a.leave("n1", "timed_out", "heartbeat_timeout");
    await until(() => c.view().length === 1 && b.view().length === 0);
    expect(c.story("n1")).toEqual(["timed_out heartbeat_timeout @a"]);
  });

  it("relays publish, broadcast, direct and reply with the bytes intact", async () => {
    const [a, b, c] = (await cluster(["a", "b", "c"])) as [FakeMember, FakeMember, FakeMember];
    c.join("n3");
    await until(() => a.link.locate("n3") === "c");
    const big = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff);
    a.link.send({ type: "publish", subject: "s.1", body: Uint8Array.of(0, 1, 255) });
    a.link.send({ type: "broadcast", body: Uint8Array.of(2), exceptNodeId: "n9" });
    a.link.send({ type: "direct", nodeId: "n3", body: big }, a.link.locate("n3"));
    a.link.send({ type: "reply", nodeId: "n3", body: Uint8Array.of() }, "c");
    await until(() => c.delivered.length === 4 && b.delivered.length === 2);
    expect(b.delivered.map((d) => [d.envelope.type, d.from, [...d.envelope.body]])).toEqual([
      ["publish", "a", [0, 1, 255]],
      ["broadcast", "a", [2]],
    ]);
    expect(c.delivered.map((d) => d.envelope)).toEqual([
      { type: "publish", subject: "s.1", body: Uint8Array.of(0, 1, 255) },
      { type: "broadcast", body: Uint8Array.of(2), exceptNodeId: "n9" },
      { type: "direct", nodeId: "n3", body: big },
      { type: "reply", nodeId: "n3", body: Uint8Array.of() },
    ]);
    await sleep(50);
    expect(a.delivered).toEqual([]); // its own publish on {prefix}:all is not delivered back
    expect(a.link.stats()).toMatchObject({ relayedOut: 4, dropped: 0, undelivered: 0 });
    a.link.send({ type: "direct", nodeId: "zz", body: Uint8Array.of() }, "nobody");
    await until(() => stat(a, "undelivered") === 1);
  });

  it("heartbeat-free: nodes that just sit there cost only lease renewals", async () => {
    const [a, b] = (await cluster(["a", "b"])) as [FakeMember, FakeMember];
    for (let i = 0; i < 1_000; i++) a.join(`n${i}`, { rack: String(i % 10) });
    await until(() => b.link.remoteNodes().size === 1_000);
    expect(stat(a, "presenceWrites")).toBe(1_000);
    const before = { a: a.link.stats(), b: b.link.stats() };
    const t0 = performance.now();
    await sleep(1_200);
    const elapsed = performance.now() - t0;
    for (const [m, s0] of [
      [a, before.a],
      [b, before.b],
    ] as const) {
      const s = m.link.stats();
      const commands = (s.redisCommands as number) - (s0.redisCommands as number);
      const renewals = (s.leaseRefreshes as number) - (s0.leaseRefreshes as number);
      expect(commands).toBe(renewals);
      expect(renewals).toBeGreaterThanOrEqual(Math.floor(elapsed / LEASE_REFRESH) - 2);
      expect(renewals).toBeLessThanOrEqual(Math.ceil(elapsed / LEASE_REFRESH) + 1);
    }
  });

  it("a crashed member (no renewals) is lost by the others within leaseTtl + leaseRefresh, with its nodes", async () => {
    const [a, b, c] = (await cluster(["a", "b", "c"])) as [FakeMember, FakeMember, FakeMember];
    a.join("n1");
    a.join("n2");
    b.join("m1");
    await until(() => c.link.remoteNodes().size === 3);
    const t0 = performance.now();
    bus(a).kill();
    await until(() => b.lost.length > 0 && c.lost.length > 0, 3_000, "memberLost");
    const took = performance.now() - t0;
    console.log(`memberLost ${Math.round(took)} ms after the crash (leaseTtl ${LEASE_TTL}, leaseRefresh ${LEASE_REFRESH})`);
    expect(took).toBeLessThanOrEqual(LEASE_TTL + LEASE_REFRESH + 150); // + timer slack
    await sleep(LEASE_REFRESH * 2);
    for (const m of [b, c]) {
      expect(m.lost.map((l) => [l.memberId, l.nodes.map((n) => n.nodeId).sort()])).toEqual([["a", ["n1", "n2"]]]);
    }
    expect(c.view()).toEqual(["m1@b:online"]);
    expect(await admin.exists(`t${prefixes}:nodes:a`)).toBe(0);
    expect(await admin.zscore(`t${prefixes}:members`, "a")).toBeNull();
  });

  it("close() leaves at once: the others get memberLost without waiting for the lease", async () => {
    const [a, b] = (await cluster(["a", "b"])) as [FakeMember, FakeMember];
    a.join("n1");
    await until(() => b.view().length === 1);
    a.leave("n1");
    await bus(a).close();
    await until(() => b.lost.length === 1, LEASE_TTL / 2, "memberLost after close");
    expect(b.lost[0]).toEqual({ memberId: "a", nodes: [] });
    expect(b.story("n1")).toEqual(["joined hello @a", "left goodbye @a"]);
    expect(a.link.health().state).toBe("degraded");
  });

  it("a takeover across servers: left replaced @old, joined @new, late left swallowed", async () => {
    const [a, b, c] = (await cluster(["a", "b", "c"])) as [FakeMember, FakeMember, FakeMember];
    a.join("x");
    await until(() => b.link.locate("x") === "a" && c.link.locate("x") === "a");
    b.join("x", {}, "replaced");
    await until(() => a.story("x").length === 1);
    a.leave("x", "left", "replaced");
    await sleep(100);
    expect(c.story("x")).toEqual(["joined hello @a", "left replaced @a", "joined replaced @b"]);
    expect(c.link.locate("x")).toBe("b");
    expect(a.link.locate("x")).toBe("b");
  });

  it("Redis lost its data without a disconnect (FLUSHALL): every member re-announces, nothing reported", async () => {
    const [a, b] = (await cluster(["a", "b"])) as [FakeMember, FakeMember];
    a.join("n1");
    b.join("m1");
    await until(() => a.view().length === 1 && b.view().length === 1);
    await admin.flushall();
    const prefix = `t${prefixes}`;
    // Rewritten: its node, the sequence number ("") and the sync message (SYNC_FIELD).
    await waitFor(async () => (await admin.hlen(`${prefix}:nodes:a`)) === 3 && (await admin.hlen(`${prefix}:nodes:b`)) === 3);
    expect(await admin.zcard(`${prefix}:members`)).toBe(2);
    a.join("n2");
    await until(() => b.view().length === 2);
    expect(b.view()).toEqual(a.own());
    expect(b.events.map((e) => `${e.kind} ${e.nodeId}`)).toEqual(["joined n1", "joined n2"]);
    expect(a.lost).toEqual([]);
  });

  it("Redis killed and restarted empty: degraded meanwhile, changes kept, then everything resynced exactly", async () => {
    const [a, b, c] = (await cluster(["a", "b", "c"])) as [FakeMember, FakeMember, FakeMember];
    const prefix = `t${prefixes}`;
    for (let i = 0; i < 50; i++) a.join(`a${i}`);
    for (let i = 0; i < 50; i++) b.join(`b${i}`, { k: "v" });
    c.join("c0");
    await until(() => a.view().length === 51 && b.view().length === 51 && c.view().length === 100);

    await redis.kill();
    await until(() => [a, b, c].every((m) => m.link.health().state === "degraded"), 3_000, "degraded");
    expect(a.link.health().detail).toMatch(/Redis .* connection lost/);
    // Local traffic goes on: changes while down are kept.
    for (let i = 0; i < 10; i++) a.leave(`a${i}`, "left", "goodbye");
    a.join("a-new", { born: "offline" });
    b.suspect("b0");
    b.leave("b1", "timed_out", "heartbeat_timeout");
    c.join("c1");
    a.link.send({ type: "publish", subject: "s", body: Uint8Array.of(1) });
    expect(stat(a, "dropped")).toBe(1);
    expect(stat(a, "pending")).toBe(11);
    await sleep(LEASE_TTL + LEASE_REFRESH); // longer than a lease: nobody may be declared lost for Redis being away

    await redis.restart();
    await until(() => [a, b, c].every((m) => m.link.health().state === "ok"), 5_000, "ok again");
    for (const m of [a, b, c]) {
      const others = [a, b, c].filter((o) => o !== m).flatMap((o) => o.own()).sort();
      await until(() => expect(m.view()).toEqual(others));
      expect(m.lost).toEqual([]);
      expect(stat(m, "pending")).toBe(0);
    }
    // The directory in Redis is exact again.
    for (const m of [a, b, c]) {
      const fields = (await admin.hkeys(`${prefix}:nodes:${m.id}`)).filter((f) => f !== "" && f !== SYNC_FIELD).sort();
      expect(fields).toEqual([...m.local.keys()].sort());
    }
    expect((await admin.zrange(`${prefix}:members`, "0", "-1")).sort()).toEqual(["a", "b", "c"]);
    // The others heard the real reasons of what happened while Redis was away.
    expect(b.story("a0").at(-1)).toBe("left goodbye @a");
    expect(b.story("a-new")).toEqual(["joined hello @a"]);
    expect(a.story("b0").at(-1)).toBe("suspect heartbeat_missed @b");
    expect(c.story("b1").at(-1)).toBe("timed_out heartbeat_timeout @b");
    expect(a.story("c1")).toEqual(["joined hello @c"]);
    // Relays and presence work again.
    a.link.send({ type: "publish", subject: "s", body: Uint8Array.of(2) });
    c.join("c2");
    await until(() => b.delivered.length === 1 && a.link.locate("c2") === "c");
    expect([...(b.delivered[0]?.envelope.body ?? [])]).toEqual([2]);
  });

  it("a member that died while Redis was away is lost leaseTtl after Redis is back", async () => {
    const [a, b] = (await cluster(["a", "b"])) as [FakeMember, FakeMember];
    b.join("m1");
    await until(() => a.view().length === 1);
    await redis.kill();
    await until(() => a.link.health().state === "degraded");
    bus(b).kill();
    await redis.restart();
    await until(() => a.link.health().state === "ok", 5_000);
    expect(a.lost).toEqual([]);
    await until(() => a.lost.length === 1, LEASE_TTL + 3 * LEASE_REFRESH + 500, "memberLost");
    expect(a.lost[0]?.memberId).toBe("b");
    expect(a.lost[0]?.nodes.map((n) => n.nodeId)).toEqual(["m1"]);
  });

  it("a hash loaded before its member's published sync arrives still yields the kept changes' real reasons", async () => {
    const [a] = (await cluster(["a"])) as [FakeMember];
    const prefix = `t${prefixes}`;
    const joined = (nodeId: string, memberId: string) =>
      ({ kind: "joined", nodeId, labels: {}, reason: "hello", time: 1, memberId }) as const;
    // Members s and t (played by hand) rewrote their hashes after an outage, each
    // with the sync it kept (c1 joined while Redis was away); the published syncs
    // have not reached a. s changed nothing since (hash seq = sync seq); t did (7 > 5).
    for (const [m, seq] of [["s", 5], ["t", 7]] as const) {
      const sync = encodePresenceMessage({ type: "sync", memberId: m, seq: 5, hints: [joined(`${m}1`, m)] });
      await admin.hset(`${prefix}:nodes:${m}`, `${m}1`, encodeDirectoryEntry("online", {}), "", String(seq), SYNC_FIELD, sync);
      // The member's next event reaches a first: a loads the hash, then applies the event.
      await admin.publish(`${prefix}:presence`, encodePresenceMessage({ type: "event", seq: seq + 1, event: joined(`${m}2`, m) }));
    }
    await until(() => a.view().length === 4);
    expect(a.story("s1")).toEqual(["joined hello @s"]);
    // A stale stored sync (changes since) is not trusted: the difference gets the resync reason.
    expect(a.story("t1")).toEqual(["joined resync @t"]);
    expect([a.story("s2"), a.story("t2")]).toEqual([["joined hello @s"], ["joined hello @t"]]);
  });

  it("follows a member's sequence: loads an unknown member, reloads on a gap, drops what no snapshot explains", async () => {
    const [a] = (await cluster(["a"])) as [FakeMember];
    const prefix = `t${prefixes}`;
    const hash = `${prefix}:nodes:g`;
    const event = (seq: number, nodeId: string) =>
      encodePresenceMessage({
        type: "event",
        seq,
        event: { kind: "joined", nodeId, labels: {}, reason: "hello", time: 1, memberId: "g" },
      });
    // Member g (played by hand, without a lease) writes seq 1 and publishes it.
    await admin.hset(hash, "g1", encodeDirectoryEntry("online", {}), "", "1");
    await admin.publish(`${prefix}:presence`, event(1, "g1"));
    await until(() => a.view().length === 1);
    // Seq 2 is lost on the way (written, never published); seq 3 arrives: a gap.
    await admin.hset(hash, "g0", encodeDirectoryEntry("online", {}), "g2", encodeDirectoryEntry("suspect", {}), "", "3");
    await admin.publish(`${prefix}:presence`, event(3, "g2"));
    await until(() => a.view().length === 3);
    expect(a.view()).toEqual(["g0@g:online", "g1@g:online", "g2@g:suspect"]);
    expect(a.story("g2")).toEqual(["joined resync @g", "suspect resync @g"]);
    // A message from the future that no snapshot explains: a few reloads, then dropped.
    await admin.publish(`${prefix}:presence`, event(10, "g9"));
    await until(() => stat(a, "gapsDropped") === 1);
    expect(a.view()).toEqual(["g0@g:online", "g1@g:online", "g2@g:suspect"]);
    // g never had a lease: after leaseTtl without one it is reaped.
    await until(() => a.lost.length === 1, LEASE_TTL + 3 * LEASE_REFRESH, "memberLost");
    expect(a.lost[0]?.nodes.map((n) => n.nodeId).sort()).toEqual(["g0", "g1", "g2"]);
    expect(await admin.exists(hash)).toBe(0);
  });

  it("churn on every member through a Redis restart ends with exact views everywhere", async () => {
    const ms = (await cluster(["a", "b", "c"])) as FakeMember[];
    let n = 0;
    const step = () => {
      for (const m of ms) {
        const ids = [...m.local.keys()];
        const r = Math.random();
        if (ids.length > 0 && r < 0.3) m.leave(ids[Math.floor(Math.random() * ids.length)] as string);
        else if (ids.length > 0 && r < 0.45) {
          const id = ids[Math.floor(Math.random() * ids.length)] as string;
          if (m.local.get(id)?.state === "online") m.suspect(id);
          else m.recover(id);
        } else m.join(`${m.id}-${n++}`, { i: String(n % 3) });
      }
    };
    const churn = setInterval(step, 5);
    try {
      await sleep(300);
      await redis.kill();
      await sleep(300);
      await redis.restart();
      await until(() => ms.every((m) => m.link.health().state === "ok"), 5_000, "ok again");
      await sleep(300);
    } finally {
      clearInterval(churn);
    }
    for (const m of ms) {
      const others = ms.filter((o) => o !== m).flatMap((o) => o.own()).sort();
      await until(() => expect(m.view()).toEqual(others), 3_000);
      expect(m.lost).toEqual([]);
    }
    // Every event stream a member saw is a valid §7.1 sequence per node, consistent with the end state.
    for (const m of ms) {
      const online = new Map<string, string>();
      for (const e of m.events) {
        const was = online.get(e.nodeId);
        if (e.kind === "joined") expect(was).toBeUndefined();
        else expect(was, `${m.id}: ${e.kind} ${e.nodeId} without joined`).toBeDefined();
        if (e.kind === "suspect") expect(was).toBe("online");
        if (e.kind === "recovered") expect(was).toBe("suspect");
        if (e.kind === "left" || e.kind === "timed_out") online.delete(e.nodeId);
        else online.set(e.nodeId, e.kind === "suspect" ? "suspect" : "online");
      }
      expect([...online].map(([id, st]) => `${id}@${m.link.locate(id)}:${st}`).sort()).toEqual(m.view());
    }
    console.log(
      "churn:",
      ms.map((m) => `${m.id} local ${m.local.size} events ${m.events.length} loads ${stat(m, "loads")} gapsDropped ${stat(m, "gapsDropped")}`).join("; "),
    );
  });

  it("Redis drops the subscriber connections (e.g. output buffer limit): resync, nothing missed", async () => {
    const [a, b] = (await cluster(["a", "b"])) as [FakeMember, FakeMember];
    a.join("n1");
    await until(() => b.view().length === 1);
    await admin.call("CLIENT", "KILL", "TYPE", "pubsub");
    a.join("n2"); // published while b may not be listening
    b.join("m1");
    await until(() => a.link.health().state === "ok" && b.link.health().state === "ok");
    await until(() => expect(b.view()).toEqual(a.own()));
    await until(() => expect(a.view()).toEqual(b.own()));
    expect(stat(b, "outages")).toBe(1);
  });

  it("a member reaped while alive (a long pause) announces itself again", async () => {
    const [a, b] = (await cluster(["a", "b"])) as [FakeMember, FakeMember];
    const prefix = `t${prefixes}`;
    a.join("n1");
    a.join("n2");
    await until(() => b.view().length === 2);
    // What another member does when a's lease ran out during a pause of a's process.
    await admin.zrem(`${prefix}:members`, "a");
    await admin.del(`${prefix}:nodes:a`);
    await admin.publish(`${prefix}:presence`, encodePresenceMessage({ type: "lost", memberId: "a" }));
    await until(() => b.lost.length === 1);
    expect(b.lost[0]?.nodes.map((n) => n.nodeId).sort()).toEqual(["n1", "n2"]);
    await until(() => expect(b.view()).toEqual(a.own()));
    expect(b.story("n1")).toEqual(["joined hello @a", "joined resync @a"]);
    expect(await admin.zscore(`${prefix}:members`, "a")).not.toBeNull();
    expect((await admin.hkeys(`${prefix}:nodes:a`)).sort()).toEqual(["", SYNC_FIELD, "n1", "n2"]);
  });

  it("start() rejects when Redis is not reachable within startTimeout", async () => {
    const link = new RedisBus({ redis: "redis://127.0.0.1:1", startTimeout: 300 });
    running.push(link);
    await expect(new FakeMember("z", link).start()).rejects.toThrow(/not ready within startTimeout \(300 ms\)/);
    expect(link.health().state).toBe("degraded");
  });
});

async function waitFor(check: () => Promise<boolean>, timeout = 5_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(20);
  }
}
