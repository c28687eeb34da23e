import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type Broadcast,
  DeliveryKind,
  DeliverySchema,
  DELIVERY_FIELD,
  ErrorCode,
  FrameSchema,
  PRESENCE_FIELD,
  type Publish,
  type Reply,
  REPLY_FIELD,
  ReplySchema,
  type Send,
  type Subscribe,
  deliveryPayloadOffset,
  encodeDelivery,
  makeFrame,
  nodeIdProblem,
  publishProblem,
  relayFrameLength,
  relayHead,
  withToNodeId,
} from "@hb/codec";
import type { ConnectionPermissions, PermissionKind } from "../auth/connection-permissions.js";
import type { SubjectRule } from "../auth/subject-rule.js";
import type { BusEnvelope } from "../core/ports/bus-link.js";
import type { Refusal } from "../core/ports/frame-handlers.js";
import type { NodeDirectory } from "../core/ports/node-directory.js";
import type { ServerCounters } from "../core/ports/server-stats.js";
import type { LiveOptions } from "../options/live-options.js";
import type { PresenceFeed } from "../presence/presence-feed.js";
import type { NodeInfo } from "../registry/node-info.js";
import type { RoutePeer } from "./route-peer.js";
import { checkSubscribe } from "./subscribe-request.js";
import { SubjectIndex } from "./subject-index.js";
import { ChannelSubscription } from "./channel-subscription.js";
import type { SubscriptionInfo } from "./subscription-info.js";
import { COPY_STEP_BYTES, type FanOutCursor, RouteJob, relayFrom } from "./route-job.js";
import type { TurnSlicer } from "./turn-slicer.js";

/** Most concrete subjects remembered as valid, so steady publishing skips re-validation. */
const CHECKED_SUBJECTS = 4096;

/** What the router needs of a node's owner (a session record). */
export interface RouteOwner {
  /** The connection, or `undefined` while lost (resume grace). */
  readonly session: RoutePeer | undefined;
  /** Registry slot of the connection's own node; -1 once it is gone. */
  readonly ownSlot: number;
  /** Attached nodes bound to the connection: gateway handle → registry slot. */
  readonly handles: ReadonlyMap<number, number>;
  /** What the connection may do (`undefined`: no rules, the server's defaults). */
  readonly permissions: ConnectionPermissions | undefined;
  /** The connection's id (its own node's, or the observer's). */
  readonly nodeId: string;
  /** Whether the connection is an observer (§5.7): no registry slot, it sends under `nodeId`. */
  readonly observer: boolean;
}

// Results of Router.#sender that are not registry slots.
const NO_SENDER = -1;
const OBSERVER_SENDER = -2;

/** Dependencies of a {@link Router}. */
export interface RouterOptions {
  /** The server's options (hooks, limits, the bus), read when needed: they may change live. */
  options: LiveOptions;
  /** The local nodes. */
  nodes: NodeDirectory<RouteOwner>;
  /** The `$hb.presence` subscriptions. */
  presence: PresenceFeed;
  /** Counters. */
  stats: ServerCounters;
  /** Whether the server is draining (no new subscriptions). */
  shuttingDown: () => boolean;
  /** The connection of a local observer with id `nodeId` (§5.7: routable, not a node), if any. */
  observer?: (nodeId: string) => RoutePeer | undefined;
  /** What the authorization hooks get for an observer sending or subscribing (it has no registry slot). */
  observerInfo?: (owner: RouteOwner) => NodeInfo;
  /** The event loop's work budget: fan-outs that do not fit a turn continue in later ones. */
  slicer: TurnSlicer;
}

/** Presence snapshots being sent at once on one connection (PROTOCOL.md §7.2): more are refused with `SERVER_FULL`. */
export const MAX_SNAPSHOTS_PER_CONNECTION = 4;

// Frame body field of Send: `ref_body` of the errors answering one (§13.2).
const SEND_FIELD = FrameSchema.field.send?.number as number;

const invalid = (message: string): Refusal => ({ code: ErrorCode.INVALID_ARGUMENT, message });

/**
 * The channel router (PROTOCOL.md §10): subscriptions and their channels,
 * Publish / Send / Broadcast / Reply routing, presence as a channel, wills,
 * and the server application's own messages.
 *
 * - One global {@link SubjectIndex} maps patterns to subscriptions; its
 *   per-subject match cache makes steady publishing one Map lookup.
 * - Every message is encoded once ({@link encodeDelivery}) and queued on
 *   each recipient behind a per-recipient head: no per-delivery encoding.
 * - Frames go into the recipients' bounded per-channel queues (their
 *   {@link RoutePeer}); overflow policies and drops are the peers' concern,
 *   so a slow subscriber never slows a publisher or other subscribers.
 * - Refusals are returned as {@link Refusal}s, which the session sends as
 *   non-fatal ProtocolErrors (`ref` = request id).
 * - **Bounded work per turn** (issue 10): a fan-out stops when the turn's
 *   budget ({@link TurnSlicer}) is spent and continues in later turns as a
 *   {@link RouteJob}; while such work is queued, every new message queues
 *   behind it (so each publisher's messages keep their order on every
 *   subscription). A payload above {@link COPY_STEP_BYTES} is copied into
 *   its Delivery in steps.
 */
// Why one file of ~710 lines (about a fifth TSDoc and comments): subscriptions (with their
// permissions), the four message kinds and the bus's relayed messages share
// the subject index, the peer set, the turn slicer and the one-encode-many-heads
// relay path; the pieces (subject index, channel table, subscriptions,
// subscribe rules, route jobs, the relay encoding in @hb/codec, the presence
// feed) are in files of their own.
export class Router {
  readonly #o: RouterOptions;
  readonly #live: LiveOptions;
  readonly #nodes: NodeDirectory<RouteOwner>;
  readonly #stats: ServerCounters;
  readonly #index = new SubjectIndex<ChannelSubscription>();
  readonly #presence: PresenceFeed;
  readonly #slicer: TurnSlicer;
  // The inline fan-out's cursor (no allocation per message).
  readonly #cursor: FanOutCursor = { next: 0 };
  readonly #peers = new Set<RoutePeer>();
  readonly #patterns = new Map<string, number>();
  readonly #checked = new Set<string>();
  #subscriptions = 0;

  constructor(options: RouterOptions) {
    this.#o = options;
    this.#live = options.options;
    this.#nodes = options.nodes;
    this.#stats = options.stats;
    this.#presence = options.presence;
    this.#slicer = options.slicer;
  }

  /** Live subscriptions, presence ones included. */
  get subscriptions(): number {
    return this.#subscriptions;
  }

  /** Distinct subjects and patterns with at least one subscription. */
  get channels(): number {
    return this.#patterns.size;
  }

  /** Connections that receive broadcasts (welcomed and not closed). */
  get peers(): number {
    return this.#peers.size;
  }

  // ------------------------------------------------------------ connections

  /** A connection was welcomed: it may subscribe and receives broadcasts. */
  addPeer(peer: RoutePeer): void {
    this.#peers.add(peer);
  }

  /** A connection closed: its subscriptions end (a resume does not restore them, §8.2). */
  removePeer(peer: RoutePeer): void {
    if (!this.#peers.delete(peer)) return;
    for (const sub of peer.channels.clear()) this.#unindex(sub);
  }

  // ---------------------------------------------------------- subscriptions

  /** Subscribe (§10.4): validates, authorizes, assigns a channel, answers Subscribed. */
  subscribe(peer: RoutePeer, rec: RouteOwner, s: Subscribe): Refusal | undefined {
    const o = this.#live.current;
    if (this.#o.shuttingDown()) return { code: ErrorCode.SHUTTING_DOWN, message: "server is draining" };
    const req = checkSubscribe(s);
    if (typeof req === "string") return invalid(req);
    const { subject, presence } = req;
    const kind = presence ? "presence" : "subscribe";
    const perm = rec.permissions;
    let deny: SubjectRule | undefined;
    if (perm !== undefined) {
      if (presence) {
        if (!perm.mayWatch(req.labelFilter)) return this.#forbid(kind, `not allowed to watch presence with this label filter`);
      } else if (perm.subscribe !== true) {
        const verdict = perm.subscribe === false ? "deny" : perm.subscribe.subscribe(subject);
        if (verdict === "deny") return this.#forbid(kind, `not allowed to subscribe to ${JSON.stringify(subject)}`);
        if (verdict === "filter") deny = perm.subscribe as SubjectRule;
      }
    }
    const hook = o.authorizeSubscribe;
    if (hook !== undefined && !this.#allowed(() => hook(this.#senderInfo(rec, this.#sender(rec, 0)), subject))) {
      return this.#forbid(kind, `not allowed to subscribe to ${JSON.stringify(subject)}`);
    }
    const table = peer.channels;
    if (table.size >= o.maxSubscriptionsPerConnection) {
      return {
        code: ErrorCode.SERVER_FULL,
        message: `too many subscriptions on this connection (maxSubscriptionsPerConnection ${o.maxSubscriptionsPerConnection})`,
      };
    }
    // Each streaming snapshot holds a capture of the fleet until it is read (PROTOCOL.md §7.2): a few at once per connection.
    if (presence && req.snapshot && this.#presence.streamingTo(peer) >= MAX_SNAPSHOTS_PER_CONNECTION) {
      return {
        code: ErrorCode.SERVER_FULL,
        message: `too many presence snapshots being sent on this connection (at most ${MAX_SNAPSHOTS_PER_CONNECTION}): subscribe again once one has been read`,
      };
    }
    const channel = table.peekChannel();
    if (channel === 0) return { code: ErrorCode.SERVER_FULL, message: "channel numbers exhausted on this connection" };
    const queueSize = s.queueSize === 0 ? o.channelMaxQueueSize : Math.min(s.queueSize, o.maxSubscriptionQueueSize);
    const sub = new ChannelSubscription(peer, channel, subject, presence ? PRESENCE_FIELD : DELIVERY_FIELD, {
      presence,
      pattern: req.pattern,
      labelFilter: req.labelFilter,
      undamped: req.undamped,
      queueSize,
      overflow: req.overflow,
      deny,
    });
    table.add(sub);
    peer.configureChannel(channel, queueSize, req.overflow);
    // Subscribed is a control frame: it leaves before any frame of the channel (§10.8).
    peer.control(makeFrame("subscribed", { requestId: s.requestId, channel, subject }));
    this.#subscriptions++;
    this.#patterns.set(subject, (this.#patterns.get(subject) ?? 0) + 1);
    if (presence) {
      // With its snapshot first (captured now, streamed in slices), before any live event reaches it (§7.2).
      this.#presence.add(sub, req.snapshot);
    } else {
      this.#index.add(subject, sub);
    }
    return undefined;
  }

  /** Unsubscribe on `channel`: the subscription ends, its queue is discarded. */
  unsubscribe(peer: RoutePeer, channel: number): Refusal | undefined {
    const sub = peer.channels.remove(channel);
    if (sub === undefined) return { code: ErrorCode.UNKNOWN_CHANNEL, message: `channel ${channel} is not a live subscription` };
    this.#unindex(sub);
    peer.removeChannel(channel);
    return undefined;
  }

  #unindex(sub: ChannelSubscription): void {
    sub.ended = true;
    if (sub.presence) this.#presence.remove(sub);
    else this.#index.remove(sub.subject, sub);
    this.#subscriptions--;
    const n = (this.#patterns.get(sub.subject) ?? 1) - 1;
    if (n <= 0) this.#patterns.delete(sub.subject);
    else this.#patterns.set(sub.subject, n);
  }

  // ---------------------------------------------------------------- messages

  /** Publish (§10.5), by subject or by the channel of an exact subscription. */
  publish(peer: RoutePeer, rec: RouteOwner, p: Publish, channel: number): Refusal | undefined {
    const from = this.#sender(rec, p.fromHandle);
    if (from === NO_SENDER) return invalid(`from_handle ${p.fromHandle} is not an attached node of this connection`);
    let subject = p.subject;
    if (channel !== 0) {
      if (subject !== "") return invalid("a Publish names a subject or a channel, not both");
      const sub = peer.channels.get(channel);
      if (sub === undefined) return { code: ErrorCode.UNKNOWN_CHANNEL, message: `channel ${channel} is not a live subscription` };
      if (sub.pattern) return invalid(`channel ${channel} is a pattern subscription (${sub.subject}): publish by subject`);
      subject = sub.subject;
    }
    const refusal = this.#publishable(subject);
    if (refusal !== undefined) return refusal;
    const perm = rec.permissions;
    if (perm !== undefined && !perm.mayPublish(subject)) return this.#forbid("publish", `not allowed to publish to ${JSON.stringify(subject)}`);
    const hook = this.#live.current.authorizePublish;
    if (hook !== undefined && !this.#allowed(() => hook(this.#senderInfo(rec, from), subject))) {
      return this.#forbid("publish", `not allowed to publish to ${JSON.stringify(subject)}`);
    }
    this.#publish(subject, p.payload, this.#senderId(rec, from), p.requestId);
    return undefined;
  }

  /** Send (§10.6) to one node; an offline target is `UNKNOWN_NODE` (a Reply for requests). */
  send(peer: RoutePeer, rec: RouteOwner, s: Send): Refusal | undefined {
    const from = this.#sender(rec, s.fromHandle);
    if (from === NO_SENDER) return invalid(`from_handle ${s.fromHandle} is not an attached node of this connection`);
    const problem = nodeIdProblem(s.nodeId);
    if (problem !== undefined) return invalid(problem);
    const perm = rec.permissions;
    if (perm !== undefined && !perm.maySend(s.nodeId)) return this.#forbid("send", `not allowed to send to ${JSON.stringify(s.nodeId)}`);
    const hook = this.#live.current.authorizeSend;
    if (hook !== undefined && !this.#allowed(() => hook(this.#senderInfo(rec, from), s.nodeId))) {
      return this.#forbid("send", `not allowed to send to ${JSON.stringify(s.nodeId)}`);
    }
    if (this.#send(s.nodeId, s.payload, this.#senderId(rec, from), s.requestId)) return undefined;
    const message = `node ${JSON.stringify(s.nodeId)} is not online`;
    if (s.requestId === 0n) return { code: ErrorCode.UNKNOWN_NODE, message };
    this.#replyTo(peer, s.nodeId, s.requestId, new Uint8Array(0), ErrorCode.UNKNOWN_NODE, message);
    return undefined;
  }

  /**
   * Broadcast (§10.7) from a node: when the permissions allow it (a rule or
   * credential saying `broadcast: true`) or, where they say nothing, when
   * `authorizeBroadcast` is set; and `authorizeBroadcast`, if set, allows it.
   */
  broadcast(peer: RoutePeer, rec: RouteOwner, b: Broadcast): Refusal | undefined {
    const from = this.#sender(rec, b.fromHandle);
    if (from === NO_SENDER) return invalid(`from_handle ${b.fromHandle} is not an attached node of this connection`);
    const hook = this.#live.current.authorizeBroadcast;
    const granted = rec.permissions?.broadcast;
    if (granted === false) return this.#forbid("broadcast", "not allowed to broadcast");
    if (granted === undefined && hook === undefined) return this.#forbid("broadcast", "broadcasts from nodes are not allowed on this server");
    if (hook !== undefined && !this.#allowed(() => hook(this.#senderInfo(rec, from)))) return this.#forbid("broadcast", "not allowed to broadcast");
    this.#broadcast(b.payload, this.#senderId(rec, from), peer);
    return undefined;
  }

  /** Reply (§10.9): forwarded to the requester's connection; to nobody it is dropped and counted. */
  reply(_peer: RoutePeer, rec: RouteOwner, r: Reply): Refusal | undefined {
    const from = this.#sender(rec, r.fromHandle);
    if (from === NO_SENDER) return invalid(`from_handle ${r.fromHandle} is not an attached node of this connection`);
    const stats = this.#stats;
    stats.routed.reply++;
    const target = r.nodeId === "" ? undefined : this.#connectionOf(r.nodeId);
    if (target === undefined) {
      // Requester on another server of the bus?
      const bus = this.#live.current.bus;
      const remote = r.nodeId !== "" && this.#nodes.slotOf(r.nodeId) < 0;
      const member = remote ? bus?.locate(r.nodeId) : undefined;
      if (bus !== undefined && remote && (member !== undefined || bus.resolve !== undefined)) {
        const body = replyBody(this.#senderId(rec, from), r.requestId, r.payload, r.errorCode, r.errorMessage);
        if (member === undefined) (bus.resolve as NonNullable<typeof bus.resolve>)({ type: "reply", nodeId: r.nodeId, body });
        else bus.send({ type: "reply", nodeId: r.nodeId, body }, member);
        return undefined;
      }
      // Requester offline, or a reply to the server application (which sends no requests).
      stats.repliesDropped++;
      return undefined;
    }
    this.#replyTo(target, this.#senderId(rec, from), r.requestId, r.payload, r.errorCode, r.errorMessage);
    return undefined;
  }

  // ------------------------------------------------- the server application

  /**
   * Publishes on behalf of the server (`from_node_id` empty) or of a node
   * (a will). The subject must already be checked.
   *
   * @returns the number of subscriptions it was queued on; when part of the
   *   fan-out continues in later event-loop turns (a large fan-out, or work
   *   queued before it), the number of subscriptions it matched
   */
  publishAs(subject: string, payload: Uint8Array, fromNodeId: string): number {
    return this.#publish(subject, payload, fromNodeId, 0n);
  }

  /** Sends to one node on behalf of the server. @returns `false` when it is not online */
  sendAs(nodeId: string, payload: Uint8Array, fromNodeId: string): boolean {
    return this.#send(nodeId, payload, fromNodeId, 0n);
  }

  /** Broadcasts to every connection on behalf of the server. @returns the number of connections */
  broadcastAs(payload: Uint8Array, fromNodeId: string): number {
    return this.#broadcast(payload, fromNodeId, undefined);
  }

  /**
   * Publishes the will of the node in `slot` (§7.4), as if the node had
   * published it: `authorizePublish` applies.
   *
   * @returns `false` if the hook refused it
   */
  will(slot: number, subject: string, payload: Uint8Array): boolean {
    const perm = this.#nodes.owner(slot).permissions;
    if (perm !== undefined && !perm.mayPublish(subject)) return false;
    const hook = this.#live.current.authorizePublish;
    if (hook !== undefined && !this.#allowed(() => hook(this.#info(slot), subject))) return false;
    this.#publish(subject, payload, this.#nodes.id(slot), 0n);
    return true;
  }

  /**
   * A message relayed by another server of the bus: routed to local
   * connections only, with the body as it came (a direct message for an
   * attached node gets its `to_node_id` appended).
   */
  deliverRemote(envelope: BusEnvelope, fromMember: string): void {
    const stats = this.#stats;
    switch (envelope.type) {
      case "publish": {
        const subs = this.#index.match(envelope.subject);
        if (subs.length > 0) this.#fanOut(subs, envelope.body, envelope.subject, undefined);
        return;
      }
      case "direct": {
        const slot = this.#nodes.slotOf(envelope.nodeId);
        // Not a node here: an observer's id, maybe (§5.7), which the Delivery needs no to_node_id for.
        const peer = slot < 0 ? this.#o.observer?.(envelope.nodeId) : this.#peerOf(slot);
        if (peer === undefined) {
          stats.dropped.unknownNode++;
          this.#unknownRemote(envelope.nodeId, envelope.body, fromMember);
          return;
        }
        const body = slot < 0 || this.#nodes.handle(slot) === 0 ? envelope.body : withToNodeId(envelope.body, envelope.nodeId);
        this.#toPeer(peer, DELIVERY_FIELD, body);
        return;
      }
      case "reply": {
        const peer = this.#connectionOf(envelope.nodeId);
        if (peer === undefined) {
          stats.repliesDropped++;
          return;
        }
        this.#toPeer(peer, REPLY_FIELD, envelope.body);
        return;
      }
      case "broadcast": {
        const except = envelope.exceptNodeId === undefined ? undefined : this.#connectionOf(envelope.exceptNodeId);
        this.#toAll(envelope.body, except);
        return;
      }
    }
  }

  /**
   * A message this server asked the bus to resolve (`BusLink.resolve`)
   * whose node no member holds: answered as a local Send to an unknown node
   * (§10.6): a request gets a Reply with `UNKNOWN_NODE`, a plain Send a
   * non-fatal ProtocolError naming the target; a reply is dropped and
   * counted.
   */
  unresolved(envelope: BusEnvelope): void {
    const stats = this.#stats;
    if (envelope.type !== "direct") {
      if (envelope.type === "reply") stats.repliesDropped++;
      return;
    }
    stats.dropped.unknownNode++;
    let d: { requestId: bigint; fromNodeId: string };
    try {
      d = fromBinary(DeliverySchema, envelope.body);
    } catch {
      return;
    }
    const peer = d.fromNodeId === "" ? undefined : this.#connectionOf(d.fromNodeId);
    if (peer === undefined) return;
    const target = envelope.nodeId;
    const message = `node ${JSON.stringify(target)} is not online`;
    if (d.requestId !== 0n) {
      this.#replyTo(peer, target, d.requestId, new Uint8Array(0), ErrorCode.UNKNOWN_NODE, message);
      return;
    }
    stats.error(ErrorCode.UNKNOWN_NODE);
    peer.control(
      makeFrame("error", { code: ErrorCode.UNKNOWN_NODE, message, ref: 0n, refBody: SEND_FIELD, nodeId: target, fatal: false }),
    );
  }

  // A relayed request for a node that is gone meanwhile: UNKNOWN_NODE back to
  // the requester, as for a local Send (the only place a relayed body is decoded).
  #unknownRemote(nodeId: string, body: Uint8Array, fromMember: string): void {
    const bus = this.#live.current.bus;
    if (bus === undefined) return;
    let d: { requestId: bigint; fromNodeId: string };
    try {
      d = fromBinary(DeliverySchema, body);
    } catch {
      return;
    }
    if (d.requestId === 0n || d.fromNodeId === "") return;
    const message = `node ${JSON.stringify(nodeId)} is not online`;
    const reply = replyBody(nodeId, d.requestId, new Uint8Array(0), ErrorCode.UNKNOWN_NODE, message);
    bus.send({ type: "reply", nodeId: d.fromNodeId, body: reply }, fromMember);
  }

  /**
   * Snapshots of the subscriptions of the connection that carries node
   * `nodeId` (its own node or an attached one), or of every connection.
   */
  list(nodeId?: string): SubscriptionInfo[] {
    const out: SubscriptionInfo[] = [];
    if (nodeId !== undefined) {
      const peer = this.#connectionOf(nodeId);
      if (peer !== undefined) for (const sub of peer.channels.values()) out.push(sub.info());
      return out;
    }
    for (const peer of this.#peers) for (const sub of peer.channels.values()) out.push(sub.info());
    return out;
  }

  // ---------------------------------------------------------------- internals

  #publish(subject: string, payload: Uint8Array, fromNodeId: string, requestId: bigint): number {
    const stats = this.#stats;
    stats.routed.publish++;
    const subs = this.#index.match(subject);
    const bus = this.#live.current.bus;
    if (subs.length === 0) {
      stats.dropped.noSubscribers++;
      if (bus === undefined) return 0;
    }
    // A large payload is copied into the body in steps, by a job (encoded once either way).
    const big = payload.length > COPY_STEP_BYTES;
    const body = encodeDelivery(DeliveryKind.PUBLISH, subject, fromNodeId, payload, requestId, "", !big);
    // Locally first, then once to the other servers (they match their own subscriptions).
    const toBus = bus === undefined ? undefined : () => bus.send({ type: "publish", subject, body });
    if (!big) return this.#fanOut(subs, body, subject, toBus);
    const at = deliveryPayloadOffset(DeliveryKind.PUBLISH, subject, fromNodeId, payload.length);
    this.#slicer.defer(new RouteJob(stats, body, { subs, from: 0, subject }, toBus).copyFirst(payload, at));
    return subs.length;
  }

  // The relay loop: one encoded body, one cached head per subscription; what
  // does not fit the turn's budget (or must queue behind earlier work)
  // continues as a job. Returns the subscriptions queued on now, or all of
  // them when some are left for later. A subscription wider than its
  // permissions skips the subjects denied to it (`subject`).
  #fanOut(subs: readonly ChannelSubscription[], body: Uint8Array, subject: string, then: (() => void) | undefined): number {
    const slicer = this.#slicer;
    if (slicer.backlogged) {
      slicer.defer(new RouteJob(this.#stats, body, { subs, from: 0, subject }, then));
      return subs.length;
    }
    const cursor = this.#cursor;
    cursor.next = 0;
    const n = subs.length === 0 ? 0 : relayFrom(subs, body, subject, cursor, slicer, this.#stats);
    if (cursor.next < subs.length) {
      slicer.defer(new RouteJob(this.#stats, body, { subs, from: cursor.next, subject }, then));
      return subs.length;
    }
    then?.();
    return n;
  }

  // A frame for one connection's channel 0, in order behind queued work.
  #toPeer(peer: RoutePeer, field: number, body: Uint8Array): void {
    const head = relayHead(0, field, body.length);
    const frameLength = relayFrameLength(0, field, body.length);
    if (this.#slicer.backlogged) this.#slicer.defer(new RouteJob(this.#stats, body, { peer, head, frameLength }));
    else if (peer.relay(0, head, body, frameLength)) this.#stats.deliveries++;
  }

  // A broadcast: channel 0 for everyone, so the head is shared too. Sliced like a fan-out.
  #toAll(body: Uint8Array, except: RoutePeer | undefined): number {
    const head = relayHead(0, DELIVERY_FIELD, body.length);
    const frameLength = relayFrameLength(0, DELIVERY_FIELD, body.length);
    const slicer = this.#slicer;
    if (slicer.backlogged) {
      slicer.defer(new RouteJob(this.#stats, body, { peers: this.#peers, except, head, frameLength }));
      return this.#peers.size;
    }
    const peers = this.#peers.values();
    let n = 0;
    for (;;) {
      const r = peers.next();
      if (r.done === true) break;
      if (r.value !== except && r.value.relay(0, head, body, frameLength)) n++;
      if (slicer.spend(1)) {
        slicer.defer(new RouteJob(this.#stats, body, { peers, except, head, frameLength }));
        break;
      }
    }
    this.#stats.deliveries += n;
    return n;
  }

  #send(nodeId: string, payload: Uint8Array, fromNodeId: string, requestId: bigint): boolean {
    const stats = this.#stats;
    stats.routed.send++;
    const r = this.#nodes;
    const slot = r.slotOf(nodeId);
    if (slot < 0) {
      // On another server of the bus? Its server appends to_node_id if the target is attached there.
      const observer = this.#o.observer?.(nodeId);
      if (observer !== undefined) {
        const body = encodeDelivery(DeliveryKind.DIRECT, "", fromNodeId, payload, requestId, "");
        if (observer.relay(0, relayHead(0, DELIVERY_FIELD, body.length), body, relayFrameLength(0, DELIVERY_FIELD, body.length))) {
          stats.deliveries++;
        }
        return true;
      }
      const bus = this.#live.current.bus;
      const member = bus?.locate(nodeId);
      if (bus === undefined || (member === undefined && bus.resolve === undefined)) {
        stats.dropped.unknownNode++;
        return false;
      }
      const body = encodeDelivery(DeliveryKind.DIRECT, "", fromNodeId, payload, requestId, "");
      // Not in the replica: the authority for node ids may know it already (§5.3).
      if (member === undefined) (bus.resolve as NonNullable<typeof bus.resolve>)({ type: "direct", nodeId, body });
      else bus.send({ type: "direct", nodeId, body }, member);
      return true;
    }
    const peer = this.#peerOf(slot);
    if (peer === undefined) {
      stats.dropped.unknownNode++;
      return false;
    }
    const to = r.handle(slot) === 0 ? "" : nodeId;
    if (payload.length > COPY_STEP_BYTES) {
      const body = encodeDelivery(DeliveryKind.DIRECT, "", fromNodeId, payload, requestId, to, false);
      const at = deliveryPayloadOffset(DeliveryKind.DIRECT, "", fromNodeId, payload.length);
      const target = { peer, head: relayHead(0, DELIVERY_FIELD, body.length), frameLength: relayFrameLength(0, DELIVERY_FIELD, body.length) };
      this.#slicer.defer(new RouteJob(stats, body, target).copyFirst(payload, at));
      return true;
    }
    this.#toPeer(peer, DELIVERY_FIELD, encodeDelivery(DeliveryKind.DIRECT, "", fromNodeId, payload, requestId, to));
    return true;
  }

  #broadcast(payload: Uint8Array, fromNodeId: string, except: RoutePeer | undefined): number {
    const stats = this.#stats;
    stats.routed.broadcast++;
    const body = encodeDelivery(DeliveryKind.BROADCAST, "", fromNodeId, payload, 0n, "");
    const n = this.#toAll(body, except);
    const bus = this.#live.current.bus;
    if (bus !== undefined) {
      bus.send(fromNodeId === "" ? { type: "broadcast", body } : { type: "broadcast", body, exceptNodeId: fromNodeId });
    }
    return n;
  }

  #replyTo(
    peer: RoutePeer,
    nodeId: string,
    requestId: bigint,
    payload: Uint8Array,
    errorCode: ErrorCode,
    errorMessage: string,
  ): void {
    this.#toPeer(peer, REPLY_FIELD, replyBody(nodeId, requestId, payload, errorCode, errorMessage));
  }

  // The registry slot of the node a frame is sent for: the own node, or an attached handle; -1 if unknown.
  // The registry slot of the sender (`from_handle` 0: the connection's own node), OBSERVER_SENDER for an
  // observer's own messages, or NO_SENDER.
  #sender(rec: RouteOwner, fromHandle: number): number {
    if (fromHandle === 0) return rec.observer ? OBSERVER_SENDER : rec.ownSlot;
    return rec.handles.get(fromHandle) ?? NO_SENDER;
  }

  // `Delivery.from_node_id` of what `from` (a result of #sender) sends.
  #senderId(rec: RouteOwner, from: number): string {
    return from === OBSERVER_SENDER ? rec.nodeId : this.#nodes.id(from);
  }

  // What the authorization hooks get for `from` (a result of #sender).
  #senderInfo(rec: RouteOwner, from: number): NodeInfo {
    if (from !== OBSERVER_SENDER) return this.#info(from);
    const info = this.#o.observerInfo;
    if (info === undefined) throw new Error("observer without observerInfo");
    return info(rec);
  }

  // The connection a node is reachable on now, if any (not while its session waits for a resume).
  #peerOf(slot: number): RoutePeer | undefined {
    const r = this.#nodes;
    const rec = r.owner(slot);
    const session = rec.session;
    if (session === undefined) return undefined;
    const handle = r.handle(slot);
    if (handle !== 0 && rec.handles.get(handle) !== slot) return undefined; // not attached again after a resume
    return session;
  }

  // The connection of a node, or of an observer (§5.7: routable, not a node).
  #connectionOf(nodeId: string): RoutePeer | undefined {
    const slot = this.#nodes.slotOf(nodeId);
    return slot < 0 ? this.#o.observer?.(nodeId) : this.#peerOf(slot);
  }

  // The publish rule (`publishProblem` of @hb/codec); subjects found fine are remembered.
  #publishable(subject: string): Refusal | undefined {
    if (this.#checked.has(subject)) return undefined;
    const problem = publishProblem(subject);
    if (problem !== undefined) return problem;
    if (this.#checked.size >= CHECKED_SUBJECTS) this.#checked.clear();
    this.#checked.add(subject);
    return undefined;
  }

  #info(slot: number): NodeInfo {
    return this.#nodes.info(slot);
  }

  // A FORBIDDEN refusal, counted by kind.
  #forbid(kind: PermissionKind, message: string): Refusal {
    this.#stats.forbidden[kind]++;
    return { code: ErrorCode.FORBIDDEN, message };
  }

  // Runs an authorization hook: anything but `true`, or a throw, refuses.
  #allowed(hook: () => unknown): boolean {
    try {
      return hook() === true;
    } catch (err) {
      this.#stats.listenerErrors++;
      this.#live.current.logger.error({ err }, "an authorization hook threw");
      return false;
    }
  }
}

function replyBody(nodeId: string, requestId: bigint, payload: Uint8Array, errorCode: ErrorCode, errorMessage: string): Uint8Array {
  return toBinary(ReplySchema, create(ReplySchema, { nodeId, requestId, payload, errorCode, errorMessage }));
}
