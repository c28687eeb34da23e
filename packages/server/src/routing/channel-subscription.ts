import { type OverflowMode, relayFrameLength, relayHead } from "@hb/codec";
import type { SubjectRule } from "../auth/subject-rule.js";
import type { NodeLabels } from "../registry/node-labels.js";
import type { SubscriptionInfo } from "./subscription-info.js";
import type { SlicedTask } from "./turn-slicer.js";

/** Where a subscription's frames go: its connection (a `RoutePeer`). */
export interface RelayTarget {
  /** The connection's own node id, if any. */
  readonly nodeId: string | undefined;
  /** Queues a pre-encoded frame on `channel` (see `RoutePeer.relay`). */
  relay(channel: number, head: Uint8Array, body: Uint8Array, frameLength: number): boolean;
  /** Messages queued on `channel` now (see `RoutePeer.queuedOn`). */
  queuedOn(channel: number): number;
  /** Defers a task after the connection's next write (see `RoutePeer.whenWritten`). */
  whenWritten(task: SlicedTask): void;
  /** Closes the connection with `SLOW_CONSUMER` (see `RoutePeer.overflowed`). */
  overflowed(channel: number): void;
}

/**
 * One subscription: a (connection, pattern) pair named by its channel
 * number on that connection (PROTOCOL.md §10.4). Frames for it wait in the
 * connection's per-channel queue, bounded by {@link ChannelSubscription.queueSize}
 * with its {@link ChannelSubscription.overflow} policy.
 */
export class ChannelSubscription {
  /** The connection. */
  readonly peer: RelayTarget;
  /** Channel number on that connection. */
  readonly channel: number;
  /** Subject or pattern as subscribed. */
  readonly subject: string;
  /** Whether this is a `$hb.presence` subscription. */
  readonly presence: boolean;
  /** Whether the subject is a pattern (has a `*` or `>` token): then it cannot be published to by channel. */
  readonly pattern: boolean;
  /** Presence only: label entries a node must carry (empty: every node). */
  readonly labelFilter: NodeLabels;
  /** Presence only: flap damping is off for it (`Subscribe.undamped`, PROTOCOL.md §7.6). */
  readonly undamped: boolean;
  /** Queue limit in messages. */
  readonly queueSize: number;
  /** Overflow policy. */
  readonly overflow: OverflowMode;
  /** Frames queued for it. */
  delivered = 0;
  /** Messages dropped (overflow policy, too large). */
  dropped = 0;
  /** Set when the subscription ends: work still queued for it (a sliced fan-out) skips it. */
  ended = false;
  /**
   * The subscriber's subscribe permission when some subjects this
   * subscription matches are denied to it (`a.>` with `a.secret` denied):
   * messages to those are not delivered (PROTOCOL.md §4.28). Usually `undefined`.
   */
  readonly deny: SubjectRule | undefined;
  readonly #field: number;
  readonly #filterKeys: readonly string[];
  // The head of the last body length relayed: fixed-size messages reuse it (no allocation).
  #headFor = -1;
  #head: Uint8Array = new Uint8Array(0);
  #frameLength = 0;

  /**
   * @param peer - the connection
   * @param channel - its channel number there
   * @param subject - subject or pattern
   * @param field - Frame body field of its frames (Delivery, or PresenceEvent for `$hb.presence`)
   * @param options - kind, label filter, queue limit and overflow policy
   */
  constructor(
    peer: RelayTarget,
    channel: number,
    subject: string,
    field: number,
    options: {
      presence: boolean;
      pattern: boolean;
      labelFilter: NodeLabels;
      undamped?: boolean;
      queueSize: number;
      overflow: OverflowMode;
      deny?: SubjectRule | undefined;
    },
  ) {
    this.deny = options.deny;
    this.peer = peer;
    this.channel = channel;
    this.subject = subject;
    this.#field = field;
    this.presence = options.presence;
    this.pattern = options.pattern;
    this.labelFilter = options.labelFilter;
    this.undamped = options.undamped ?? false;
    this.#filterKeys = Object.keys(options.labelFilter);
    this.queueSize = options.queueSize;
    this.overflow = options.overflow;
  }

  /** Presence only: whether a node with `labels` passes the label filter. */
  accepts(labels: NodeLabels): boolean {
    const keys = this.#filterKeys;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      if (labels[k] !== this.labelFilter[k]) return false;
    }
    return true;
  }

  /**
   * Queues a body encoded once for many recipients on this subscription's
   * channel, behind its own head.
   *
   * @returns whether it was queued
   */
  relay(body: Uint8Array): boolean {
    const len = body.length;
    if (len !== this.#headFor) {
      this.#head = relayHead(this.channel, this.#field, len);
      this.#frameLength = relayFrameLength(this.channel, this.#field, len);
      this.#headFor = len;
    }
    if (!this.peer.relay(this.channel, this.#head, body, this.#frameLength)) return false;
    this.delivered++;
    return true;
  }

  /** A snapshot for {@link HeartbeatServer.subscriptions}. */
  info(): SubscriptionInfo {
    return {
      nodeId: this.peer.nodeId ?? "",
      channel: this.channel,
      subject: this.subject,
      labelFilter: this.labelFilter,
      queueSize: this.queueSize,
      overflow: this.overflow,
      delivered: this.delivered,
      dropped: this.dropped,
    };
  }
}
