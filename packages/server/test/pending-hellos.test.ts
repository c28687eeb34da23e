// PendingHellos.evictIdle: the accept pacer takes back the handshake slot of a silent connection, never
// that of one whose Hello waits in the server's own queue (read while the turn's budget was spent).
import { expect, it } from "vitest";
import { makeFrame } from "@hb/codec";
import { ServerCounters, resolveServerOptions } from "../src/internal.js";
import { type PendingHello, PendingHellos } from "../src/session/pending-hellos.js";
import { FakeClock, FakeCore, drained, spendTurn } from "./fake-core.js";

class Conn implements PendingHello {
  holdsInput = false;
  closed: string | undefined;
  constructor(readonly remoteAddress: string) {}
  crowdedOut(message: string): void {
    this.closed = message;
  }
}

function setup() {
  const clock = new FakeClock();
  const stats = new ServerCounters();
  const hellos = new PendingHellos({ options: resolveServerOptions({ workerCount: 1 }), stats, clock });
  return { clock, stats, hellos };
}

it("closes the oldest silent connection once it waited idleMs and minTurns, not before", () => {
  const { clock, stats, hellos } = setup();
  const a = new Conn("a");
  const b = new Conn("b");
  hellos.add(a);
  hellos.add(b);
  clock.t = 999;
  hellos.turn();
  hellos.turn();
  hellos.turn();
  expect(hellos.evictIdle(1_000, 3)).toBe(false);
  clock.t = 1_000;
  expect(hellos.evictIdle(1_000, 3)).toBe(true);
  expect(a.closed).toMatch(/silent for 1000 ms/);
  expect(b.closed).toBeUndefined();
  expect(stats.helloEvictions).toBe(1);
  expect(hellos.size).toBe(1);
});

it("skips connections whose input waits in the server's queue: the next silent one goes, or none", () => {
  const { clock, stats, hellos } = setup();
  const busy = [new Conn("busy-1"), new Conn("busy-2")];
  const silent = new Conn("silent");
  for (const c of busy) {
    c.holdsInput = true;
    hellos.add(c);
  }
  hellos.add(silent);
  clock.t = 5_000;
  for (let i = 0; i < 3; i++) hellos.turn();
  expect(hellos.evictIdle(1_000, 3)).toBe(true);
  expect(silent.closed).toBeDefined();
  expect(busy.map((c) => c.closed)).toEqual([undefined, undefined]);
  // Only busy ones left: nothing is closed, however long they wait.
  clock.t = 60_000;
  expect(hellos.evictIdle(1_000, 3)).toBe(false);
  expect(stats.helloEvictions).toBe(1);
  expect(hellos.size).toBe(2);
  // Once the server has looked at their input and they are silent again, they go, oldest first.
  busy[0]!.holdsInput = false;
  busy[1]!.holdsInput = false;
  expect(hellos.evictIdle(1_000, 3)).toBe(true);
  expect(busy[0]!.closed).toBeDefined();
  expect(busy[1]!.closed).toBeUndefined();
});

it("the count bound still closes the oldest, busy or not (a flood)", () => {
  const stats = new ServerCounters();
  const small = new PendingHellos({ options: resolveServerOptions({ workerCount: 1, maxPendingHellos: 2 }), stats, clock: new FakeClock() });
  const c = [new Conn("1"), new Conn("2"), new Conn("3")];
  c[0]!.holdsInput = true;
  for (const x of c) small.add(x);
  expect(c[0]!.closed).toMatch(/maxPendingHellos/);
  expect(small.size).toBe(2);
  expect(stats.helloEvictions).toBe(1);
});

it("a session whose Hello was held for a later turn holds input: it is not taken for silent", async () => {
  const f = new FakeCore();
  const hellos = f.core.sessions.hellos;
  const peer = f.connect();
  hellos.add(peer.session);
  // The Hello that arrives after this is held for a later turn (as in held-hello.test.ts).
  spendTurn();
  peer.send(makeFrame("hello", { protocolVersion: 1, nodeId: "held" }));
  expect(peer.session.holdsInput).toBe(true);
  expect(hellos.evictIdle(0, 0)).toBe(false);
  expect(peer.session.closed).toBe(false);
  await drained();
  await drained();
  expect(peer.transport.kinds()).toContain("welcome");
  expect(hellos.size).toBe(0);
});
