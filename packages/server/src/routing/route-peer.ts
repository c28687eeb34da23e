import type { Frame, OverflowMode } from "@hb/codec";
import type { ChannelSubscription } from "./channel-subscription.js";
import type { ChannelTable } from "./channel-table.js";
import type { SlicedTask } from "./turn-slicer.js";

/**
 * What the router needs from a connection (implemented by {@link Session}):
 * its channel table and its outgoing queues. Keeps the router free of
 * sockets and testable with any implementation.
 */
export interface RoutePeer {
  /** Connection number, unique within the server. */
  readonly id: number;
  /** The connection's own node id (`undefined` before Welcome, or once its node is gone). */
  readonly nodeId: string | undefined;
  /** The connection's subscriptions. */
  readonly channels: ChannelTable<ChannelSubscription>;
  /**
   * Queues a pre-encoded frame on a data queue: `head` + `body` is its wire
   * form, `frameLength` its length without prefix. Frames larger than the
   * client's max frame size leave as fragments, or are dropped (counted
   * `tooLarge`) when fragments are off or it exceeds `maxMessageSize`.
   *
   * @returns whether it was queued (`false`: dropped, or the connection is closing)
   */
  relay(channel: number, head: Uint8Array, body: Uint8Array, frameLength: number): boolean;
  /** Queues a control frame (Subscribed, WindowUpdate, …): never dropped, sent before data. */
  control(frame: Frame): void;
  /** Sets a channel queue's limit and overflow policy (before its first frame). */
  configureChannel(channel: number, queueLimit: number, overflow: OverflowMode): void;
  /** Discards a channel's queue (after Unsubscribe). */
  removeChannel(channel: number): void;
  /** Messages queued on `channel` now. */
  queuedOn(channel: number): number;
  /**
   * Defers `task` to the server's {@link TurnSlicer} after the connection's
   * next write (at once if nothing is queued): a paced stream (a presence
   * snapshot) queues more when there is room. One task at a time.
   */
  whenWritten(task: SlicedTask): void;
  /**
   * A subscription on `channel` overflowed outside its queue (a presence
   * snapshot's held live events, policy disconnect): the connection closes
   * with `SLOW_CONSUMER`.
   */
  overflowed(channel: number): void;
}
