import type { Logger } from "./logger.js";
import type { ServerCounters } from "./server-stats.js";

/**
 * Runs an application listener or hook for the server: a throw is logged
 * and counted in `stats().listenerErrors`, never propagated into the
 * server's own bookkeeping.
 */
export function runGuarded(stats: ServerCounters, logger: Logger, fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    stats.listenerErrors++;
    logger.error({ err }, "an event listener threw");
  }
}
