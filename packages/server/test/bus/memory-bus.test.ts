import { describe, expect, it } from "vitest";
import { MemoryBus, type MemoryLink } from "../../src/bus/memory-bus.js";
import { FakeMember } from "./fake-member.js";

async function members(bus: MemoryBus, ...ids: string[]): Promise<FakeMember[]> {
  const out: FakeMember[] = [];
  for (const id of ids) {
    const m = new FakeMember(id, bus.link());
    await m.start();
    out.push(m);
  }
  await bus.flush();
  return out;
}

const bytes = (...b: number[]) => Uint8Array.from(b);

describe("MemoryBus", () => {
  it("replicates presence both ways, in order, with nothing for the member's own nodes", async () => {
    const bus = new MemoryBus();
    const [a, b] = (await members(bus, "a", "b")) as [FakeMember, FakeMember];
    a.join("n1", { zone: "x" });
    b.join("n2");
    a.suspect("n1");
    a.recover("n1");
    await bus.flush();
    expect(b.story("n1")).toEqual(["joined hello @a", "suspect heartbeat_missed @a", "recovered heartbeat @a"]);
    expect(a.story("n2")).toEqual(["joined hello @b"]);
    expect(a.story("n1")).toEqual([]);
    expect(b.link.locate("n1")).toBe("a");
    expect(a.link.locate("n2")).toBe("b");
    expect(a.link.locate("n1")).toBeUndefined();
    expect(b.view()).toEqual(["n1@a:online"]);
    expect(b.link.remoteNodes().get("n1")?.labels).toEqual({ zone: "x" });
    a.leave("n1", "timed_out", "heartbeat_timeout");
    await bus.flush();
    expect(b.story("n1").at(-1)).toBe("timed_out heartbeat_timeout @a");
    expect(b.view()).toEqual([]);
  });

  it("loads the existing directory silently on start", async () => {
    const bus = new MemoryBus();
    const [a] = (await members(bus, "a")) as [FakeMember];
    a.join("n1");
    a.join("n2");
    await bus.flush();
    const [c] = (await members(bus, "c")) as [FakeMember];
    expect(c.view()).toEqual(["n1@a:online", "n2@a:online"]);
    expect(c.events).toEqual([]);
  });

  it("routes envelopes: publish and broadcast to all others, direct and reply to the holder", async () => {
    const bus = new MemoryBus();
    const [a, b, c] = (await members(bus, "a", "b", "c")) as [FakeMember, FakeMember, FakeMember];
    c.join("n3");
    await bus.flush();
    a.link.send({ type: "publish", subject: "s.1", body: bytes(1) });
    a.link.send({ type: "broadcast", body: bytes(2), exceptNodeId: "n9" });
    const holder = a.link.locate("n3");
    a.link.send({ type: "direct", nodeId: "n3", body: bytes(3) }, holder);
    a.link.send({ type: "reply", nodeId: "n3", body: bytes(4) }, holder);
    expect(b.delivered).toEqual([]); // never inside send()
    await bus.flush();
    expect(b.delivered.map((d) => [d.envelope.type, d.from, [...d.envelope.body]])).toEqual([
      ["publish", "a", [1]],
      ["broadcast", "a", [2]],
    ]);
    expect(c.delivered.map((d) => [d.envelope.type, [...d.envelope.body]])).toEqual([
      ["publish", [1]],
      ["broadcast", [2]],
      ["direct", [3]],
      ["reply", [4]],
    ]);
    expect(a.delivered).toEqual([]);
    expect(c.delivered[1]?.envelope).toMatchObject({ exceptNodeId: "n9" });
    expect(a.link.stats()).toMatchObject({ relayedOut: 4, dropped: 0 });
  });

  it("kill() → every other member gets memberLost once, with the killed member's nodes", async () => {
    const bus = new MemoryBus();
    const [a, b, c] = (await members(bus, "a", "b", "c")) as [FakeMember, FakeMember, FakeMember];
    a.join("n1");
    a.join("n2");
    await bus.flush();
    (a.link as MemoryLink).kill();
    (a.link as MemoryLink).kill();
    await bus.flush();
    for (const m of [b, c]) {
      expect(m.lost.map((l) => [l.memberId, l.nodes.map((n) => n.nodeId).sort()])).toEqual([["a", ["n1", "n2"]]]);
      expect(m.view()).toEqual([]);
    }
    expect(bus.members()).toEqual(["b", "c"]);
    b.link.send({ type: "publish", subject: "x", body: bytes(0) });
    await bus.flush();
    expect(a.delivered).toEqual([]);
  });

  it("a takeover is reported as left replaced then joined; the old holder's late left is swallowed", async () => {
    const bus = new MemoryBus();
    const [a, b, c] = (await members(bus, "a", "b", "c")) as [FakeMember, FakeMember, FakeMember];
    a.join("x");
    await bus.flush();
    b.join("x", {}, "replaced");
    await bus.flush();
    // a, told that b holds x now, replaces its own registration.
    expect(a.story("x")).toEqual(["joined replaced @b"]);
    a.leave("x", "left", "replaced");
    await bus.flush();
    expect(c.story("x")).toEqual(["joined hello @a", "left replaced @a", "joined replaced @b"]);
    expect(c.link.locate("x")).toBe("b");
    expect(a.link.locate("x")).toBe("b");
  });

  it("cut off: degraded, relays dropped, presence kept and resynced on reconnect with real reasons", async () => {
    const bus = new MemoryBus();
    const [a, b] = (await members(bus, "a", "b")) as [FakeMember, FakeMember];
    a.join("n1");
    a.join("n2");
    b.join("m1");
    await bus.flush();
    const link = a.link as MemoryLink;
    link.cutOff("redis unreachable");
    expect(link.health()).toEqual({ state: "degraded", detail: "redis unreachable" });
    link.send({ type: "publish", subject: "s", body: bytes(1) });
    a.leave("n1", "left", "goodbye");
    a.join("n3");
    a.suspect("n2");
    b.join("m2");
    b.leave("m1");
    await bus.flush();
    expect(b.view()).toEqual(["n1@a:online", "n2@a:online"]); // nothing got through
    expect(link.stats()).toMatchObject({ dropped: 1, pending: 3 });
    link.reconnect();
    await bus.flush();
    expect(link.health()).toEqual({ state: "ok" });
    expect(b.view()).toEqual(a.own());
    expect(b.story("n1").at(-1)).toBe("left goodbye @a");
    expect(b.story("n3")).toEqual(["joined hello @a"]);
    expect(b.story("n2").at(-1)).toBe("suspect heartbeat_missed @a");
    expect(a.view()).toEqual(b.own());
    expect(a.story("m1")).toEqual(["joined hello @b", "timed_out resync @b"]);
    expect(a.story("m2")).toEqual(["joined resync @b"]);
  });

  it("a member lost while another was cut off is reported to it on reconnect", async () => {
    const bus = new MemoryBus();
    const [a, b, c] = (await members(bus, "a", "b", "c")) as [FakeMember, FakeMember, FakeMember];
    c.join("n");
    await bus.flush();
    (a.link as MemoryLink).cutOff();
    (c.link as MemoryLink).kill();
    await bus.flush();
    expect(a.lost).toEqual([]);
    expect(b.lost.length).toBe(1);
    (a.link as MemoryLink).reconnect();
    await bus.flush();
    expect(a.lost.map((l) => [l.memberId, l.nodes.map((n) => n.nodeId)])).toEqual([["c", ["n"]]]);
  });

  it("refuses a duplicate member id", async () => {
    const bus = new MemoryBus();
    await members(bus, "a");
    await expect(new FakeMember("a", bus.link()).start()).rejects.toThrow(/already on the bus/);
  });
});
