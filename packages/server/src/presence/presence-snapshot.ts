import { Fifo, type OverflowMode, PresenceKind } from "@hb/codec";
import type { ServerCounters } from "../core/ports/server-stats.js";
import type { NodeLabels } from "../registry/node-labels.js";
import type { SlicedTask, TurnSlicer } from "../routing/turn-slicer.js";
import { encodePresenceEvent } from "./presence-event-body.js";

/** What a snapshot stream needs of its `$hb.presence` subscription and connection. */
export interface SnapshotSubscriber {
  /** Channel number on its connection. */
  readonly channel: number;
  /** Queue limit in messages. */
  readonly queueSize: number;
  /** Overflow policy (for the live events held behind the snapshot). */
  readonly overflow: OverflowMode;
  /** Set once the subscription ended. */
  readonly ended: boolean;
  /** Messages dropped so far. */
  dropped: number;
  /** Queues an encoded PresenceEvent body; `false` when dropped. */
  relay(body: Uint8Array): boolean;
  /** The connection. */
  readonly peer: {
    /** Messages queued on a channel now. */
    queuedOn(channel: number): number;
    /** Defers a task after the connection's next write. */
    whenWritten(task: SlicedTask): void;
    /** Closes the connection with `SLOW_CONSUMER` (policy disconnect). */
    overflowed(channel: number): void;
  };
}

/** The nodes a snapshot announces, captured when the subscription starts. */
export interface SnapshotNodes {
  /** Node ids. */
  readonly ids: string[];
  /** Their labels, same order. */
  readonly labels: NodeLabels[];
  /** `PresenceEvent.server_id` of each (the holder of a node of another bus member). */
  readonly servers: string[];
}

/**
 * A `Subscribe { snapshot }` on `$hb.presence` (PROTOCOL.md §7.2) streamed
 * in slices: one `JOINED` (reason `snapshot`) per node matching at the
 * moment of Subscribed, captured then (references only), then the live
 * events that happened meanwhile, in order.
 *
 * The snapshot goes **outside the overflow queue**: each slice queues only
 * as many events as the subscription's queue has room for, and the stream
 * goes on after the connection's next write. A snapshot of 100,000 nodes
 * thus reaches a subscription with the default `queue_size` (1,000) whole,
 * and no turn encodes more than its budget. Live events held meanwhile are
 * bounded by `queue_size` under the subscription's overflow policy.
 */
export class PresenceSnapshot implements SlicedTask {
  readonly #sub: SnapshotSubscriber;
  readonly #nodes: SnapshotNodes;
  readonly #timeMs: number;
  readonly #stats: ServerCounters;
  readonly #done: () => void;
  readonly #live = new Fifo<Uint8Array>();
  #next = 0;

  /**
   * @param sub - the subscription
   * @param nodes - the nodes to announce
   * @param timeMs - `PresenceEvent.time_ms` of every snapshot event
   * @param stats - counters (`deliveries`, drops)
   * @param done - called once the snapshot and the held live events are queued
   */
  constructor(sub: SnapshotSubscriber, nodes: SnapshotNodes, timeMs: number, stats: ServerCounters, done: () => void) {
    this.#sub = sub;
    this.#nodes = nodes;
    this.#timeMs = timeMs;
    this.#stats = stats;
    this.#done = done;
  }

  /** Snapshot events not queued yet. */
  get remaining(): number {
    return this.#nodes.ids.length - this.#next;
  }

  /** A live event for the subscription while its snapshot is still going out: held, then queued after it. */
  hold(body: Uint8Array): void {
    const sub = this.#sub;
    const live = this.#live;
    if (live.length >= sub.queueSize) {
      if (sub.overflow === "disconnect") {
        sub.peer.overflowed(sub.channel);
        return;
      }
      sub.dropped++;
      if (sub.overflow === "drop-newest") {
        this.#stats.dropped.dropNewest++;
        return;
      }
      this.#stats.dropped.dropOldest++;
      live.shift();
    }
    live.push(body);
  }

  /** See {@link SlicedTask.runSlice}. */
  runSlice(slicer: TurnSlicer): boolean {
    const sub = this.#sub;
    if (sub.ended) return true;
    const { ids, labels, servers } = this.#nodes;
    let room = sub.queueSize - sub.peer.queuedOn(sub.channel);
    let n = 0;
    let over = false;
    while (this.#next < ids.length && room > 0) {
      const i = this.#next++;
      const body = encodePresenceEvent(PresenceKind.JOINED, ids[i] as string, labels[i] as NodeLabels, this.#timeMs, "snapshot", servers[i] as string);
      if (sub.relay(body)) n++;
      room--;
      // ≈ 2–5 µs per event (a protobuf encode): a clock read every ≈ 64 events.
      if (slicer.spend(4)) {
        over = true;
        break;
      }
    }
    this.#stats.deliveries += n;
    if (this.#next < ids.length) {
      if (over) return false;
      // The queue is full: go on after the connection's next write.
      sub.peer.whenWritten(this);
      return true;
    }
    const live = this.#live;
    let m = 0;
    while (live.length > 0) if (sub.relay(live.shift() as Uint8Array)) m++;
    this.#stats.deliveries += m;
    this.#done();
    return true;
  }
}
