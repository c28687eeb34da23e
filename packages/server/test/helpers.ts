import { HeartbeatServer, type HeartbeatServerEvents, type HeartbeatServerOptions } from "../src/index.js";

/** Short liveness settings used by the integration tests. */
export const FAST = {
  // One process: these tests inspect the in-process server (workers.test.ts covers workerCount > 1).
  workerCount: 1,
  host: "127.0.0.1",
  heartbeatInterval: 200,
  minHeartbeatInterval: 50,
  heartbeatTimeout: 1_000,
  heartbeatCheckInterval: 50,
  closeTimeout: 500,
} satisfies HeartbeatServerOptions;

/** One recorded event: its name, the time it was seen (performance.now) and its payload. */
export interface Recorded {
  name: keyof HeartbeatServerEvents;
  at: number;
  nodeId: string;
  reason: string;
  [key: string]: unknown;
}

/** Records every presence and will event of `server`. */
export function record(server: HeartbeatServer): Recorded[] {
  const log: Recorded[] = [];
  const names: (keyof HeartbeatServerEvents)[] = [
    "nodeJoined",
    "nodeLeft",
    "nodeSuspect",
    "nodeTimeout",
    "nodeRecovered",
    "willPublished",
  ];
  for (const name of names) {
    server.on(name, (e: object) => {
      log.push({ reason: "", ...(e as { nodeId: string }), name, at: performance.now() });
    });
  }
  return log;
}

/** `name nodeId reason` lines of the recorded events for `nodeId`, in order. */
export function story(log: Recorded[], nodeId: string): string[] {
  return log.filter((e) => e.nodeId === nodeId).map((e) => `${e.name} ${e.reason}`);
}

/** Starts a server with `FAST` settings plus `options`; returns it and its port. */
export async function start(options: HeartbeatServerOptions = {}): Promise<{ server: HeartbeatServer; port: number }> {
  const server = new HeartbeatServer({ ...FAST, ...options });
  const { port } = await server.listen();
  return { server, port };
}
