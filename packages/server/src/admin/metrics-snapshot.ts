import type { HbServerSnapshot } from "@hb/metrics";
import type { ServerStats } from "../core/ports/server-stats.js";
import type { ProcessSample } from "../telemetry/process-sampler.js";

const DROP_CAUSES: Readonly<Record<string, string>> = {
  dropOldest: "drop_oldest",
  dropNewest: "drop_newest",
  slowConsumer: "slow_consumer",
  tooLarge: "too_large",
  noSubscribers: "no_subscribers",
  unknownNode: "unknown_node",
};
// Bus counters that are gauges (exported on their own), not events.
const BUS_GAUGES = new Set(["remoteNodes", "members", "pending", "pendingOverflow"]);

/** What {@link metricsSnapshot} needs besides the stats. */
export interface SnapshotContext {
  /** The server id. */
  serverId: string;
  /** The version to report. */
  version: string;
  /** This process's last sample (the main process, or the primary). */
  main: ProcessSample | undefined;
  /** Configured worker processes (1: a single process). */
  workersConfigured: number;
  /** Now, ms since the Unix epoch. */
  now: number;
}

/** Maps `server.stats()` to what @hb/metrics exports (names of causes and bus events in snake_case). */
export function metricsSnapshot(stats: ServerStats, ctx: SnapshotContext): HbServerSnapshot {
  const dropped: Record<string, number> = {};
  for (const [k, n] of Object.entries(stats.dropped)) dropped[DROP_CAUSES[k] ?? snake(k)] = n;
  dropped.reply_unroutable = stats.repliesDropped;
  dropped.frame_too_large = stats.framesDropped;
  const processes: HbServerSnapshot["processes"][number][] = [];
  if (ctx.main !== undefined) processes.push(processOf("main", ctx.main));
  const workers = (stats.workers ?? []).map((w) => {
    if (w.process !== undefined) processes.push(processOf(w.memberId, w.process));
    return {
      name: w.memberId,
      connections: w.stats?.connections ?? 0,
      nodes: w.stats?.nodes ?? 0,
      reportAge: w.reportedAt === 0 ? (ctx.now - w.startedAt) / 1_000 : (ctx.now - w.reportedAt) / 1_000,
    };
  });
  return {
    serverId: ctx.serverId,
    version: ctx.version,
    nodes: stats.nodes,
    online: stats.online,
    suspect: stats.suspect,
    connections: stats.connections,
    sessions: stats.sessions,
    subscriptions: stats.subscriptions,
    channels: stats.channels,
    queuedBytes: stats.queuedBytes,
    heartbeats: stats.heartbeats,
    framesIn: stats.framesIn,
    framesOut: stats.framesOut,
    bytesIn: stats.bytesIn,
    bytesOut: stats.bytesOut,
    socketErrors: stats.socketErrors,
    listenerErrors: stats.listenerErrors,
    awaitingHello: stats.awaitingHello,
    helloEvictions: stats.helloEvictions,
    resumeMisses: stats.resumeMisses,
    routed: { ...stats.routed },
    errors: stats.errors,
    forbidden: { ...stats.forbidden },
    renewals: { ...stats.renewals },
    dropped,
    transitions: stats.transitions,
    rtt: stats.rtt,
    processes,
    workersConfigured: ctx.workersConfigured,
    workers,
    bus: busOf(stats.bus),
  };
}

function processOf(name: string, p: ProcessSample): HbServerSnapshot["processes"][number] {
  return { name, loopLagP99: p.loopDelay.p99, loopLagMax: p.loopDelay.max, rss: p.rss, cpu: p.cpu };
}

// The link between a primary and its workers ("ipc") is internal: only a bus to other servers is reported.
function busOf(bus: ServerStats["bus"]): HbServerSnapshot["bus"] {
  if (bus === undefined || bus.kind === "ipc") return undefined;
  const events: Record<string, number> = {};
  for (const [k, v] of Object.entries(bus)) if (typeof v === "number" && !BUS_GAUGES.has(k)) events[snake(k)] = v;
  const num = (k: string): number => (typeof bus[k] === "number" ? (bus[k] as number) : 0);
  return { kind: bus.kind.replace(/^ipc\+/, ""), up: bus.health.state === "ok", remoteNodes: num("remoteNodes"), members: num("members"), events };
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
