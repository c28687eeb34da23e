/** The server options that bound heartbeat interval negotiation. */
export interface IntervalBounds {
  /** Interval used when the client asks for 0. */
  heartbeatInterval: number;
  /** Smallest interval granted. */
  minHeartbeatInterval: number;
  /** The timeout; the interval granted is at most half of it. */
  heartbeatTimeout: number;
}

/**
 * The heartbeat interval granted for a Hello asking `requestedMs`:
 * clamp(requested or heartbeatInterval, minHeartbeatInterval, floor(heartbeatTimeout / 2)).
 */
export function negotiateInterval(requestedMs: number, bounds: IntervalBounds): number {
  const wanted = requestedMs > 0 ? requestedMs : bounds.heartbeatInterval;
  const max = Math.floor(bounds.heartbeatTimeout / 2);
  return Math.min(Math.max(wanted, bounds.minHeartbeatInterval), max);
}

/** A node is suspect after this long without being heard: 1.5 × its negotiated interval. */
export function suspectAfter(intervalMs: number): number {
  return intervalMs * 1.5;
}
