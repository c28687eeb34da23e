import type { OverflowMode } from "@hb/codec";

/** One live subscription, as reported by {@link HeartbeatServer.subscriptions}. */
export interface SubscriptionInfo {
  /** Node id of the connection that subscribed (its own node; subscriptions belong to connections). */
  nodeId: string;
  /** Channel number assigned on that connection. */
  channel: number;
  /** Subject or pattern as subscribed (`$hb.presence` for presence). */
  subject: string;
  /** Presence only: the label filter (empty: every node). */
  labelFilter: Readonly<Record<string, string>>;
  /** Queue limit in messages, after defaults and clamping. */
  queueSize: number;
  /** What happens when the queue is full. */
  overflow: OverflowMode;
  /** Frames queued for it so far (deliveries or presence events). */
  delivered: number;
  /** Messages it lost to its overflow policy or to its client's frame size. */
  dropped: number;
}
