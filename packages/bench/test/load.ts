// The bench's load machinery (plain .mjs modules) as the tests use it, typed
// here: imported dynamically so that the type-check does not need their
// declarations.
import { fileURLToPath } from "node:url";

/** Counters of a fleet of raw nodes, summed over its processes (see src/load/fleet-client.mjs). */
export interface FleetTotals {
  count: number;
  attempts: number;
  tcpConnected: number;
  ready: number;
  readyTotal: number;
  goAways: number;
  errors: Record<string, number>;
  refused: Record<string, number>;
}

/** A fleet of raw-node load processes (src/load/fleet.mjs). */
export interface Fleet {
  totals(): FleetTotals;
  stop(): Promise<void>;
}

/** Options of a fleet (see the constructor of src/load/fleet.mjs). */
export interface FleetOptions {
  protocol: "hb";
  port: number;
  nodes: number;
  processes: number;
  interval: number;
  concurrency?: number;
  reconnect?: { base: number; cap: number } | null;
  deadlineMs: number;
  idPrefix?: string;
  subnet?: number;
}

/** Starts a fleet of raw hb nodes in `o.processes` processes, source addresses 127.0.<subnet + p>.<k>. */
export async function startFleet(o: FleetOptions): Promise<Fleet> {
  const url = new URL("../src/load/fleet.mjs", import.meta.url).href;
  const mod = (await import(url)) as { Fleet: new (o: FleetOptions) => Fleet };
  return new mod.Fleet(o);
}

/** Counters of a process of real `HeartbeatClient`s (src/load/hb-sampler.mjs). */
export interface ClientCounters {
  count: number;
  ready: number;
  readyTotal: number;
  reconnecting: number;
  errors: Record<string, number>;
}

/** A process of real `HeartbeatClient`s (src/load/hb-sampler.mjs, through src/load/load-process.mjs). */
export interface ClientProcess {
  counters: ClientCounters;
  stop(): Promise<void>;
}

/** Starts `count` `HeartbeatClient`s (default options but the interval) in a process of their own. */
export async function startClients(spec: { port: number; count: number; interval: number; prefix: string; deadlineMs: number }): Promise<ClientProcess> {
  const url = new URL("../src/load/load-process.mjs", import.meta.url).href;
  const mod = (await import(url)) as { LoadProcess: new (script: string, spec: object) => ClientProcess };
  return new mod.LoadProcess(fileURLToPath(new URL("../src/load/hb-sampler.mjs", import.meta.url)), spec);
}

/** Polls `check` every 50 ms until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
