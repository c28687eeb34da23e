/**
 * The waits a server tells its clients (PROTOCOL.md §5.5, §6.6), spread per
 * connection so that a fleet told the same thing does not come back in one
 * burst.
 */

/**
 * `ProtocolError.retry_after_ms` of one refusal: `base` × uniform(0.5, 1.5),
 * rounded, at least 1; 0 when `base` is 0 (not said).
 */
export function retryAfterMs(base: number): number {
  if (base <= 0) return 0;
  return Math.max(1, Math.round(base * (0.5 + Math.random())));
}

/**
 * The margin a drain of `drainMs` keeps after the last spread reconnect,
 * so that the last clients have time to leave before the server closes
 * what is left: 10 % of the drain, at least min(1 s, half of it).
 */
export function drainMargin(drainMs: number): number {
  return Math.max(drainMs / 10, Math.min(1_000, drainMs / 2));
}

/**
 * `GoAway.reconnect_delay_ms` of one connection: uniform in
 * `[0, drainMs − drainMargin(drainMs)]`, at least 1 ms when the drain
 * leaves room for it (0 would mean "not said": leave at once with
 * backoff); 0 for a drain of 0.
 */
export function reconnectDelayMs(drainMs: number): number {
  const span = drainMs - drainMargin(drainMs);
  if (span < 1) return 0;
  return 1 + Math.floor(Math.random() * span);
}
