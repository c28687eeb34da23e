import { HeartbeatClient, type PresenceNotice } from "@hb/client";
import { HeartbeatServer } from "@hb/server";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "./wait-for.js";

const clients: HeartbeatClient[] = [];
let server: HeartbeatServer | undefined;
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  await server?.close();
});

describe("watching the fleet with watchPresence", () => {
  it("a snapshot lists the matching nodes already online, then live changes follow", async () => {
    server = new HeartbeatServer({ workerCount: 1, host: "127.0.0.1", port: 0, heartbeatInterval: 200, minHeartbeatInterval: 50, heartbeatTimeout: 1_000, heartbeatCheckInterval: 50 });
    const { port } = await server.listen();
    const join = async (nodeId: string, region: string) => {
      const c = new HeartbeatClient({ host: "127.0.0.1", port, nodeId, metadata: { region } });
      clients.push(c);
      await c.connect();
      return c;
    };
    await join("eu-1", "eu");
    await join("eu-2", "eu");
    await join("us-1", "us");

    const watcher = await join("watcher", "ops");
    const seen: PresenceNotice[] = [];
    const sub = watcher.watchPresence({ labels: { region: "eu" }, snapshot: true });
    sub.on("message", (p) => seen.push(p));
    await sub.ready;
    await waitFor(() => seen.length >= 2, 3_000, "the snapshot");
    expect(seen.map((p) => [p.kind, p.nodeId, p.reason]).sort()).toEqual([
      ["joined", "eu-1", "snapshot"],
      ["joined", "eu-2", "snapshot"],
    ]);

    const late = await join("eu-3", "eu");
    await late.close();
    await join("us-2", "us");
    await waitFor(() => seen.some((p) => p.kind === "left" && p.nodeId === "eu-3"), 3_000, "eu-3 to leave");
    expect(seen.slice(2).map((p) => [p.kind, p.nodeId, p.reason])).toEqual([
      ["joined", "eu-3", "hello"],
      ["left", "eu-3", "goodbye"],
    ]);
  });
});
