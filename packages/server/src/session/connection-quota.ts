/**
 * Where a server's connection limits (`maxConnections`,
 * `maxConnectionsPerIp`) are counted: in the process itself
 * ({@link LocalQuota}), or, in a worker of a multi-process server, by the
 * primary for the whole server (`IpcQuota`, answered by the primary's
 * `ConnectionLeases`), so that the limits hold per server, not per worker.
 */
export interface ConnectionQuota {
  /**
   * Takes one connection slot for `ip`.
   *
   * @returns `true` when admitted, else the refusal's message (`SERVER_FULL`); a promise of one when the count lives elsewhere
   */
  acquire(ip: string): true | string | Promise<true | string>;
  /** Gives back a slot taken for `ip`. */
  release(ip: string): void;
}
