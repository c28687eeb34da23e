import type { BusHealth } from "./bus-link.js";
import { type ErrorCode, errorCodeName } from "@hb/codec";
import type { LoopLagWindow } from "../../telemetry/loop-lag.js";
import type { ProcessSample } from "../../telemetry/process-sampler.js";
import type { HoldReason } from "./node-events.js";
import { RttHistogram, type RttSnapshot } from "../../telemetry/rtt-histogram.js";

/** Messages accepted for routing, by kind (from nodes and from the server API). */
export interface RoutedStats {
  /** Publish frames, requests to a subject, `server.publish()` calls and wills. */
  publish: number;
  /** Send frames (requests included) and `server.send()` calls. */
  send: number;
  /** Broadcast frames allowed by `authorizeBroadcast`, and `server.broadcast()` calls. */
  broadcast: number;
  /** Reply frames. */
  reply: number;
  /** Presence events (join, leave, suspect, timeout, recovery) published to `$hb.presence` subscribers. */
  presence: number;
}

/**
 * Messages not delivered, by reason. Each counts one message for one
 * recipient (a publish dropped by three subscriptions' queues counts 3),
 * except `noSubscribers` and `unknownNode`, which count messages that had
 * no recipient at all.
 */
export interface DropStats {
  /** Discarded from a full queue under drop-oldest (the default; also the channel-0 queue). */
  dropOldest: number;
  /** Discarded because the queue was full under drop-newest. */
  dropNewest: number;
  /** The message that overflowed a disconnect-policy queue (its connection was closed with `SLOW_CONSUMER`). */
  slowConsumer: number;
  /** Larger than the recipient's max frame size and not fragmentable (fragments off, or over `maxMessageSize`). */
  tooLarge: number;
  /** Published to a subject nobody subscribes to. */
  noSubscribers: number;
  /** Sent to a node that is not online (or whose connection is lost). */
  unknownNode: number;
}

/** {@link ServerStats.liveness}: the failure detector, the server's own lag and held verdicts (docs/PROTOCOL.md §6.3). */
export interface LivenessStats {
  /** The failure detector (`failureDetector`). */
  detector: "fixed" | "phi";
  /**
   * Event-loop lag of this process over the last one-second window, ms
   * (`perf_hooks.monitorEventLoopDelay`; with worker processes, on the
   * primary: the largest of the workers').
   */
  loopLag: LoopLagWindow;
  /** Windows whose lag reached `loopLagThreshold` (`loopLag` events). */
  loopLagEvents: number;
  /** Late ticks of the liveness check (event-loop stalls it saw). */
  stalls: number;
  /** Their total lateness, ms: time not counted as silence of any node. */
  stalledMs: number;
  /** Ticks whose verdicts waited one I/O turn (a late tick). */
  deferredTicks: number;
  /** Ticks whose verdicts were sliced over several turns (more than 2 000 due at once). */
  slicedTicks: number;
  /** The hold in force now (with worker processes: of any worker), or `"none"`. */
  holding: HoldReason | "none";
  /** Nodes whose timeout verdict is held now. */
  heldNow: number;
  /** Timeout verdicts held, by reason (each one a `SUSPECT <reason>` event). */
  held: Record<HoldReason, number>;
  /** Holds started, by reason (each one logged). */
  holds: Record<HoldReason, number>;
}

/** {@link ServerStats.flapping}: flap damping of presence (docs/PROTOCOL.md §7.6). */
export interface FlappingStats {
  /** Node ids damped now. */
  damped: number;
  /** Times damping of a node id started. */
  dampings: number;
  /** Transitions not told to damped subscriptions while their node was damped (each counted once, not per subscription). */
  suppressed: number;
  /** Node ids with a flap penalty kept now (bounded: decayed ones are dropped). */
  tracked: number;
}

/** Operations refused with `FORBIDDEN` by the permissions (rules, credentials or `authorize*` hooks), by kind. */
export interface ForbiddenStats {
  /** Publish frames (requests by subject included). */
  publish: number;
  /** Subscribe frames (not `$hb.presence`). */
  subscribe: number;
  /** Send frames (requests to a node included). */
  send: number;
  /** Broadcast frames. */
  broadcast: number;
  /** Attach frames. */
  attach: number;
  /** Subscribe frames to `$hb.presence`. */
  presence: number;
}

/** Credential renewals (PROTOCOL.md §5.8). */
export interface RenewalStats {
  /** Renew frames accepted (answered with Renewed). */
  accepted: number;
  /** Renew frames refused (non-fatal `UNAUTHORIZED` / `TOKEN_EXPIRED`). */
  refused: number;
  /** Sessions closed because their credential expired and was not renewed within the grace. */
  expired: number;
}

/** A snapshot of server counters, from {@link HeartbeatServer.stats}. Counters are cumulative since construction. */
export interface ServerStats {
  /** Open connections (handshaking ones included). */
  connections: number;
  /** Live sessions (connected, or lost and waiting for a resume). */
  sessions: number;
  /** Registered nodes (connections' own nodes and attached nodes); observers are not nodes. */
  nodes: number;
  /**
   * Observers (PROTOCOL.md §5.7: connections registered with
   * `ROLE_OBSERVER`, connected or waiting for a resume): routable, never in
   * `nodes`, presence or snapshots.
   */
  observers: number;
  /** Nodes online. */
  online: number;
  /** Nodes suspect. */
  suspect: number;
  /** Distinct label sets in the registry. */
  labelSets: number;
  /** Nodes that joined. */
  joined: number;
  /** Nodes that left (any {@link LeaveReason}). */
  left: number;
  /** Nodes that timed out. */
  timedOut: number;
  /** Times a node became suspect. */
  suspected: number;
  /** Times a suspect node recovered. */
  recovered: number;
  /** Sessions resumed on a new connection. */
  resumed: number;
  /**
   * Hellos whose resume token resumed nothing (unknown, expired, revoked or
   * malformed: a fresh session instead, PROTOCOL.md §8.2). Many of them
   * from one place look like token guessing.
   */
  resumeMisses: number;
  /**
   * Connections handed to another worker because their Hello resumes a
   * session that worker holds (multi-process servers; on the primary: all
   * passed through it).
   */
  handedOff: number;
  /** Connections that have not sent their Hello yet (a gauge; bounded by `maxPendingHellos`). */
  awaitingHello: number;
  /** Bytes those connections hold (partial Hellos; a gauge, bounded by `maxPendingHelloBytes`). */
  awaitingHelloBytes: number;
  /**
   * Connections waiting for Hello closed with `SERVER_FULL` to make room
   * (over `maxPendingHellos` or `maxPendingHelloBytes`: a handshake flood).
   */
  helloEvictions: number;
  /** Wills published. */
  willsPublished: number;
  /** Heartbeats processed: Heartbeat frames plus nodes refreshed by BatchHeartbeat. */
  heartbeats: number;
  /** Frames received. */
  framesIn: number;
  /** Frames sent. */
  framesOut: number;
  /** Outgoing frames dropped because they exceeded the client's announced max frame size. */
  framesDropped: number;
  /** Bytes received. */
  bytesIn: number;
  /** Bytes sent. */
  bytesOut: number;
  /** Protocol errors detected or sent, by error code name (e.g. `RATE_LIMITED`). */
  errors: Record<string, number>;
  /** Event listeners and hooks that threw. */
  listenerErrors: number;
  /** Socket-level errors (resets, TLS failures). */
  socketErrors: number;
  /** TCP (or TLS) connections accepted, refused ones included. */
  accepted: number;
  /**
   * Accepted connections waiting, unread, for a handshake slot (a gauge;
   * accept pacing: at most `maxHandshakes` connections are in their
   * handshake at once, the others wait in arrival order).
   */
  acceptWaiting: number;
  /** Connections that had to wait for a handshake slot (accept pacing). */
  acceptPaced: number;
  /** Failed accepts (e.g. `EMFILE`, the process's open-file limit; logged, throttled). */
  acceptErrors: number;
  /**
   * Resumes that could not be handed to the worker holding their session
   * (the primary was busy or near its open-file limit, or the worker's
   * channel failed): the connection got a fatal `SERVER_FULL` with
   * `retry_after_ms` (multi-process servers; on the primary).
   */
  handoffRefused: number;
  /** Messages accepted for routing, by kind. */
  routed: RoutedStats;
  /** Frames the router queued to connections: Delivery, Reply and PresenceEvent frames. */
  deliveries: number;
  /** Messages not delivered, by reason; per subscription see `HeartbeatServer.subscriptions()`. */
  dropped: DropStats;
  /** Replies whose requester is not connected (or that answer nobody, `node_id` empty). */
  repliesDropped: number;
  /** Operations refused with `FORBIDDEN`, by kind (also in `errors.FORBIDDEN`, all kinds together). */
  forbidden: ForbiddenStats;
  /** Credential renewals. */
  renewals: RenewalStats;
  /** Messages refused with `RATE_LIMITED` by the per-node message limits (`messageRate`). */
  messagesLimited: number;
  /** WindowUpdate frames sent (flow-control credit returned to clients). */
  windowUpdates: number;
  /** Frames reassembled from incoming fragments. */
  reassembled: number;
  /** Live subscriptions, presence ones included. */
  subscriptions: number;
  /** Distinct subjects and patterns with at least one subscription (`$hb.presence` included). */
  channels: number;
  /**
   * Bytes waiting in the connections' outgoing queues (control and data
   * frames not yet handed to a socket). Bounded by the queue limits: a
   * client that stops reading cannot make it grow without bound.
   */
  queuedBytes: number;
  /**
   * Presence transitions of this server's nodes, by kind (`joined`, `left`,
   * `suspect`, `timeout`, `recovered`) and reason (e.g.
   * `timeout.heartbeat_timeout`); the kinds and reasons of the node events:
   * kind → reason → count.
   */
  transitions: Record<string, Record<string, number>>;
  /**
   * Heartbeat round trips reported by the nodes (seconds, fixed buckets):
   * what `heartbeat_latency_seconds` shows.
   */
  rtt: RttSnapshot;
  /**
   * Multi-process servers (`workerCount` > 1), on the primary: each worker as
   * last reported (every second). The figures above are then the sums over
   * the workers (plus the primary's own counters): this server's nodes and
   * traffic, not those of other servers of the bus.
   */
  workers?: WorkerStats[];
  /** The failure detector, the event-loop lag, stalls and held verdicts. */
  liveness: LivenessStats;
  /** Flap damping. */
  flapping: FlappingStats;
  /**
   * With the `bus` option: the link's kind and health, and its counters
   * (relayed in / out, dropped, remote nodes, …; they depend on the link).
   */
  bus?: BusStats;
}

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

/** {@link ServerStats.bus}: the bus link's counters plus its kind and health. */
export interface BusStats {
  /** The link's kind: `"memory"`, `"redis"`, … */
  kind: string;
  /** Its health now. */
  health: BusHealth;
  /** Its counters (numbers). */
  [counter: string]: number | string | BusHealth;
}

type Gauge = "connections" | "sessions" | "nodes" | "observers" | "online" | "suspect" | "labelSets" | "subscriptions" | "channels" | "liveness" | "flapping";
type Counter = Exclude<keyof ServerStats, Gauge | "errors" | "routed" | "dropped" | "bus" | "transitions" | "rtt" | "workers" | "forbidden" | "renewals">;

// Node event name → transition kind in stats and metrics.
const TRANSITION_KINDS: Readonly<Record<string, string>> = {
  nodeJoined: "joined",
  nodeLeft: "left",
  nodeSuspect: "suspect",
  nodeTimeout: "timeout",
  nodeRecovered: "recovered",
  nodeUpdated: "updated",
};

/** The server's mutable counters; {@link ServerCounters.snapshot} turns them into {@link ServerStats}. */
export class ServerCounters implements Record<Counter, number> {
  /** See {@link ServerStats.joined}. */
  joined = 0;
  /** See {@link ServerStats.left}. */
  left = 0;
  /** See {@link ServerStats.timedOut}. */
  timedOut = 0;
  /** See {@link ServerStats.suspected}. */
  suspected = 0;
  /** See {@link ServerStats.recovered}. */
  recovered = 0;
  /** See {@link ServerStats.resumed}. */
  resumed = 0;
  /** See {@link ServerStats.resumeMisses}. */
  resumeMisses = 0;
  /** See {@link ServerStats.handedOff}. */
  handedOff = 0;
  /** See {@link ServerStats.awaitingHello} (a gauge, kept up to date by the pending Hellos). */
  awaitingHello = 0;
  /** See {@link ServerStats.awaitingHelloBytes} (a gauge, kept up to date by the pending Hellos). */
  awaitingHelloBytes = 0;
  /** See {@link ServerStats.helloEvictions}. */
  helloEvictions = 0;
  /** See {@link ServerStats.willsPublished}. */
  willsPublished = 0;
  /** See {@link ServerStats.heartbeats}. */
  heartbeats = 0;
  /** See {@link ServerStats.framesIn}. */
  framesIn = 0;
  /** See {@link ServerStats.framesOut}. */
  framesOut = 0;
  /** See {@link ServerStats.framesDropped}. */
  framesDropped = 0;
  /** See {@link ServerStats.bytesIn}. */
  bytesIn = 0;
  /** See {@link ServerStats.bytesOut}. */
  bytesOut = 0;
  /** See {@link ServerStats.listenerErrors}. */
  listenerErrors = 0;
  /** See {@link ServerStats.socketErrors}. */
  socketErrors = 0;
  /** See {@link ServerStats.accepted}. */
  accepted = 0;
  /** See {@link ServerStats.acceptWaiting} (a gauge, set by the server before each snapshot). */
  acceptWaiting = 0;
  /** See {@link ServerStats.acceptPaced}. */
  acceptPaced = 0;
  /** See {@link ServerStats.acceptErrors}. */
  acceptErrors = 0;
  /** See {@link ServerStats.handoffRefused}. */
  handoffRefused = 0;
  /** See {@link ServerStats.deliveries}. */
  deliveries = 0;
  /** See {@link ServerStats.repliesDropped}. */
  repliesDropped = 0;
  /** See {@link ServerStats.windowUpdates}. */
  windowUpdates = 0;
  /** See {@link ServerStats.reassembled}. */
  reassembled = 0;
  /** See {@link ServerStats.queuedBytes} (a gauge, kept up to date by the connections). */
  queuedBytes = 0;
  /** See {@link ServerStats.messagesLimited}. */
  messagesLimited = 0;
  /** See {@link ServerStats.forbidden}. */
  readonly forbidden: ForbiddenStats = { publish: 0, subscribe: 0, send: 0, broadcast: 0, attach: 0, presence: 0 };
  /** See {@link ServerStats.renewals}. */
  readonly renewals: RenewalStats = { accepted: 0, refused: 0, expired: 0 };
  /** See {@link ServerStats.routed}. */
  readonly routed: RoutedStats = { publish: 0, send: 0, broadcast: 0, reply: 0, presence: 0 };
  /** See {@link ServerStats.dropped}. */
  readonly dropped: DropStats = {
    dropOldest: 0,
    dropNewest: 0,
    slowConsumer: 0,
    tooLarge: 0,
    noSubscribers: 0,
    unknownNode: 0,
  };
  /**
   * Heartbeat round trips reported by nodes: the liveness monitor calls
   * `rtt.observe(seconds)` for each Heartbeat carrying one.
   */
  readonly rtt = new RttHistogram();
  readonly #errors = new Map<string, number>();
  readonly #transitions = new Map<string, Map<string, number>>();

  /** Counts one protocol error. */
  error(code: ErrorCode): void {
    const name = errorCodeName(code);
    this.#errors.set(name, (this.#errors.get(name) ?? 0) + 1);
  }

  /** Counts one presence transition of a local node: `event` is the node event's name (`nodeJoined`, …). */
  transition(event: string, reason: string): void {
    const kind = TRANSITION_KINDS[event] ?? event;
    let byReason = this.#transitions.get(kind);
    if (byReason === undefined) this.#transitions.set(kind, (byReason = new Map()));
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }

  /** The counters plus the gauges passed in, as a plain object. */
  snapshot(gauges: Pick<ServerStats, Gauge>): ServerStats {
    return {
      ...gauges,
      joined: this.joined,
      left: this.left,
      timedOut: this.timedOut,
      suspected: this.suspected,
      recovered: this.recovered,
      resumed: this.resumed,
      resumeMisses: this.resumeMisses,
      handedOff: this.handedOff,
      awaitingHello: this.awaitingHello,
      awaitingHelloBytes: this.awaitingHelloBytes,
      helloEvictions: this.helloEvictions,
      willsPublished: this.willsPublished,
      heartbeats: this.heartbeats,
      framesIn: this.framesIn,
      framesOut: this.framesOut,
      framesDropped: this.framesDropped,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      errors: Object.fromEntries(this.#errors),
      transitions: Object.fromEntries([...this.#transitions].map(([kind, m]) => [kind, Object.fromEntries(m)])),
      rtt: this.rtt.snapshot(),
      listenerErrors: this.listenerErrors,
      socketErrors: this.socketErrors,
      accepted: this.accepted,
      acceptWaiting: this.acceptWaiting,
      acceptPaced: this.acceptPaced,
      acceptErrors: this.acceptErrors,
      handoffRefused: this.handoffRefused,
      routed: { ...this.routed },
      deliveries: this.deliveries,
      dropped: { ...this.dropped },
      repliesDropped: this.repliesDropped,
      forbidden: { ...this.forbidden },
      renewals: { ...this.renewals },
      messagesLimited: this.messagesLimited,
      windowUpdates: this.windowUpdates,
      reassembled: this.reassembled,
      queuedBytes: this.queuedBytes,
    };
  }
}
