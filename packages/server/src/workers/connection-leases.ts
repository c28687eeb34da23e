import { IpCounts } from "../session/ip-counts.js";
import type { LeaseAnswer, LeaseRequest } from "./ipc-quota.js";

/** The limits the primary counts against, read at each request (they change live). */
export interface LeaseLimits {
  /** `maxConnections` of the whole server. */
  readonly maxConnections: number;
  /** `maxConnectionsPerIp` of the whole server; 0: none. */
  readonly maxConnectionsPerIp: number;
}

/**
 * The primary's count of a multi-process server's connections, total and
 * per client address, and which worker holds them: workers lease a slot
 * per accepted connection ({@link IpcQuota}), give it back when it closes,
 * and a connection handed from one worker to another takes its slot
 * along. A worker that exits loses its slots.
 */
export class ConnectionLeases {
  readonly #limits: () => LeaseLimits;
  readonly #all = new IpCounts();
  readonly #byWorker = new Map<number, IpCounts>();

  constructor(limits: () => LeaseLimits) {
    this.#limits = limits;
  }

  /** Connections of the whole server. */
  get total(): number {
    return this.#all.total;
  }

  /** Connections of the whole server from `ip`. */
  of(ip: string): number {
    return this.#all.of(ip);
  }

  /** Applies a worker's request; returns the answers to its acquires. */
  request(worker: number, req: LeaseRequest): LeaseAnswer {
    for (const ip of req.release) this.release(worker, ip);
    const { maxConnections, maxConnectionsPerIp } = this.#limits();
    return req.acquire.map(({ id, ip }) => {
      const verdict = this.#all.acquire(ip, maxConnections, maxConnectionsPerIp);
      if (verdict !== true) return { id, refusal: verdict };
      this.#worker(worker).add(ip);
      return { id };
    });
  }

  /** A connection from `ip` moved from worker `from` to worker `to` (a handoff). */
  transfer(from: number, to: number, ip: string): void {
    if (from === to) return;
    const source = this.#byWorker.get(from);
    if (source === undefined || source.of(ip) === 0) return;
    source.release(ip);
    this.#worker(to).add(ip);
  }

  /** A worker exited: its connections are gone. */
  dropWorker(worker: number): void {
    const counts = this.#byWorker.get(worker);
    if (counts === undefined) return;
    this.#byWorker.delete(worker);
    for (const [ip, n] of counts.entries()) this.#all.release(ip, n);
  }

  /** Worker `worker` gave back a slot for `ip` (or its connection was dropped on the way to another worker). */
  release(worker: number, ip: string): void {
    const counts = this.#byWorker.get(worker);
    if (counts === undefined || counts.of(ip) === 0) return;
    counts.release(ip);
    this.#all.release(ip);
  }

  #worker(worker: number): IpCounts {
    let counts = this.#byWorker.get(worker);
    if (counts === undefined) this.#byWorker.set(worker, (counts = new IpCounts()));
    return counts;
  }
}
