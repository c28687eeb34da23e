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
  /** What happened. */
  kind: "joined" | "left" | "suspect" | "timed_out" | "recovered";
  /** The node. */
  nodeId: string;
  /** Its labels. */
  labels: Readonly<Record<string, string>>;
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
  | { type: "publish"; subject: string; body: Uint8Array }
  /** A direct message for one node: the member holding `nodeId` delivers `body` (an encoded Delivery). */
  | { type: "direct"; nodeId: string; body: Uint8Array }
  /** A broadcast: every member delivers `body` to every local connection except `exceptNodeId`'s. */
  | { type: "broadcast"; body: Uint8Array; exceptNodeId?: string }
  /** A reply for the requester `nodeId`: its member delivers `body` (an encoded Reply). */
  | { type: "reply"; nodeId: string; body: Uint8Array };

/** What a link calls back into its member. Called synchronously; must not throw. */
export interface BusHandlers {
  /** A message from another member, to route to local connections only. */
  deliver(envelope: BusEnvelope, fromMember: string): void;
  /** A remote node changed (already applied to the link's directory). */
  presence(event: BusPresence): void;
  /**
   * A whole member is gone (lease expired, worker crashed): its nodes were
   * removed from the directory and are offline. Called once per member.
   */
  memberLost(memberId: string, nodes: readonly BusNode[]): void;
  /** The nodes this member holds now, for a full re-announce after the link comes back. */
  localNodes(): Iterable<BusNode>;
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
  /** Joins the bus as `memberId`; resolves once the remote directory is loaded. */
  start(memberId: string, handlers: BusHandlers): Promise<void>;
  /**
   * Relays a message to the other members (to one member when `toMember` is
   * given, e.g. the holder of a direct message's target). Never blocks; a
   * message that cannot be relayed while degraded is dropped and counted.
   */
  send(envelope: BusEnvelope, toMember?: string): void;
  /** Announces a presence change of a local node. */
  announce(event: BusPresence): void;
  /** The member holding a remote node, if any (from the replicated directory). */
  locate(nodeId: string): string | undefined;
  /** Remote nodes: the directory replicated from the other members. */
  remoteNodes(): ReadonlyMap<string, BusNode>;
  /** Current health. */
  health(): BusHealth;
  /** Counters for stats: relayed in/out, dropped, store operations. */
  stats(): Record<string, number>;
  /** Leaves the bus (local nodes are announced gone by the caller first). */
  close(): Promise<void>;
}
