import type { LiveServerOptions } from "../options/live-options.js";

// The smallest pending-Hello byte budget a worker gets: a Hello of the protocol's default max frame size must fit.
const MIN_HELLO_BYTES = 1024 * 1024;

/**
 * One worker's share of the server-wide handshake bounds in `limits` (the
 * kernel's SO_REUSEPORT hashing, or round-robin, spreads connections
 * evenly over the `workerCount` workers): each takes `maxPendingHellos`
 * and `maxPendingHelloBytes` divided by the count, rounded up (the byte
 * budget at least 1 MiB). Other fields are copied as they are:
 * `maxConnections` and `maxConnectionsPerIp` are counted by the primary
 * for the whole server (connection leases), not shared out.
 */
export function workerShare<T extends LiveServerOptions>(limits: T, workerCount: number): T {
  const share = { ...limits };
  if (share.maxPendingHellos !== undefined) share.maxPendingHellos = Math.ceil(share.maxPendingHellos / workerCount);
  if (share.maxPendingHelloBytes !== undefined) {
    share.maxPendingHelloBytes = Math.max(MIN_HELLO_BYTES, Math.ceil(share.maxPendingHelloBytes / workerCount));
  }
  return share;
}
