import { ErrorCode, FrameEncoder, type OverflowPolicy, encodeFrame, makeFrame } from "@hb/codec";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HeartbeatServer } from "../src/index.js";
import { start } from "./helpers.js";
import { RawPeer, sleep, waitFor } from "./raw-peer.js";

// One server for every bad-input case, and one well-behaved "witness" node
// heartbeating throughout: each bad case must close only its own connection.
let server: HeartbeatServer;
let port: number;
let witness: RawPeer;
let witnessTimer: NodeJS.Timeout;
const warnings: { code?: string }[] = [];

const logger = {
  debug() {},
  info() {},
  warn(obj: object) {
    warnings.push(obj as { code?: string });
  },
  error() {},
};

beforeAll(async () => {
  ({ server, port } = await start({
    handshakeTimeout: 300,
    maxFrameSize: 4096,
    maxMessageSize: 0, // no fragments: see the Fragment case
    rateLimit: { framesPerSecond: 200, burst: 100 },
    logger,
    authenticate: (hello) => {
      if (hello.token === "throw") throw new Error("hook bug");
      if (hello.token === "bad-async") return Promise.resolve(false);
      if (hello.token === "slow") return new Promise((r) => setTimeout(() => r(true), 50));
      return hello.token !== "bad";
    },
  }));
  witness = await RawPeer.connect(port, { keep: false });
  await witness.hello({ nodeId: "witness" });
  witnessTimer = setInterval(() => witness.heartbeat(), 100);
});

afterAll(async () => {
  clearInterval(witnessTimer);
  // The witness saw no error, stayed online and got an ack for (nearly) every heartbeat.
  expect(witness.count("error")).toBe(0);
  expect(witness.isClosed).toBe(false);
  expect(server.get("witness")?.state).toBe("online");
  expect(witness.count("heartbeatAck")).toBeGreaterThanOrEqual(Number(witness.seq) - 2);
  witness.destroy();
  await server.close();
});

/** Expects `peer` to receive a fatal ProtocolError `code`, then be closed; checks it was counted and logged. */
async function expectFatal(peer: RawPeer, code: ErrorCode): Promise<void> {
  const before = server.stats().errors[ErrorCode[code]] ?? 0;
  const err = await peer.error();
  expect(ErrorCode[err.code]).toBe(ErrorCode[code]);
  expect(err.fatal).toBe(true);
  await peer.closed;
  const name = ErrorCode[code];
  expect(server.stats().errors[name]).toBeGreaterThanOrEqual(Math.max(1, before));
  expect(warnings.some((w) => w.code === name)).toBe(true);
}

const connect = () => RawPeer.connect(port);
const PROTOCOL_VERSION = 1;

describe("bad input closes only the offending connection", () => {
  it("malformed frame bytes → MALFORMED_FRAME", async () => {
    const p = await connect();
    p.sendRaw(new Uint8Array([3, 0xff, 0xff, 0xff]));
    await expectFatal(p, ErrorCode.MALFORMED_FRAME);
  });

  it("malformed bytes after a valid handshake → MALFORMED_FRAME, node leaves", async () => {
    const p = await connect();
    await p.hello({ nodeId: "garbage" });
    p.sendRaw(new Uint8Array([2, 0x0a, 0xff]));
    await expectFatal(p, ErrorCode.MALFORMED_FRAME);
    await waitFor(() => server.get("garbage") === undefined);
  });

  it("oversized length prefix → FRAME_TOO_LARGE before any buffering", async () => {
    const p = await connect();
    p.sendRaw(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]));
    await expectFatal(p, ErrorCode.FRAME_TOO_LARGE);
  });

  it("a length just over maxFrameSize → FRAME_TOO_LARGE", async () => {
    const p = await connect();
    p.sendRaw(new Uint8Array([0x81, 0x20])); // 4097
    await expectFatal(p, ErrorCode.FRAME_TOO_LARGE);
  });

  it("a prefix longer than 5 bytes → BAD_VARINT", async () => {
    const p = await connect();
    p.sendRaw(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]));
    await expectFatal(p, ErrorCode.BAD_VARINT);
  });

  it("a frame without body → EMPTY_FRAME", async () => {
    const p = await connect();
    p.sendRaw(new Uint8Array([0]));
    await expectFatal(p, ErrorCode.EMPTY_FRAME);
  });

  it("a frame before Hello → PROTOCOL_VIOLATION", async () => {
    const p = await connect();
    p.heartbeat();
    await expectFatal(p, ErrorCode.PROTOCOL_VIOLATION);
  });

  it("a second Hello → PROTOCOL_VIOLATION", async () => {
    const p = await connect();
    await p.hello({ nodeId: "twice" });
    p.send("hello", { protocolVersion: 1, nodeId: "twice" });
    await expectFatal(p, ErrorCode.PROTOCOL_VIOLATION);
  });

  it("a server-only frame from a client → PROTOCOL_VIOLATION", async () => {
    const p = await connect();
    await p.hello({ nodeId: "impostor" });
    p.send("welcome", { nodeId: "x" });
    await expectFatal(p, ErrorCode.PROTOCOL_VIOLATION);
  });

  it("auth hook refusing → UNAUTHORIZED (sync, async, and a throwing hook)", async () => {
    for (const token of ["bad", "bad-async", "throw"]) {
      const p = await connect();
      p.send("hello", { protocolVersion: PROTOCOL_VERSION, nodeId: `intruder-${token}`, token });
      await expectFatal(p, ErrorCode.UNAUTHORIZED);
      expect(server.get(`intruder-${token}`)).toBeUndefined();
    }
    expect(server.stats().listenerErrors).toBeGreaterThanOrEqual(1);
  });

  it("frames pipelined behind Hello wait for a slow auth hook", async () => {
    const p = await connect();
    const wire = new FrameEncoder()
      .add(makeFrame("hello", { protocolVersion: 1, nodeId: "pipelined", token: "slow" }))
      .add(makeFrame("heartbeat", { seq: 1n }))
      .finish();
    p.sendRaw(wire);
    await p.next("welcome");
    expect((await p.next("heartbeatAck")).seq).toBe(1n);
    p.destroy();
  });

  it("no Hello in time (slowloris) → HANDSHAKE_TIMEOUT", async () => {
    const p = await connect();
    const hello = encodeFrame(makeFrame("hello", { protocolVersion: 1, nodeId: "slowloris" }));
    p.sendRaw(hello.subarray(0, 3)); // a trickle of bytes is not a Hello
    const t0 = performance.now();
    await expectFatal(p, ErrorCode.HANDSHAKE_TIMEOUT);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });

  it("a flood of frames → RATE_LIMITED", async () => {
    const p = await connect();
    await p.hello({ nodeId: "flood" });
    const enc = new FrameEncoder();
    for (let i = 0; i < 500; i++) enc.add(makeFrame("heartbeat", { seq: BigInt(i) }));
    p.sendRaw(enc.finish());
    await expectFatal(p, ErrorCode.RATE_LIMITED);
    await waitFor(() => server.get("flood") === undefined);
  });

  it("unsupported protocol version → UNSUPPORTED_VERSION", async () => {
    const p = await connect();
    p.send("hello", { protocolVersion: 2, nodeId: "future" });
    await expectFatal(p, ErrorCode.UNSUPPORTED_VERSION);
  });

  it.each([
    ["a control character", { nodeId: "bad\nid" }],
    ["DEL", { nodeId: "bad\u007fid" }],
    ["129 bytes", { nodeId: "x".repeat(129) }],
    ["129 bytes of multi-byte UTF-8", { nodeId: "é".repeat(65) }],
    ["33 labels", { nodeId: "lab", labels: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"])) }],
    ["an empty label key", { nodeId: "lab", labels: { "": "v" } }],
    ["a 65-byte label key", { nodeId: "lab", labels: { ["k".repeat(65)]: "v" } }],
    ["a 257-byte label value", { nodeId: "lab", labels: { k: "v".repeat(257) } }],
    ["a wildcard will subject", { nodeId: "lab", will: { subject: "a.*", payload: new Uint8Array() } }],
    ["a will subject with a wildcard inside a token", { nodeId: "lab", will: { subject: "a.b*", payload: new Uint8Array() } }],
    ["a will subject of 17 tokens", { nodeId: "lab", will: { subject: Array(17).fill("t").join("."), payload: new Uint8Array() } }],
    ["a $hb. will subject", { nodeId: "lab", will: { subject: "$hb.presence", payload: new Uint8Array() } }],
    ["an empty will subject", { nodeId: "lab", will: { subject: "", payload: new Uint8Array() } }],
    ["max_frame_size 1023", { nodeId: "lab", maxFrameSize: 1023 }],
    ["max_frame_size over 64 MiB", { nodeId: "lab", maxFrameSize: 64 * 1024 * 1024 + 1 }],
  ])("an invalid Hello (%s) → INVALID_ARGUMENT", async (_what, init) => {
    const p = await connect();
    p.send("hello", { protocolVersion: 1, ...init });
    await expectFatal(p, ErrorCode.INVALID_ARGUMENT);
  });

  it("accepts the limits exactly", async () => {
    const p = await connect();
    // 32 labels with 64-byte keys (values kept short to fit this server's 4 KiB frames), a 128-byte id.
    const labels = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`${i}`.padEnd(64, "k"), "v"]));
    labels["0".padEnd(64, "k")] = "v".repeat(256);
    const w = await p.hello({ nodeId: "é".repeat(64), labels });
    expect(w.nodeId).toBe("é".repeat(64));
    p.destroy();
  });

  it("bad channel frames → non-fatal errors with ref and channel; the connection carries on", async () => {
    const p = await connect();
    await p.hello({ nodeId: "clumsy" });
    const expectError = async (code: ErrorCode, ref: bigint, channel = 0) => {
      const f = await p.nextOf(["error"]);
      expect(f.body.value).toMatchObject({ code, fatal: false, ref });
      expect(f.channel).toBe(channel);
    };
    p.send("subscribe", { requestId: 9, subject: "a..b" });
    await expectError(ErrorCode.INVALID_ARGUMENT, 9n);
    p.send("subscribe", { requestId: 10, subject: "$hb.other" });
    await expectError(ErrorCode.INVALID_ARGUMENT, 10n);
    p.send("subscribe", { requestId: 11, subject: "a.b", labelFilter: { zone: "eu" } });
    await expectError(ErrorCode.INVALID_ARGUMENT, 11n);
    p.send("subscribe", { requestId: 12, subject: "a.b", snapshot: true });
    await expectError(ErrorCode.INVALID_ARGUMENT, 12n);
    p.send("subscribe", { requestId: 13, subject: "a.b", overflow: 9 as OverflowPolicy });
    await expectError(ErrorCode.INVALID_ARGUMENT, 13n);
    p.send("publish", { subject: "$hb.presence", payload: new Uint8Array([1]), requestId: 77n });
    await expectError(ErrorCode.FORBIDDEN, 77n);
    p.send("publish", { subject: "a.*", payload: new Uint8Array([1]) });
    await expectError(ErrorCode.INVALID_ARGUMENT, 0n);
    p.send("publish", { subject: "", payload: new Uint8Array([1]), requestId: 78n }, 5);
    await expectError(ErrorCode.UNKNOWN_CHANNEL, 78n, 5); // publish by channel on a channel it does not have
    p.send("publish", { subject: "a.b", payload: new Uint8Array([1]), fromHandle: 3 });
    await expectError(ErrorCode.INVALID_ARGUMENT, 0n); // no such attached node
    p.send("broadcast", { payload: new Uint8Array([1]) });
    await expectError(ErrorCode.FORBIDDEN, 0n); // refused unless authorizeBroadcast allows
    p.send("send", { nodeId: "nobody-home", payload: new Uint8Array([1]) });
    await expectError(ErrorCode.UNKNOWN_NODE, 0n);
    p.send("send", { nodeId: "", payload: new Uint8Array([1]) });
    await expectError(ErrorCode.INVALID_ARGUMENT, 0n);
    p.send("unsubscribe", {}, 5);
    await expectError(ErrorCode.UNKNOWN_CHANNEL, 0n, 5);
    p.send("reply", { nodeId: "nobody-home", requestId: 5n }); // dropped and counted, no error
    p.send("windowUpdate", { credit: 100n }); // ignored by v1 servers
    p.heartbeat();
    await p.next("heartbeatAck");
    expect(p.drain("error")).toEqual([]);
    expect(server.get("clumsy")?.state).toBe("online");
    expect(server.stats().repliesDropped).toBeGreaterThanOrEqual(1);
    p.destroy();
  });

  it("a Fragment while Welcome said max_message_size 0 → MESSAGE_TOO_LARGE", async () => {
    const p = await connect();
    const w = await p.hello({ nodeId: "fragmenter" });
    expect(w.maxMessageSize).toBe(0n);
    p.send("fragment", { id: 1, totalLength: 10n, data: new Uint8Array(5) });
    await expectFatal(p, ErrorCode.MESSAGE_TOO_LARGE);
  });

  it("a stream ending inside a frame is counted as TRUNCATED", async () => {
    const before = server.stats().errors.TRUNCATED ?? 0;
    const p = await connect();
    await p.hello({ nodeId: "cut" });
    p.sendRaw(new Uint8Array([10, 1, 2]));
    await sleep(20);
    p.end();
    await waitFor(() => (server.stats().errors.TRUNCATED ?? 0) === before + 1);
  });
});

describe("connection limits", () => {
  it("maxConnections reached → SERVER_FULL before Hello", async () => {
    const { server: s, port: p } = await start({ maxConnections: 2 });
    try {
      const a = await RawPeer.connect(p);
      const b = await RawPeer.connect(p);
      await a.hello({ nodeId: "a" });
      const c = await RawPeer.connect(p);
      expect(await c.error()).toMatchObject({ code: ErrorCode.SERVER_FULL, fatal: true });
      await c.closed;
      await b.hello({ nodeId: "b" });
      expect(s.stats().errors.SERVER_FULL).toBe(1);
      a.destroy();
      await waitFor(() => s.stats().connections === 1);
      const d = await RawPeer.connect(p);
      await d.hello({ nodeId: "d" }); // room again
      b.destroy();
      d.destroy();
    } finally {
      await s.close();
    }
  });

  it("maxConnectionsPerIp reached → SERVER_FULL for that address only", async () => {
    const { server: s, port: p } = await start({ maxConnectionsPerIp: 2, host: "0.0.0.0" });
    try {
      const a = await RawPeer.connect(p, { localAddress: "127.0.0.1" });
      const b = await RawPeer.connect(p, { localAddress: "127.0.0.1" });
      const c = await RawPeer.connect(p, { localAddress: "127.0.0.1" });
      expect(await c.error()).toMatchObject({ code: ErrorCode.SERVER_FULL, fatal: true });
      const other = await RawPeer.connect(p, { localAddress: "127.0.0.2" });
      await other.hello({ nodeId: "elsewhere" });
      await a.hello({ nodeId: "a" });
      for (const x of [a, b, other]) x.destroy();
    } finally {
      await s.close();
    }
  });
});
