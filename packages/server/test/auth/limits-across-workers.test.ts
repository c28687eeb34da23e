// Connection limits hold for the whole server with 2 worker processes: the
// primary counts every connection, whichever worker accepted it.
import { Access, ErrorCode } from "@hb/codec";
import { afterEach, describe, expect, it } from "vitest";
import { HeartbeatServer } from "../../src/index.js";
import { hashToken } from "../../src/internal.js";
import { RawPeer, waitFor } from "../raw-peer.js";

const servers: HeartbeatServer[] = [];
const peers: RawPeer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

// Hello from a new connection (source address `from`): "welcome" or the refusal's code.
async function attempt(port: number, nodeId: string, from = "127.0.0.1"): Promise<string | number> {
  const p = await RawPeer.connect(port, { localAddress: from });
  peers.push(p);
  return p.hello({ nodeId }).then(
    () => "welcome",
    (err: { code?: number }) => err.code ?? "error",
  );
}

describe("limits across workers", () => {
  it("maxConnectionsPerIp holds across 2 workers, per address, and a closed connection frees its slot", async () => {
    const s = new HeartbeatServer({ workerCount: 2, maxConnectionsPerIp: 3, host: "127.0.0.1", port: 0, closeTimeout: 500, heartbeatTimeout: 30_000 });
    servers.push(s);
    const { port } = await s.listen();
    const outcomes: (string | number)[] = [];
    for (let i = 0; i < 6; i++) outcomes.push(await attempt(port, `ip-a-${i}`));
    // Round-robin put 3 on each worker: per worker the limit would have let all 6 in.
    expect(outcomes.filter((o) => o === "welcome")).toHaveLength(3);
    expect(outcomes.filter((o) => o === ErrorCode.SERVER_FULL)).toHaveLength(3);
    // Another address has its own allowance.
    expect(await attempt(port, "ip-b-0", "127.0.0.2")).toBe("welcome");
    // Closing a welcomed connection gives its slot back.
    const welcomed = peers.find((p, i) => outcomes[i] === "welcome") as RawPeer;
    welcomed.destroy();
    await waitFor(() => s.count() === 3, 5_000, "the closed node gone");
    // The worker reports the release with its next lease message: poll with fresh connections.
    let again: string | number = "";
    for (let i = 0; i < 20 && again !== "welcome"; i++) again = await attempt(port, `ip-a-again-${i}`);
    expect(again).toBe("welcome");
    // Refusals are counted by the workers, whose reports reach the primary every second.
    await waitFor(() => (s.stats().errors.SERVER_FULL ?? 0) >= 3, 5_000, "the refusals counted");
  }, 30_000);

  it("applies a live change of maxConnectionsPerIp to the whole server", async () => {
    const s = new HeartbeatServer({ workerCount: 2, maxConnectionsPerIp: 1, host: "127.0.0.1", port: 0, closeTimeout: 500, heartbeatTimeout: 30_000 });
    servers.push(s);
    const { port } = await s.listen();
    expect(await attempt(port, "live-0")).toBe("welcome");
    expect(await attempt(port, "live-1")).toBe(ErrorCode.SERVER_FULL);
    s.reconfigure({ maxConnectionsPerIp: 2 });
    expect(await attempt(port, "live-2")).toBe("welcome");
    expect(await attempt(port, "live-3")).toBe(ErrorCode.SERVER_FULL);
  }, 30_000);
});

describe("auth and permissions in workers", () => {
  it("the auth config and permission rules reach every worker (options, not hooks); a live change too", async () => {
    const tokens = [{ hash: await hashToken("worker-token"), permissions: { broadcast: true } }];
    const s = new HeartbeatServer({
      workerCount: 2,
      // Round-robin alternates strictly (with SO_REUSEPORT the kernel hashes), so both workers get connections.
      reusePort: false,
      auth: { mode: "tokens", tokens },
      permissions: [{ publish: false }],
      host: "127.0.0.1",
      port: 0,
      closeTimeout: 500,
      heartbeatTimeout: 30_000,
    });
    servers.push(s);
    const { port } = await s.listen();
    // Four connections: two reach each worker.
    for (let i = 0; i < 4; i++) {
      const p = await RawPeer.connect(port);
      peers.push(p);
      const w = await p.hello({ nodeId: `wt-${i}`, token: "worker-token" });
      expect(w.permissions?.broadcast).toBe(Access.ALLOWED);
      expect(await attempt(port, `wt-bad-${i}`)).toBe(ErrorCode.UNAUTHORIZED);
    }
    s.reconfigure({ auth: { mode: "none" } });
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const p = await RawPeer.connect(port);
      peers.push(p);
      const w = await p.hello({ nodeId: `open-${i}` });
      expect(w.permissions?.publish).toBe(Access.DENIED);
      seen.add(w.serverId);
    }
    expect(seen.size).toBe(2);
  }, 30_000);
});
