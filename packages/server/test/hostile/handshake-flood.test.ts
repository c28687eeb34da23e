// Handshake floods: sockets that connect and never send a Hello (or send a
// partial one and stall). The server bounds them in count
// (`maxPendingHellos`) and in bytes (`maxPendingHelloBytes`); at a bound
// it closes the OLDEST waiting connection with SERVER_FULL, so real nodes,
// whose Hello follows their connect, get in while a flood holds sockets.
import { type Socket, connect } from "node:net";
import { ErrorCode, PROTOCOL_VERSION } from "@hb/codec";
import { afterEach, describe, expect, it } from "vitest";
import { HeartbeatServer } from "../../src/index.js";
import { start } from "../helpers.js";
import { RawPeer, sleep, waitFor } from "../raw-peer.js";
import { ServerProcess } from "./server-process-handle.js";

const open: Socket[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.destroy();
});

/**
 * Opens `n` raw sockets to `port` (source addresses 127.0.0.2-9), in waves
 * of `wave` (1: one after the other, so the server accepts them in order);
 * `first` is written on connect.
 */
async function flood(port: number, n: number, first?: (i: number) => Uint8Array | undefined, wave = 500): Promise<Socket[]> {
  const out: Socket[] = [];
  for (let at = 0; at < n; at += wave) {
    const batch = await Promise.all(
      Array.from(
        { length: Math.min(wave, n - at) },
        (_, k) =>
          new Promise<Socket>((resolve, reject) => {
            const i = at + k;
            const s = connect({ port, host: "127.0.0.1", localAddress: `127.0.0.${2 + (i % 8)}` });
            s.on("error", () => {});
            s.resume(); // read (and drop) what the server says, so that its close is seen
            s.once("connect", () => {
              const bytes = first?.(i);
              if (bytes !== undefined) s.write(bytes);
              resolve(s);
            });
            s.once("close", () => reject(new Error("closed before connect")));
          }),
      ),
    );
    out.push(...batch);
  }
  open.push(...out);
  return out;
}

// The first bytes of a Hello whose length prefix announces 1 MiB (the most a Hello may be): it never completes.
const STALLED_HELLO = new Uint8Array([0x80, 0x80, 0x40, 0x0a, 0x02, 0x08, 0x01]);

describe("connections waiting for Hello", () => {
  it("over maxPendingHellos: the oldest is closed with SERVER_FULL, counted, and real nodes get in", async () => {
    const warnings: { code?: string; suppressed?: number }[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (o: object) => void warnings.push(o) };
    const { server, port } = await start({ maxPendingHellos: 40, handshakeTimeout: 60_000, logger });
    try {
      const first = await flood(port, 40);
      await waitFor(() => server.stats().awaitingHello === 40, 10_000, "40 waiting");
      const closed = first.map((s) => new Promise<void>((r) => s.once("close", () => r())));
      const errors: number[] = [];
      for (const s of first) s.on("data", (b: Buffer) => errors.push(b.length));
      // 40 more: each closes one of the first 40 (the oldest), never a newer one.
      const second = await flood(port, 40);
      await Promise.all(closed);
      expect(errors.length).toBeGreaterThanOrEqual(40); // each got its ProtocolError before the close
      await waitFor(() => server.stats().helloEvictions === 40, 10_000, "40 evictions");
      expect(second.every((s) => !s.destroyed)).toBe(true);
      const stats = server.stats();
      expect(stats.awaitingHello).toBe(40);
      expect(stats.errors.SERVER_FULL).toBe(40);
      // Logged, but not once per socket.
      const logged = warnings.filter((w) => w.code === "SERVER_FULL");
      expect(logged.length).toBeGreaterThanOrEqual(1);
      expect(logged.length).toBeLessThan(10);
      // A real node still gets in (it evicts one more flood socket on its way).
      const node = await RawPeer.connect(port);
      await node.hello({ nodeId: "real" });
      expect(server.get("real")?.state).toBe("online");
      expect(server.stats().awaitingHello).toBe(40 - 1);
      node.destroy();
    } finally {
      await server.close();
    }
  });

  it("an evicted connection receives SERVER_FULL before the close", async () => {
    const { server, port } = await start({ maxPendingHellos: 1, handshakeTimeout: 60_000 });
    try {
      const old = await RawPeer.connect(port);
      await waitFor(() => server.stats().awaitingHello === 1, 10_000, "1 waiting");
      const fresh = await RawPeer.connect(port);
      expect(await old.error()).toMatchObject({ code: ErrorCode.SERVER_FULL, fatal: true });
      await old.closed;
      await fresh.hello({ nodeId: "fresh" });
      fresh.destroy();
    } finally {
      await server.close();
    }
  });

  it("over maxPendingHelloBytes: the oldest partial Hellos are closed until the rest fit", async () => {
    const { server, port } = await start({ maxPendingHelloBytes: 1024 * 1024, handshakeTimeout: 60_000 });
    try {
      // Each sends 64 KiB of a 1 MiB Hello: the decoder holds 64 KiB for it (it grows with what arrives).
      const part = new Uint8Array(64 * 1024 + 3);
      part.set([0x80, 0x80, 0x40], 0);
      const socks = await flood(port, 32, () => part, 1);
      const closed = () => socks.flatMap((x, i) => (x.destroyed ? [i] : []));
      const closedCount = () => closed().length;
      // Every byte read (what evicted connections had in flight may never be).
      await waitFor(() => server.stats().bytesIn + (server.stats().helloEvictions * part.length) >= 32 * part.length, 10_000, "read");
      await waitFor(() => closedCount() === server.stats().helloEvictions, 10_000, "evicted sockets closed");
      const s = server.stats();
      expect(s.awaitingHelloBytes).toBeLessThanOrEqual(1024 * 1024);
      expect(s.helloEvictions).toBeGreaterThanOrEqual(16);
      expect(s.awaitingHello).toBe(32 - s.helloEvictions);
      // The oldest went first: the closed sockets are the first ones.
      expect(closed()).toEqual([...Array(s.helloEvictions).keys()]);
      const node = await RawPeer.connect(port);
      await node.hello({ nodeId: "real" });
      node.destroy();
    } finally {
      await server.close();
    }
  });

  it("with 2 worker processes each takes its share of maxPendingHellos", async () => {
    // reusePort false: round-robin alternates strictly, so each worker gets 20 of the 40.
    const server = new HeartbeatServer({
      workerCount: 2,
      host: "127.0.0.1",
      port: 0,
      maxPendingHellos: 20,
      handshakeTimeout: 60_000,
      closeTimeout: 500,
      reusePort: false,
    });
    try {
      const { port } = await server.listen();
      // 40 idle sockets, spread round-robin: each worker keeps its 10 newest and closes the rest.
      const socks = await flood(port, 40, undefined, 1);
      await waitFor(() => socks.filter((x) => x.destroyed).length === 20, 10_000, "20 evicted");
      await waitFor(() => server.stats().helloEvictions === 20 && server.stats().awaitingHello === 20, 10_000, "worker reports");
      expect(server.stats().errors.SERVER_FULL).toBe(20);
      const node = await RawPeer.connect(port);
      await node.hello({ nodeId: "real" });
      node.destroy();
    } finally {
      await server.close();
    }
  });

  it("reconfigure changes maxPendingHellos live", async () => {
    const { server, port } = await start({ handshakeTimeout: 60_000 });
    try {
      await flood(port, 10);
      await waitFor(() => server.stats().awaitingHello === 10, 10_000, "10 waiting");
      server.reconfigure({ maxPendingHellos: 5 });
      await flood(port, 1); // the next accept applies the new bound
      await waitFor(() => server.stats().awaitingHello === 5, 10_000, "5 waiting");
      expect(server.stats().helloEvictions).toBe(6);
    } finally {
      await server.close();
    }
  });
});

// Memory per connection waiting for Hello, in the server process alone
// (measured after a full GC: `node --expose-gc`), and the bound the docs give
// (docs/SECURITY.md, "Handshake floods"): at most PER_SOCKET_BOUND bytes of
// RSS per idle socket, plus what partial Hellos hold (≤ maxPendingHelloBytes).
const FLOOD = 5_000;
const PER_SOCKET_BOUND = 8 * 1024;
const STALLED_EVERY = 2; // every 2nd socket sends the start of a 1 MiB Hello and stalls

it(`a flood of ${FLOOD} sockets without Hello stays within ${PER_SOCKET_BOUND / 1024} KiB each plus the partial-Hello budget, and real nodes get in meanwhile`, async () => {
  // Every socket admitted (maxHandshakes above the flood): the bound measured here is the pending Hellos'.
  const server = await ServerProcess.start({ handshakeTimeout: 120_000, maxHandshakes: 10_000 });
  try {
    const before = await server.sample();
    const t0 = performance.now();
    await flood(server.port, FLOOD, (i) => (i % STALLED_EVERY === 0 ? STALLED_HELLO : undefined));
    const floodMs = performance.now() - t0;
    let during = await server.sample();
    const deadline = Date.now() + 30_000;
    // Every socket admitted, and every stalled socket's partial Hello read (the last 4 KiB may still be on the way).
    const heldAll = (FLOOD / STALLED_EVERY) * 4096;
    while ((during.stats.awaitingHello < FLOOD || during.stats.awaitingHelloBytes < heldAll) && Date.now() < deadline) {
      during = await server.sample();
    }
    expect(during.stats.awaitingHello).toBe(FLOOD);
    expect(during.stats.helloEvictions).toBe(0);
    // Real nodes get in while the flood holds its sockets.
    const nodes = await Promise.all(Array.from({ length: 50 }, () => RawPeer.connect(server.port, { keep: false })));
    const t1 = performance.now();
    await Promise.all(nodes.map((n, i) => n.hello({ nodeId: `real-${i}`, protocolVersion: PROTOCOL_VERSION })));
    const helloMs = performance.now() - t1;
    const after = await server.sample();
    expect(after.stats.online).toBe(50);
    for (const n of nodes) n.destroy();
    const rss = during.rss - before.rss;
    const heap = during.heapUsed - before.heapUsed;
    const held = during.stats.awaitingHelloBytes;
    console.log(
      `handshake flood: ${FLOOD} sockets in ${floodMs.toFixed(0)} ms; server RSS +${(rss / 2 ** 20).toFixed(1)} MiB ` +
        `(${(rss / FLOOD).toFixed(0)} B/socket), heap +${(heap / 2 ** 20).toFixed(1)} MiB (${(heap / FLOOD).toFixed(0)} B/socket), ` +
        `partial Hellos hold ${(held / 2 ** 20).toFixed(1)} MiB; 50 real nodes welcomed in ${helloMs.toFixed(0)} ms`,
    );
    expect(held).toBe(heldAll);
    expect(rss).toBeLessThan(FLOOD * PER_SOCKET_BOUND + held);
  } finally {
    for (const s of open.splice(0)) s.destroy();
    await server.close();
  }
}, 120_000);

it(`with the default accept pacing (maxHandshakes 2 000), a flood of ${FLOOD} silent sockets does not keep real nodes waiting`, async () => {
  // The flood takes every handshake slot and queues 3 000 sockets more; real nodes queue behind them. Slots
  // held by connections silent for a second go to the sockets waiting, so the real nodes are admitted in turn.
  const server = await ServerProcess.start({ handshakeTimeout: 120_000 });
  try {
    await flood(server.port, FLOOD);
    let s = await server.sample();
    const deadline = Date.now() + 30_000;
    while (s.stats.acceptPaced === 0 && Date.now() < deadline) s = await server.sample();
    expect(s.stats.acceptPaced).toBeGreaterThan(0);
    const nodes = await Promise.all(Array.from({ length: 50 }, () => RawPeer.connect(server.port, { keep: false })));
    const t1 = performance.now();
    await Promise.all(nodes.map((n, i) => n.hello({ nodeId: `real-${i}`, protocolVersion: PROTOCOL_VERSION }, 30_000)));
    const helloMs = performance.now() - t1;
    const after = await server.sample();
    expect(after.stats.online).toBe(50);
    expect(after.stats.helloEvictions).toBeGreaterThan(0);
    console.log(`paced flood: ${FLOOD} silent sockets, ${after.stats.acceptPaced} paced, ${after.stats.helloEvictions} silent ones closed; 50 real nodes welcomed in ${helloMs.toFixed(0)} ms`);
    for (const n of nodes) n.destroy();
  } finally {
    for (const x of open.splice(0)) x.destroy();
    await server.close();
  }
}, 120_000);

it("a queue that moves closes nobody: a node slow to say Hello keeps its slot while others pass through the other one", async () => {
  // Two slots: `slow` holds one and says nothing for 2 s; pairs of real nodes connect meanwhile, the first of
  // each pair saying Hello after 30 ms, the second waiting for its slot meanwhile (the pacer decides every 5 ms
  // with a socket waiting). Only sockets waiting a second for a slot may take a silent one's.
  const { server, port } = await start({ maxHandshakes: 2, handshakeTimeout: 60_000 });
  try {
    const slow = await RawPeer.connect(port);
    await waitFor(() => server.stats().awaitingHello === 1, 10_000, "slow admitted");
    const until = Date.now() + 2_000;
    let k = 0;
    while (Date.now() < until) {
      const first = await RawPeer.connect(port, { keep: false });
      const second = await RawPeer.connect(port, { keep: false });
      const pair = [first, second];
      const waiting = second.hello({ nodeId: `pass-${k++}` }, 30_000);
      await sleep(30);
      await Promise.all([first.hello({ nodeId: `pass-${k++}` }, 30_000), waiting]);
      for (const p of pair) p.destroy();
    }
    expect(server.stats().acceptPaced).toBeGreaterThan(0);
    expect(server.stats().helloEvictions).toBe(0);
    await slow.hello({ nodeId: "slow" });
    expect(server.get("slow")?.state).toBe("online");
    slow.destroy();
  } finally {
    await server.close();
  }
}, 60_000);
