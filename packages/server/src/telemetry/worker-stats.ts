import type { ServerStats } from "../server-stats.js";
import type { ProcessSample } from "./process-sampler.js";

/** One worker process of a multi-process server, as it last reported to the primary (see {@link ServerStats.workers}). */
export interface WorkerStats {
  /** Its bus member id, `w<cluster worker id>`. */
  memberId: string;
  /** Its process id. */
  pid: number;
  /** When it was forked, ms since the Unix epoch. */
  startedAt: number;
  /** When its last report arrived, ms since the Unix epoch (0: none yet). */
  reportedAt: number;
  /** Its own server's stats (its nodes, connections and counters). */
  stats: ServerStats | undefined;
  /** Its process: memory, CPU, event-loop lag. */
  process: ProcessSample | undefined;
}
