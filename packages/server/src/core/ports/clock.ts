/**
 * The time the server's rules run on: a monotonic clock in milliseconds
 * (deadlines, last-heard times) and its conversion to wall-clock time for
 * what leaves the process (event times, `lastHeardAt`). The parts take it
 * as a port, so a test can drive liveness and routing with a fake clock.
 */
export interface Clock {
  /** Monotonic time, ms (e.g. `performance.now()`). */
  now(): number;
  /** A monotonic time from {@link Clock.now} as ms since the Unix epoch. */
  epoch(monotonic: number): number;
}

/** The process clock: `performance.now()`, and the wall-clock offset taken once at creation. */
export function systemClock(): Clock {
  const offset = Date.now() - performance.now();
  return {
    now: () => performance.now(),
    epoch: (monotonic) => Math.round(monotonic + offset),
  };
}
