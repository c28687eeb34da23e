// A fleet of raw load-client processes (fleet-client.mjs) seen as one:
// spreads the nodes over the processes and each process over its own source
// addresses (127.0.<subnet + p>.<k>, at most 1,000 nodes per address), sums
// their counters and merges their RTT histograms.
//
// Why 1,000 per address: a connect from a given local address binds it
// first, and the kernel's search for a free ephemeral port grows with the
// ports already bound there. Measured on the bench machine (12,000 connects
// from one process): 1,135 µs of CPU per connect from one address, 110 µs
// from 8 addresses, 103 µs from 64 — with one address the load generator,
// not the server, was the bottleneck.
import { fileURLToPath } from "node:url";
import { LoadProcess, mergedHistogram } from "./load-process.mjs";

const CLIENT = fileURLToPath(new URL("./fleet-client.mjs", import.meta.url));
const PER_ADDRESS = 1_000;

/** Sums counter objects: numbers add up, the `errors` / `refused` maps merge by key. */
export function sumCounters(list) {
  const out = { errors: {}, refused: {} };
  for (const c of list) {
    for (const [k, v] of Object.entries(c)) {
      if (typeof v === "number") out[k] = (out[k] ?? 0) + v;
      else if ((k === "errors" || k === "refused") && v) for (const [e, n] of Object.entries(v)) out[k][e] = (out[k][e] ?? 0) + n;
    }
  }
  out.allReadyAt = Math.max(0, ...list.map((c) => c.allReadyAt ?? 0));
  // CPU of the load processes, ms (from their cpuUsage, or already summed when `list` holds totals).
  out.cpuMs = list.reduce((a, c) => a + (c.cpu ? (c.cpu.user + c.cpu.system) / 1000 : (c.cpuMs ?? 0)), 0);
  return out;
}

export class Fleet {
  /**
   * @param {{
   *   protocol: string, wire?: object, host?: string, port: number, nodes: number, processes: number,
   *   interval: number, concurrency?: number, rate?: number, clientPings?: boolean,
   *   reconnect?: { base: number, cap: number } | null, deadlineMs: number, idPrefix?: string, subnet?: number,
   * }} o  `subnet`: third octet of the first process's source addresses (default 1); process p uses subnet + p
   */
  constructor(o) {
    this.processes = [];
    const per = Math.ceil(o.nodes / o.processes);
    for (let p = 0; p < o.processes; p++) {
      const count = Math.min(per, o.nodes - p * per);
      if (count <= 0) break;
      const sources = Array.from({ length: Math.ceil(count / PER_ADDRESS) }, (_, k) => `127.0.${(o.subnet ?? 1) + p}.${k + 1}`);
      this.processes.push(
        new LoadProcess(CLIENT, {
          protocol: o.protocol,
          wire: { prefix: `${o.idPrefix ?? "n"}${p}`, ...(o.wire ?? {}) },
          host: o.host ?? "127.0.0.1",
          port: o.port,
          count,
          sources,
          interval: o.interval,
          concurrency: o.concurrency ?? 1_000,
          rate: o.rate ? o.rate / o.processes : 0,
          clientPings: o.clientPings,
          reconnect: o.reconnect ?? null,
          deadlineMs: o.deadlineMs,
        }),
      );
    }
  }

  /** Counters of every process, summed (as last reported, at most 500 ms old). */
  totals() {
    return sumCounters(this.processes.map((p) => p.counters));
  }

  /** The RTT histogram (µs) of every process since the last call, merged. */
  histogram() {
    return mergedHistogram(this.processes);
  }

  /** Closes every connection and waits for the processes to exit. */
  async stop() {
    await Promise.all(this.processes.map((p) => p.stop()));
  }
}
