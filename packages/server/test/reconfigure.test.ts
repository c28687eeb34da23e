// reconfigure(): the limits change while the server runs, in one process and in every worker.
import { ErrorCode } from "@hb/codec";
import { afterEach, describe, expect, it } from "vitest";
import { HeartbeatServer } from "../src/index.js";
import { start } from "./helpers.js";
import { RawPeer, waitFor } from "./raw-peer.js";

const peers: RawPeer[] = [];
const servers: HeartbeatServer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.socket.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function outcome(port: number, nodeId: string): Promise<unknown> {
  const p = await RawPeer.connect(port);
  peers.push(p);
  return p.hello({ nodeId }).then(
    () => "welcome",
    (err: { code?: number }) => err.code,
  );
}

describe("HeartbeatServer.reconfigure", () => {
  it("applies new connection limits to connections accepted from then on", async () => {
    const { server, port } = await start({ maxConnections: 10 });
    servers.push(server);
    expect(await outcome(port, "a")).toBe("welcome");
    const next = server.reconfigure({ maxConnections: 1, rateLimit: { burst: 50 } });
    expect(next).toBe(server.options);
    expect(server.options).toMatchObject({ maxConnections: 1, rateLimit: { burst: 50, framesPerSecond: 2_000 } });
    expect(await outcome(port, "b")).toBe(ErrorCode.SERVER_FULL);
    server.reconfigure({ maxConnections: 2 });
    expect(await outcome(port, "c")).toBe("welcome");
  });

  it("refuses options that cannot change live and invalid values, changing nothing", async () => {
    const { server } = await start({ maxConnections: 10 });
    servers.push(server);
    const before = server.options;
    expect(() => server.reconfigure({ heartbeatTimeout: 5_000 } as never)).toThrow(/heartbeatTimeout cannot change while the server runs/);
    expect(() => server.reconfigure({ maxConnections: 0 })).toThrow(/maxConnections must be an integer in 1\.\.10000000, got 0/);
    expect(() => server.reconfigure({ rateLimit: { burst: -1 } })).toThrow(RangeError);
    expect(server.options).toBe(before);
  });

  it("reaches every worker: each takes its share of the new maxConnections", async () => {
    // reusePort false: round-robin alternates strictly (with SO_REUSEPORT the kernel hashes connections).
    const s = new HeartbeatServer({ workerCount: 2, maxConnections: 100, host: "127.0.0.1", port: 0, closeTimeout: 500, reusePort: false });
    servers.push(s);
    const { port } = await s.listen();
    s.reconfigure({ maxConnections: 2 });
    // Round-robin alternates strictly when connections come one after the other: each worker takes 1.
    // The workers apply the change when its message arrives; until then they accept: wait for a refusal.
    const outcomes: unknown[] = [];
    const deadline = Date.now() + 10_000;
    while (!outcomes.includes(ErrorCode.SERVER_FULL) && Date.now() < deadline) outcomes.push(await outcome(port, `w${outcomes.length}`));
    expect(outcomes).toContain(ErrorCode.SERVER_FULL);
    for (const p of peers.splice(0)) p.socket.destroy();
    await waitFor(() => s.stats().connections === 0, 10_000, "the workers report no connection");
    const again: unknown[] = [];
    for (let i = 0; i < 4; i++) again.push(await outcome(port, `x${i}`));
    expect(again.filter((o) => o === "welcome")).toHaveLength(2);
    expect(again.filter((o) => o === ErrorCode.SERVER_FULL)).toHaveLength(2);
  }, 30_000);
});
