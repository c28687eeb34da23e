/** Open connections in total and per remote address, checked against the two limits. */
export class IpCounts {
  readonly #perIp = new Map<string, number>();
  #total = 0;

  /** Connections counted. */
  get total(): number {
    return this.#total;
  }

  /** Connections counted for `ip`. */
  of(ip: string): number {
    return this.#perIp.get(ip) ?? 0;
  }

  /**
   * Counts one connection from `ip` unless a limit is reached.
   *
   * @param maxPerIp - 0: no per-address limit
   * @returns `true`, or the refusal's message
   */
  acquire(ip: string, max: number, maxPerIp: number): true | string {
    if (this.#total >= max) return `server is full (maxConnections ${max})`;
    const n = this.#perIp.get(ip) ?? 0;
    if (maxPerIp > 0 && n >= maxPerIp) return `too many connections from ${ip} (maxConnectionsPerIp ${maxPerIp})`;
    this.#perIp.set(ip, n + 1);
    this.#total++;
    return true;
  }

  /** Counts one connection from `ip` as gone (`n` of them). */
  release(ip: string, n = 1): void {
    const left = (this.#perIp.get(ip) ?? 0) - n;
    if (left <= 0) this.#perIp.delete(ip);
    else this.#perIp.set(ip, left);
    this.#total = Math.max(0, this.#total - n);
  }

  /** Counts one connection from `ip` without checking the limits (a connection moving between holders). */
  add(ip: string): void {
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1);
    this.#total++;
  }

  /** Every address with its count. */
  entries(): IterableIterator<[string, number]> {
    return this.#perIp.entries();
  }
}
