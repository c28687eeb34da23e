import type { ConnectionQuota } from "../session/connection-quota.js";

/** A worker's batched lease requests to the primary (see {@link IpcQuota}). */
export interface LeaseRequest {
  /** Slots asked for: an id per request (answered in `LeaseAnswer`), and the client's address. */
  acquire: { id: number; ip: string }[];
  /** Slots given back, by address. */
  release: string[];
}

/** The primary's answers to {@link LeaseRequest.acquire}: a `refusal` message, or none when granted. */
export type LeaseAnswer = { id: number; refusal?: string }[];

/**
 * A worker's {@link ConnectionQuota}: the primary counts the connections of
 * the whole server (`ConnectionLeases`), so `maxConnections` and
 * `maxConnectionsPerIp` hold per server, whichever worker accepts (node:cluster
 * round-robin, or SO_REUSEPORT where the primary never sees a connection).
 * Requests and releases made in one event-loop turn go in one IPC message;
 * the cost is one round trip per accepted connection, never per frame.
 */
export class IpcQuota implements ConnectionQuota {
  readonly #post: (request: LeaseRequest) => boolean;
  readonly #pending = new Map<number, (verdict: true | string) => void>();
  #batch: LeaseRequest = { acquire: [], release: [] };
  #scheduled = false;
  #nextId = 1;

  /** @param post - sends a request to the primary; `false` when the channel is gone */
  constructor(post: (request: LeaseRequest) => boolean) {
    this.#post = post;
  }

  /** Requests waiting for the primary's answer. */
  get pending(): number {
    return this.#pending.size;
  }

  /** See {@link ConnectionQuota.acquire}. */
  acquire(ip: string): Promise<true | string> {
    const id = this.#nextId++;
    this.#batch.acquire.push({ id, ip });
    this.#schedule();
    return new Promise((resolve) => this.#pending.set(id, resolve));
  }

  /** See {@link ConnectionQuota.release}. */
  release(ip: string): void {
    this.#batch.release.push(ip);
    this.#schedule();
  }

  /** The primary answered. */
  answered(answers: LeaseAnswer): void {
    for (const a of answers) {
      const resolve = this.#pending.get(a.id);
      if (resolve === undefined) continue;
      this.#pending.delete(a.id);
      resolve(a.refusal === undefined ? true : a.refusal);
    }
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const batch = this.#batch;
      this.#batch = { acquire: [], release: [] };
      if (this.#post(batch)) return;
      // No primary: nothing can be counted; refuse (the worker is on its way out).
      this.answered(batch.acquire.map(({ id }) => ({ id, refusal: "server is shutting down (no primary)" })));
    });
  }
}
