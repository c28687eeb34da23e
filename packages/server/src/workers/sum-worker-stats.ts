import type { ServerStats, WorkerStats } from "../core/ports/server-stats.js";
import { addRtt } from "../telemetry/rtt-histogram.js";

/**
 * The primary's stats of a multi-process server: its own counters plus
 * those of every worker (as last reported), gauges included (the workers
 * hold the connections and nodes), and `workers` set. `bus` stays the
 * primary's (it holds the link to the other servers).
 */
export function sumWorkerStats(primary: ServerStats, workers: readonly WorkerStats[]): ServerStats {
  const out: ServerStats = {
    ...primary,
    errors: { ...primary.errors },
    routed: { ...primary.routed },
    dropped: { ...primary.dropped },
    forbidden: { ...primary.forbidden },
    renewals: { ...primary.renewals },
    transitions: Object.fromEntries(Object.entries(primary.transitions).map(([k, v]) => [k, { ...v }])),
    workers: [...workers],
  };
  const target = out as unknown as Record<string, unknown>;
  for (const { stats } of workers) {
    if (stats === undefined) continue;
    for (const [key, value] of Object.entries(stats)) {
      if (typeof value === "number") target[key] = ((target[key] as number | undefined) ?? 0) + value;
    }
    addInto(out.errors, stats.errors);
    addInto(out.routed as unknown as Record<string, number>, stats.routed as unknown as Record<string, number>);
    addInto(out.dropped as unknown as Record<string, number>, stats.dropped as unknown as Record<string, number>);
    addInto(out.forbidden as unknown as Record<string, number>, stats.forbidden as unknown as Record<string, number> | undefined);
    addInto(out.renewals as unknown as Record<string, number>, stats.renewals as unknown as Record<string, number> | undefined);
    for (const [kind, byReason] of Object.entries(stats.transitions ?? {})) addInto((out.transitions[kind] ??= {}), byReason);
    if (stats.rtt !== undefined) out.rtt = addRtt(out.rtt, stats.rtt);
  }
  return out;
}

function addInto(into: Record<string, number>, from: Readonly<Record<string, number>> | undefined): void {
  if (from === undefined) return;
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}
