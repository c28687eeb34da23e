import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { HeartbeatClient } from "@hb/client";
import { HeartbeatServer } from "@hb/server";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "./wait-for.js";

const FAST = {
  workerCount: 1,
  host: "127.0.0.1",
  heartbeatInterval: 200,
  minHeartbeatInterval: 50,
  heartbeatTimeout: 1_000,
  heartbeatCheckInterval: 50,
  closeTimeout: 500,
} as const;

const N = 50;
const clients: HeartbeatClient[] = [];
const servers: HeartbeatServer[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  await Promise.all(servers.splice(0).map((s) => s.close().catch(() => {})));
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

function fleet(port: number): HeartbeatClient[] {
  for (let i = 0; i < N; i++) {
    clients.push(
      new HeartbeatClient({
        host: "127.0.0.1",
        port,
        nodeId: `node-${i}`,
        metadata: { i: String(i) },
        reconnectInterval: 50,
        maxReconnectDelay: 400,
      }),
    );
  }
  return clients;
}

/** Starts server-child.ts with tsx; resolves with the child and the port it listens on. */
function startChild(port = 0): Promise<{ child: ChildProcess; port: number; lines: string[] }> {
  const script = fileURLToPath(new URL("./server-child.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, HB_PORT: String(port) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.on("line", (l) => {
      lines.push(l);
      const m = /^listening (\d+)$/.exec(l);
      if (m) resolve({ child, port: Number(m[1]), lines });
    });
    child.once("exit", (code) => reject(new Error(`server child exited with ${code}`)));
  });
}

describe("a server restarted on the same port", () => {
  it("after a graceful close (GoAway), every client comes back online by itself", async () => {
    const first = new HeartbeatServer({ ...FAST, port: 0 });
    servers.push(first);
    const { port } = await first.listen();
    await Promise.all(fleet(port).map((c) => c.connect()));
    expect(first.count()).toBe(N);

    await first.close();
    const second = new HeartbeatServer({ ...FAST, port });
    servers.push(second);
    await second.listen();
    await waitFor(() => second.count({ state: "online" }) === N, 10_000, `${N} nodes online on the new server`);
    for (let i = 0; i < N; i++) expect(second.get(`node-${i}`)?.labels).toEqual({ i: String(i) });
    // The server registers a node before its Welcome reaches the client: give the Welcomes their moment.
    await waitFor(() => clients.every((c) => c.stats().connected), 5_000, "every client connected");
  });

  it("after kill -9 of the server process, every client notices and comes back online by itself", async () => {
    const { child, port } = await startChild();
    await Promise.all(fleet(port).map((c) => c.connect()));
    const reconnecting = new Set<string>();
    for (const c of clients) c.on("reconnecting", () => reconnecting.add(c.nodeId ?? ""));

    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const again = await startChild(port);
    await waitFor(() => again.lines.filter((l) => l.startsWith("nodeJoined ")).length >= N, 15_000, `${N} nodes joined the restarted server`);
    const joined = new Set(again.lines.filter((l) => l.startsWith("nodeJoined ")).map((l) => l.split(" ")[1]));
    expect(joined.size).toBe(N);
    expect(reconnecting.size).toBe(N);
    // The server registers a node before its Welcome reaches the client: give the Welcomes their moment.
    await waitFor(() => clients.every((c) => c.stats().connected), 5_000, "every client connected");
  });
});
