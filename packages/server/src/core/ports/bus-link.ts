/**
 * The link between the parts of one hb bus: worker processes of one server
 * (through the primary), or servers on different hosts (through Redis). The
 * routing core talks to this interface only, so an in-process, an IPC and a
 * Redis link (and later a NATS one) are interchangeable.
 *
 * What crosses a link is already encoded: a relayed message carries the
 * encoded Delivery (or Reply) body, so the receiving side only matches and
 * enqueues, never decodes and re-encodes.
 */

/**
 * Reason of the presence events a link makes up when it resynchronises
 * after an outage and its peer's own event for a change is lost (PROTOCOL.md
 * §7.1: receivers accept reasons they do not know). A node that disappeared
 * meanwhile is reported `timed_out` with this reason, one that appeared
 * `joined`, a state change `suspect` / `recovered`.
 */
export const RESYNC_REASON = "resync";

/** A node as the rest of the bus sees it. */
export interface BusNode {
  /** Node id. */
  nodeId: string;
  /** Its labels. */
  labels: Readonly<Record<string, string>>;
  /** `online` or `suspect`; offline nodes are not in the directory. */
  state: "online" | "suspect";
  /** The bus member (server or worker) whose connection holds it. */
  memberId: string;
}

/** A presence change of a node, as announced on the bus. */
export interface BusPresence {
  /** What happened (`updated`: its labels changed while it stayed online, PROTOCOL.md §7.5). */
  kind: "joined" | "left" | "suspect" | "timed_out" | "recovered" | "updated";
  /** The node. */
  nodeId: string;
  /** Its labels. */
  labels: Readonly<Record<string, string>>;
  /**
   * With `updated`, or `recovered` on a resume with other labels: the
   * labels before the change (each member filters its own presence
   * subscriptions on both, §7.5).
   */
  previousLabels?: Readonly<Record<string, string>>;
  /** Machine-readable reason (PROTOCOL.md §7.1). */
  reason: string;
  /** When the owning member observed it, ms since the Unix epoch. */
  time: number;
  /** The member that observed it (and holds or held the node). */
  memberId: string;
}

/** A message relayed to other members, encoded once by the member it entered at. */
export type BusEnvelope =
  /** A publish: every member delivers `body` (an encoded Delivery) to its local subscribers of `subject`. */
  | {
      /** `"publish"`. */
      type: "publish";
      /** The concrete subject published to. */
      subject: string;
      /** The encoded Delivery. */
      body: Uint8Array;
    }
  /** A direct message for one node: the member holding `nodeId` delivers `body` (an encoded Delivery). */
  | {
      /** `"direct"`. */
      type: "direct";
      /** The target node. */
      nodeId: string;
      /** The encoded Delivery. */
      body: Uint8Array;
    }
  /** A broadcast: every member delivers `body` to every local connection except `exceptNodeId`'s. */
  | {
      /** `"broadcast"`. */
      type: "broadcast";
      /** The encoded Delivery. */
      body: Uint8Array;
      /** The node that must not receive it (the sender), if any. */
      exceptNodeId?: string;
    }
  /** A reply for the requester `nodeId`: its member delivers `body` (an encoded Reply). */
  | {
      /** `"reply"`. */
      type: "reply";
      /** The requester. */
      nodeId: string;
      /** The encoded Reply. */
      body: Uint8Array;
    };

/**
 * What a link calls back into its member. Called synchronously, never
 * before `start()` is called nor after `close()`; must not throw (a throw is
 * caught and counted in `stats().handlerErrors`).
 */
export interface BusHandlers {
  /**
   * A message from another member, to route to local connections only.
   * `envelope.body` may be shared with other receivers: read it, never
   * write to it.
   */
  deliver(envelope: BusEnvelope, fromMember: string): void;
  /**
   * A remote node changed (already applied to the link's directory). Per
   * node, events follow PROTOCOL.md §7.1's order. A takeover (a `joined`
   * from a member while another holds the node, §8.1) comes as the old
   * holder's `left` (reason `replaced`) then the `joined`; the old holder's
   * own late `left replaced` is not passed on. Changes a link missed while
   * it (or the holder) was cut off are reported when both are back, as
   * differences: with the holder's own kind and reason when it kept them,
   * else with reason `resync` (`RESYNC_REASON`). A member
   * that holds a node passed here as `joined` itself should replace its own
   * registration if the remote one is newer (compare `time`, then
   * `memberId`), and announce that `left replaced`.
   */
  presence(event: BusPresence): void;
  /**
   * A whole member is gone (lease expired, worker crashed, or it closed its
   * link): `nodes` are those of its nodes that were removed from the
   * directory and are now offline (empty after a clean close, where its
   * nodes were announced gone first). Called once per member and lifetime:
   * a member that comes back (it was only cut off) is announced again
   * through `presence` events (`joined`), and may be lost again later.
   */
  memberLost(memberId: string, nodes: readonly BusNode[]): void;
  /** The nodes this member holds now, for a full re-announce after the link comes back. */
  localNodes(): Iterable<BusNode>;
  /**
   * A direct message or reply passed to {@link BusLink.resolve} whose node
   * no member holds: the member answers its sender as for a local unknown
   * node (PROTOCOL.md §10.6). Only links with `resolve` call it.
   */
  unresolved?(envelope: BusEnvelope): void;
  /**
   * Another member holds an observer's id from `time` on (`held`), or no
   * longer (PROTOCOL.md §5.7): a member holding the id itself lets go when
   * that claim is newer (§8.1). Only links with {@link BusLink.observer}
   * call it.
   */
  observer?(nodeId: string, memberId: string, held: boolean, time: number): void;
}

/** Health of a link. */
export interface BusHealth {
  /** `ok`, or `degraded` while the link is down: local traffic goes on. */
  state: "ok" | "degraded";
  /** Why it is degraded. */
  detail?: string;
}

/** A link between the members of one bus. */
export interface BusLink {
  /** `"memory"`, `"ipc"`, `"redis"`, … for logs and stats. */
  readonly kind: string;
  /**
   * Joins the bus as `memberId` (unique on the bus) and announces
   * `handlers.localNodes()`; resolves once the remote directory is loaded.
   * The initial load is silent (no `presence` calls): read
   * {@link BusLink.remoteNodes} afterwards.
   */
  start(memberId: string, handlers: BusHandlers): Promise<void>;
  /**
   * Relays a message to the other members (to one member when `toMember` is
   * given, e.g. the holder of a direct message's target; never this member
   * itself). Never blocks; a message that cannot be relayed while degraded
   * is dropped and counted. At most once: a receiver that is cut off at
   * that moment does not get it.
   */
  send(envelope: BusEnvelope, toMember?: string): void;
  /**
   * Announces a presence change of a local node (`event.memberId` is this
   * member). Never blocks and never loses state: while degraded the last
   * change per node is kept and the whole local node set is re-announced
   * when the link is back.
   */
  announce(event: BusPresence): void;
  /** The member holding a remote node, if any (from the replicated directory). */
  locate(nodeId: string): string | undefined;
  /**
   * Optional, for links with an authority for node ids (the primary of a
   * multi-process server): relays a direct message or reply for a node this
   * member does not know (not held here, not in the replica) to whoever
   * holds it by the authority's directory, which may know it before the
   * replica does; {@link BusHandlers.unresolved} gets it back when nobody
   * does. Order with {@link BusLink.send} is kept.
   */
  resolve?(envelope: BusEnvelope & { type: "direct" | "reply" }): void;
  /**
   * Optional, for links with an authority: calls `done` once the authority
   * has applied everything this member announced before, and has passed it
   * on to every other member (a barrier: the server writes a Welcome after
   * it, PROTOCOL.md §5.3). Called at once (synchronously or not) when the
   * link is down or closed.
   */
  sync?(done: () => void): void;
  /**
   * Optional, for links with an authority: this member holds an observer's
   * id from `time` (ms since the epoch) on (`held`), or no longer
   * (PROTOCOL.md §5.7). An observer is not a node: no presence, not in
   * {@link BusLink.remoteNodes}; the authority resolves direct messages and
   * replies to it ({@link BusLink.resolve}), and the other members are told
   * ({@link BusHandlers.observer}). Without it, observers are reachable on
   * their own member only.
   */
  observer?(nodeId: string, held: boolean, time: number): void;
  /** Remote nodes: the directory replicated from the other members. */
  remoteNodes(): ReadonlyMap<string, BusNode>;
  /** Current health. */
  health(): BusHealth;
  /** Counters for stats: relayed in/out, dropped, store operations. */
  stats(): Record<string, number>;
  /** Leaves the bus (local nodes are announced gone by the caller first). */
  close(): Promise<void>;
}
