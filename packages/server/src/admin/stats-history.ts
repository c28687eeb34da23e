/** One second of a server's life, as the dashboard charts it. */
export interface HistoryPoint {
  /** When, ms since the Unix epoch. */
  t: number;
  /** Nodes online (bus-wide view: `server.count({ state: "online" })`). */
  online: number;
  /** Nodes suspect (bus-wide view). */
  suspect: number;
  /** Open connections of this server. */
  connections: number;
  /** Heartbeats processed per second. */
  heartbeatsPerSecond: number;
  /** Messages routed per second (every kind). */
  messagesPerSecond: number;
  /** Median heartbeat round trip reported in that second, seconds (`null`: none reported). */
  latencyP50: number | null;
  /** 99th percentile of the round trips reported in that second, seconds. */
  latencyP99: number | null;
  /** Worst 99th-percentile event-loop lag over the server's processes in that second, seconds. */
  loopLagP99: number;
}

/** The last `capacity` {@link HistoryPoint}s, oldest first (a ring). */
export class StatsHistory {
  readonly #points: HistoryPoint[] = [];
  readonly #capacity: number;

  constructor(capacity = 300) {
    this.#capacity = capacity;
  }

  /** Appends a point, dropping the oldest beyond the capacity. */
  push(point: HistoryPoint): void {
    this.#points.push(point);
    if (this.#points.length > this.#capacity) this.#points.shift();
  }

  /** The newest point, if any. */
  get last(): HistoryPoint | undefined {
    return this.#points[this.#points.length - 1];
  }

  /** A copy of the points, oldest first. */
  points(): HistoryPoint[] {
    return [...this.#points];
  }
}
