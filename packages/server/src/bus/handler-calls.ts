import type { BusHandlers, BusPresence } from "../core/ports/bus-link.js";

/**
 * Calls into a link's member (its {@link BusHandlers}) the way every link
 * must: a throw never escapes into the link, it is counted in
 * `stats.handlerErrors` (and passed to `onError`, e.g. a logger).
 */
export function callHandler(stats: { handlerErrors: number }, fn: () => void, onError?: (err: unknown) => void): void {
  try {
    fn();
  } catch (err) {
    stats.handlerErrors++;
    onError?.(err);
  }
}

/** Passes presence events to `handlers.presence`, in order, each guarded by {@link callHandler}. */
export function emitPresence(
  handlers: BusHandlers | undefined,
  events: readonly BusPresence[],
  stats: { handlerErrors: number },
  onError?: (err: unknown) => void,
): void {
  for (const e of events) callHandler(stats, () => handlers?.presence(e), onError);
}
