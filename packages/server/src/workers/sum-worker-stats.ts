import type { LivenessStats, ServerStats, WorkerStats } from "../core/ports/server-stats.js";
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
    liveness: { ...primary.liveness, loopLag: { ...primary.liveness.loopLag }, held: { ...primary.liveness.held }, holds: { ...primary.liveness.holds } },
    flapping: { ...primary.flapping },
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
    if (stats.liveness !== undefined) addLiveness(out.liveness, stats.liveness);
    if (stats.flapping !== undefined) addInto(out.flapping as unknown as Record<string, number>, stats.flapping as unknown as Record<string, number>);
  }
  return out;
}

function addInto(into: Record<string, number>, from: Readonly<Record<string, number>> | undefined): void {
  if (from === undefined) return;
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}

// Counters add up; the lag is the worst worker's; a hold in any worker is shown; the detector is the workers'.
function addLiveness(into: LivenessStats, from: LivenessStats): void {
  into.detector = from.detector;
  into.loopLagEvents += from.loopLagEvents;
  into.stalls += from.stalls;
  into.stalledMs += from.stalledMs;
  into.deferredTicks += from.deferredTicks;
  into.slicedTicks += from.slicedTicks;
  into.heldNow += from.heldNow;
  if (from.holding !== "none") into.holding = from.holding;
  addInto(into.held, from.held);
  addInto(into.holds, from.holds);
  if (from.loopLag.p99 > into.loopLag.p99) into.loopLag = { ...from.loopLag };
}
