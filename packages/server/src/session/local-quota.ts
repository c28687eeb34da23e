import type { ResolvedServerOptions } from "../options/server-options.js";
import type { ConnectionQuota } from "./connection-quota.js";
import { IpCounts } from "./ip-counts.js";

/** The connection limits counted in this process (a single-process server), as in force at each acquire (they change live). */
export class LocalQuota implements ConnectionQuota {
  readonly #options: () => ResolvedServerOptions;
  readonly #counts = new IpCounts();

  constructor(options: () => ResolvedServerOptions) {
    this.#options = options;
  }

  /** See {@link ConnectionQuota.acquire}. */
  acquire(ip: string): true | string {
    const o = this.#options();
    return this.#counts.acquire(ip, o.maxConnections, o.maxConnectionsPerIp);
  }

  /** See {@link ConnectionQuota.release}. */
  release(ip: string): void {
    this.#counts.release(ip);
  }
}
