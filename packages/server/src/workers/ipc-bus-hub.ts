import { EventEmitter } from "node:events";
import { BusDirectory } from "../bus/bus-directory.js";
import type { BusEnvelope, BusNode, BusPresence } from "../core/ports/bus-link.js";
import { decodeEnvelope, encodeEnvelope } from "../bus/envelope-codec.js";
import { readIpcPayload } from "./ipc-batch-reader.js";
import { IpcBatchWriter } from "./ipc-batch-writer.js";
import {
  type IpcBusMessage,
  type IpcSerialization,
  detectSerialization,
  isIpcBusMessage,
  toIpcPayload,
} from "./ipc-bus-message.js";
import { type IpcBusHubOptions, type ResolvedIpcBusHubOptions, resolveIpcBusHubOptions } from "./ipc-bus-options.js";
import { IpcFrame, decodeMemberSnapshot, encodeFrameString, encodeMemberSnapshot, readEnvelopeTo } from "./ipc-frame.js";
import type { IpcPort } from "./ipc-port.js";
import { decodePresenceMessage, encodePresenceMessage } from "../bus/presence-codec.js";

/**
 * Events of {@link IpcBusHub}, for its typed `on` / `once`. Listeners run
 * synchronously while the hub handles a worker's message; one that throws
 * is counted in `stats().handlerErrors` (the listeners after it miss that
 * event) and never breaks the relay.
 */
export interface IpcBusHubEvents {
  /** A worker joined the bus as `memberId` (its nodes follow as `presence` events). */
  memberJoined: [memberId: string];
  /**
   * A node changed, anywhere on the bus (already applied to
   * {@link IpcBusHub.nodes}). Same rules as {@link BusHandlers.presence}: a
   * takeover comes as the old holder's `left` (reason `replaced`) then the
   * `joined`.
   */
  presence: [event: BusPresence];
  /**
   * A worker is gone: it crashed or was killed (its channel closed), or it
   * left cleanly (`bye`). `nodes` are those of its nodes now offline (empty
   * after a clean leave, where they were announced gone first). Once per
   * join.
   */
  memberLost: [memberId: string, nodes: readonly BusNode[]];
}

/**
 * Where an {@link IpcBusHub} passes what its workers send beyond the
 * machine (a {@link BusUplink}): envelopes for every member, and those for
 * a member that is not one of its workers.
 */
export interface UplinkPort {
  /** An encoded envelope (with its sender) a worker sent to every member. */
  relay(encoded: Buffer): void;
  /** An encoded envelope a worker sent to `toMember`, which is not a worker of this hub. */
  relayTo(encoded: Buffer, toMember: string): void;
}

// One attached channel.
interface Peer {
  readonly port: IpcPort;
  member: string;
  mode: IpcSerialization;
  state: "attached" | "joined" | "gone";
  readonly out: IpcBatchWriter;
  // Bytes handed to the channel, not yet written.
  backlog: number;
  readonly onMessage: (message: unknown) => void;
  readonly onGone: () => void;
}

const EMPTY = Buffer.alloc(0);
const READY: IpcBusMessage = { hbBus: 1, t: "ready" };

/**
 * The primary's side of the IPC bus: the worker processes of one server
 * (`node:cluster` workers or `child_process.fork()` children) join it as
 * members, each through an {@link IpcBusLink} over its IPC channel, and it
 * relays between them. No external service: everything goes worker →
 * primary → worker.
 *
 * - **Messages**: an envelope for every member goes to every other joined
 *   worker, one for a member (`toMember`) to that worker only (dropped and
 *   counted in `undeliverable` when it is not joined). The hub forwards
 *   frames byte for byte, never decoding an envelope.
 * - **Directory**: the hub applies every worker's presence changes and
 *   node-set snapshots to a {@link BusDirectory}, so {@link IpcBusHub.nodes}
 *   is the whole server's node set, and emits them as `presence` events;
 *   it forwards them to the other workers, which keep their own replica.
 * - **Observers** (PROTOCOL.md §5.7): a worker's OBSERVER claims and
 *   releases are kept apart from the directory (never presence) and
 *   forwarded to the other workers; a message resolved by the hub reaches
 *   an observer's worker like a node's.
 * - **Join**: a worker's `hello` is answered with the current directory
 *   (every joined member's node set), then the live changes follow on the
 *   same ordered channel; its own node set follows from it.
 * - **Loss**: when a worker's channel closes (`disconnect` or `exit`, e.g.
 *   a crash or `kill -9`) or it says `bye`, its nodes are removed, the hub
 *   emits `memberLost` with those that went offline, and every other worker
 *   gets one LOST frame, so its link calls `memberLost` once.
 * - **Batching**: what is queued for a worker during one event-loop turn
 *   goes out as one IPC message (see {@link IpcBusOptions.batching}); a
 *   worker that reads too slowly has relayed messages dropped beyond
 *   `maxBacklogBytes`, never presence.
 *
 * ```ts
 * const hub = new IpcBusHub();
 * hub.on("presence", (e) => console.log(e.kind, e.nodeId, "on", e.memberId));
 * const worker = cluster.fork(); // cluster.setupPrimary({ serialization: "advanced" }) first
 * hub.attach(worker);
 * ```
 */
// Why one file of ~560 lines: the hub is one relay loop over its workers'
// channels (join, batches in and out, loss, the uplink, the directory that is
// the authority for node ids, the SYNC barrier), all on the same per-peer
// state; the frames are in ipc-frame.ts, batching in ipc-batch-writer.ts /
// ipc-batch-reader.ts, the options in ipc-bus-options.ts. About 40 % of it is TSDoc.
export class IpcBusHub extends EventEmitter<IpcBusHubEvents> {
  /** The options in force (defaults applied). */
  readonly options: ResolvedIpcBusHubOptions;
  readonly #peers = new Map<IpcPort, Peer>();
  // Joined workers by member id, in join order.
  readonly #members = new Map<string, Peer>();
  readonly #dir = new BusDirectory("");
  // Observers (PROTOCOL.md §5.7) by id → the worker holding them: resolved like nodes, never in the directory.
  readonly #observers = new Map<string, string>();
  readonly #selfBytes: Buffer;
  readonly #dirty = new Set<Peer>();
  #flushQueued = false;
  // Workers owed a SYNC answer (queued in their batch), written after everything queued for the others.
  readonly #answering = new Set<Peer>();
  #answerQueued = false;
  #closed = false;
  #uplink: UplinkPort | undefined;
  #seq = 0;
  readonly #stats = {
    relayedIn: 0,
    relayedOut: 0,
    relayedUp: 0,
    injected: 0,
    sent: 0,
    dropped: 0,
    undeliverable: 0,
    resolved: 0,
    unresolved: 0,
    syncs: 0,
    presenceIn: 0,
    membersJoined: 0,
    membersLost: 0,
    refused: 0,
    batchesIn: 0,
    batchesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    decodeErrors: 0,
    protocolErrors: 0,
    sendErrors: 0,
    handlerErrors: 0,
  };

  /** @throws TypeError / RangeError for invalid options (see {@link resolveIpcBusHubOptions}) */
  constructor(options: IpcBusHubOptions = {}) {
    super();
    this.options = resolveIpcBusHubOptions(options);
    this.#selfBytes = Buffer.from(this.options.memberId, "utf8");
  }

  /**
   * Starts serving a worker's channel: listens for its `hello`, its
   * batches, and for `disconnect` / `exit` (then the worker is lost). Sends
   * `ready`, so a worker whose `hello` came before this call says it again.
   * Attach right after forking; attaching the same port twice does nothing.
   *
   * @throws Error after {@link IpcBusHub.close}
   */
  attach(port: IpcPort): void {
    if (this.#closed) throw new Error("IpcBusHub is closed");
    if (this.#peers.has(port)) return;
    const peer: Peer = {
      port,
      member: "",
      mode: "json",
      state: "attached",
      out: new IpcBatchWriter(),
      backlog: 0,
      onMessage: (message) => this.#onMessage(peer, message),
      onGone: () => this.#lose(peer),
    };
    this.#peers.set(port, peer);
    port.on("message", peer.onMessage);
    port.on("disconnect", peer.onGone);
    port.on("exit", peer.onGone);
    this.#post(peer, READY, 0);
  }

  /** Ids of the joined workers, in join order. */
  members(): string[] {
    return [...this.#members.keys()];
  }

  /** The serialization detected on a joined worker's channel. */
  serialization(memberId: string): IpcSerialization | undefined {
    return this.#members.get(memberId)?.mode;
  }

  /** Every node on the bus (node id → its holder's entry): what the primary answers count/get/list from. */
  nodes(): ReadonlyMap<string, BusNode> {
    return this.#dir.view;
  }

  /** The worker holding node (or observer, PROTOCOL.md §5.7) `nodeId`, if any. */
  locate(nodeId: string): string | undefined {
    return this.#dir.locate(nodeId) ?? (this.#observers.size === 0 ? undefined : this.#observers.get(nodeId));
  }

  /** What a worker announced it holds (its own account). */
  memberNodes(memberId: string): ReadonlyMap<string, BusNode> {
    return this.#dir.memberNodes(memberId);
  }

  /**
   * Sends a message from the primary itself (from member
   * `options.memberId`): to every joined worker, or to `toMember` only.
   * Never blocks; dropped and counted when closed, when `toMember` is not
   * joined (`undeliverable`) or over a worker's backlog (`dropped`).
   */
  send(envelope: BusEnvelope, toMember?: string): void {
    this.sendAs(envelope, this.#selfBytes, toMember);
  }

  /**
   * {@link IpcBusHub.send} on behalf of another member (`fromMember`, e.g. a
   * server on the far side of the uplink, which the workers answer to).
   */
  sendAs(envelope: BusEnvelope, fromMember: string | Uint8Array, toMember?: string): void {
    if (this.#closed) {
      this.#stats.dropped++;
      return;
    }
    this.#stats.sent++;
    const encoded = encodeEnvelope(envelope, fromMember);
    if (toMember === undefined) {
      for (const p of this.#members.values()) this.#relay(p, encoded);
      return;
    }
    const target = this.#members.get(toMember);
    if (target === undefined) this.#stats.undeliverable++;
    else this.#relay(target, encoded);
  }

  /** Whether `memberId` is one of this hub's joined workers. */
  isWorker(memberId: string): boolean {
    return this.#members.has(memberId);
  }

  /**
   * Connects the hub to the rest of a bus beyond this machine: envelopes
   * the workers send to every member, or to a member that is not a worker,
   * go to `uplink` too. Members beyond it are made known with
   * {@link IpcBusHub.loadMember}, {@link IpcBusHub.injectPresence} and
   * {@link IpcBusHub.injectLost}.
   */
  setUplink(uplink: UplinkPort): void {
    this.#uplink = uplink;
  }

  /**
   * Loads the node set of a member beyond the uplink (at start, before
   * workers join: no events) and passes it to the joined workers.
   */
  loadMember(memberId: string, nodes: Iterable<BusNode>): void {
    if (this.#closed || this.#members.has(memberId)) return;
    const list = [...nodes];
    this.#dir.replace(memberId, list, undefined, Date.now(), undefined);
    this.#forward(undefined, IpcFrame.MEMBER, encodeMemberSnapshot(memberId, list));
  }

  /**
   * A presence change of a member beyond the uplink: applied to the
   * directory (emitted as `presence`) and passed to every worker.
   */
  injectPresence(event: BusPresence): void {
    if (this.#closed || this.#members.has(event.memberId)) return;
    this.#stats.injected++;
    this.#forward(undefined, IpcFrame.PRESENCE, encodePresenceMessage({ type: "event", seq: ++this.#seq, event }));
    const out: BusPresence[] = [];
    this.#dir.apply(event, out);
    for (const e of out) this.#emitSafe("presence", e);
  }

  /** A member beyond the uplink is gone: its nodes are removed (emitted as `memberLost`), every worker is told. */
  injectLost(memberId: string): void {
    if (this.#closed || this.#members.has(memberId) || !this.#dir.hasMember(memberId)) return;
    const nodes = this.#dir.removeMember(memberId);
    this.#forward(undefined, IpcFrame.LOST, encodeFrameString(memberId));
    this.#emitSafe("memberLost", memberId, nodes);
  }

  /** Sends what is queued for every worker now, instead of at the end of the event-loop turn. */
  flush(): void {
    // Barrier answers last: what a SYNC answers for is written to every other worker first.
    for (const p of this.#dirty) if (!this.#answering.has(p)) this.#flushPeer(p);
    for (const p of this.#answering) if (this.#dirty.has(p)) this.#flushPeer(p);
    this.#dirty.clear();
    this.#answering.clear();
  }

  /** Counters: relayed in/out, dropped, presence, members joined/lost, batches and bytes in/out, errors; `nodes` and `members` gauges. */
  stats(): Record<string, number> {
    return { ...this.#stats, nodes: this.#dir.view.size, members: this.#members.size };
  }

  /**
   * Stops: sends what is queued, then stops listening on every channel.
   * Workers are not told (their links notice only when their channel
   * closes): drain them first (see the integration notes in
   * {@link IpcBusLink}). The directory stays readable. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    for (const peer of this.#peers.values()) this.#detach(peer);
    this.#peers.clear();
  }

  #onMessage(peer: Peer, message: unknown): void {
    if (this.#closed || peer.state === "gone" || !isIpcBusMessage(message)) return;
    switch (message.t) {
      case "hello":
        this.#hello(peer, message.member, message.probe);
        return;
      case "batch":
        if (peer.state === "joined") this.#batch(peer, message.d);
        else this.#stats.protocolErrors++;
        return;
      case "bye":
        this.#leave(peer);
        return;
      default:
        this.#stats.protocolErrors++;
    }
  }

  #hello(peer: Peer, member: unknown, probe: unknown): void {
    // A repeated hello (the worker saw `ready` before `welcome`) changes nothing.
    if (peer.state === "joined") return;
    if (typeof member !== "string" || member.length === 0 || member.length > 128) {
      this.#refuse(peer, "member id must be a string of 1..128 characters");
      return;
    }
    if (member === this.options.memberId || this.#members.has(member)) {
      this.#refuse(peer, `member "${member}" is already on the bus`);
      return;
    }
    peer.mode = detectSerialization(probe);
    peer.member = member;
    peer.state = "joined";
    // Everything applied so far is in the snapshot; what comes after is
    // queued for this worker behind the welcome on the same channel.
    const snapshot = new IpcBatchWriter();
    // Every member: the other workers, and those beyond the uplink.
    for (const m of this.#dir.members()) {
      snapshot.frame(IpcFrame.MEMBER, encodeMemberSnapshot(m, this.#dir.memberNodes(m).values()));
    }
    this.#members.set(member, peer);
    this.#post(peer, { hbBus: 1, t: "welcome", mode: peer.mode, d: toIpcPayload(snapshot.take() ?? EMPTY, peer.mode) }, 0);
    this.#stats.membersJoined++;
    this.#emitSafe("memberJoined", member);
  }

  #refuse(peer: Peer, reason: string): void {
    this.#stats.refused++;
    this.#post(peer, { hbBus: 1, t: "refused", reason }, 0);
  }

  #batch(peer: Peer, payload: unknown): void {
    readIpcPayload(payload, this.#stats, (kind, body) => {
      // A listener may have closed the hub, or a bye/exit may not have come yet: check per frame.
      if (peer.state !== "joined" || this.#closed) return;
      try {
        this.#frame(peer, kind, body);
      } catch {
        this.#stats.decodeErrors++;
      }
    });
  }

  #frame(peer: Peer, kind: number, body: Buffer): void {
    const from = peer.member;
    switch (kind) {
      case IpcFrame.ENVELOPE:
        this.#stats.relayedIn++;
        for (const p of this.#members.values()) if (p !== peer) this.#relay(p, body);
        if (this.#uplink !== undefined) {
          this.#stats.relayedUp++;
          this.#uplink.relay(body);
        }
        return;
      case IpcFrame.ENVELOPE_TO: {
        const { toMember, envelopeAt } = readEnvelopeTo(body);
        this.#stats.relayedIn++;
        if (toMember === "") {
          this.#resolve(peer, body.subarray(envelopeAt));
          return;
        }
        const target = this.#members.get(toMember);
        if (target === undefined && this.#uplink !== undefined) {
          this.#stats.relayedUp++;
          this.#uplink.relayTo(body.subarray(envelopeAt), toMember);
        } else if (target === undefined || target === peer) this.#stats.undeliverable++;
        else this.#relay(target, body.subarray(envelopeAt));
        return;
      }
      case IpcFrame.PRESENCE: {
        const message = decodePresenceMessage(body);
        if (message.type !== "event" || message.event.memberId !== from) {
          this.#stats.protocolErrors++;
          return;
        }
        this.#stats.presenceIn++;
        this.#forward(peer, kind, body);
        const out: BusPresence[] = [];
        this.#dir.apply(message.event, out);
        for (const e of out) this.#emitSafe("presence", e);
        return;
      }
      case IpcFrame.OBSERVER: {
        const message = decodePresenceMessage(body);
        if (message.type !== "event" || message.event.memberId !== from) {
          this.#stats.protocolErrors++;
          return;
        }
        const { nodeId, kind: change } = message.event;
        if (change === "joined") this.#observers.set(nodeId, from);
        else if (this.#observers.get(nodeId) === from) this.#observers.delete(nodeId);
        this.#forward(peer, kind, body);
        return;
      }
      case IpcFrame.SYNC:
        // Everything this worker sent before is applied and queued for the
        // others: send it all once the messages read with this one are
        // applied too, the answers last (PROTOCOL.md §5.3).
        this.#stats.syncs++;
        peer.out.frame(IpcFrame.SYNC, EMPTY);
        this.#queued(peer);
        this.#answerSoon(peer);
        return;
      case IpcFrame.MEMBER: {
        const snapshot = decodeMemberSnapshot(body);
        if (snapshot.memberId !== from) {
          this.#stats.protocolErrors++;
          return;
        }
        this.#forward(peer, kind, body);
        const out: BusPresence[] = [];
        this.#dir.replace(from, snapshot.nodes, undefined, Date.now(), out);
        for (const e of out) this.#emitSafe("presence", e);
        return;
      }
      default:
        this.#stats.protocolErrors++;
    }
  }

  // A direct message or reply for a node the sending worker does not know:
  // to the holder in this directory (the authority for the server's node
  // ids), else back to the sender as UNRESOLVED (never dropped).
  #resolve(peer: Peer, envelope: Buffer): void {
    const decoded = decodeEnvelope(envelope).envelope;
    const nodeId = decoded.type === "direct" || decoded.type === "reply" ? decoded.nodeId : "";
    const holder = nodeId === "" ? undefined : this.locate(nodeId);
    const target = holder === undefined ? undefined : this.#members.get(holder);
    if (target !== undefined) {
      this.#stats.resolved++;
      this.#relay(target, envelope);
      return;
    }
    if (holder !== undefined && this.#uplink !== undefined) {
      this.#stats.resolved++;
      this.#stats.relayedUp++;
      this.#uplink.relayTo(envelope, holder);
      return;
    }
    this.#stats.unresolved++;
    peer.out.frame(IpcFrame.UNRESOLVED, envelope);
    this.#queued(peer);
  }

  // A worker left cleanly (bye): it may join again on the same channel.
  #leave(peer: Peer): void {
    if (peer.state !== "joined") return;
    peer.state = "attached";
    this.#drop(peer);
  }

  // A worker's channel closed: it is gone for good.
  #lose(peer: Peer): void {
    if (peer.state === "gone") return;
    const joined = peer.state === "joined";
    peer.state = "gone";
    this.#detach(peer);
    this.#peers.delete(peer.port);
    if (joined) this.#drop(peer);
  }

  // Removes a member and tells everyone, once.
  #drop(peer: Peer): void {
    const member = peer.member;
    this.#members.delete(member);
    this.#dirty.delete(peer);
    this.#answering.delete(peer);
    peer.out.take();
    const nodes = this.#dir.removeMember(member);
    for (const [id, holder] of this.#observers) if (holder === member) this.#observers.delete(id);
    this.#forward(undefined, IpcFrame.LOST, encodeFrameString(member));
    this.#stats.membersLost++;
    this.#emitSafe("memberLost", member, nodes);
  }

  // Presence, membership and loss frames: to every member but `from` (none for one from beyond the uplink), never dropped.
  #forward(from: Peer | undefined, kind: number, body: Uint8Array): void {
    for (const p of this.#members.values()) {
      if (p === from) continue;
      p.out.frame(kind, body);
      this.#queued(p);
    }
  }

  // A relayed message (an encoded envelope), as an ENVELOPE frame.
  #relay(peer: Peer, envelope: Uint8Array): void {
    if (peer.backlog > this.options.maxBacklogBytes) {
      this.#stats.dropped++;
      return;
    }
    peer.out.frame(IpcFrame.ENVELOPE, envelope);
    this.#stats.relayedOut++;
    this.#queued(peer);
  }

  #queued(peer: Peer): void {
    if (!this.options.batching || peer.out.bytes >= this.options.maxBatchBytes) {
      this.#dirty.delete(peer);
      this.#flushPeer(peer);
      return;
    }
    this.#dirty.add(peer);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    setImmediate(this.#flushTask);
  }

  readonly #flushTask = (): void => {
    this.#flushQueued = false;
    this.flush();
  };

  // Flushes once every message read in this turn is applied (a microtask: the channel emits each message read
  // in one go from its own tick), not once per SYNC frame. A worker's batch holds a SYNC per Hello it handled;
  // one flush per SYNC sent (SYNCs × workers) IPC messages: 98 % of the primary's relay CPU in bench:scale at 100,000.
  #answerSoon(peer: Peer): void {
    this.#answering.add(peer);
    if (this.#answerQueued) return;
    this.#answerQueued = true;
    queueMicrotask(this.#answerTask);
  }

  readonly #answerTask = (): void => {
    this.#answerQueued = false;
    if (this.#answering.size > 0) this.flush();
  };

  #flushPeer(peer: Peer): void {
    const batch = peer.out.take();
    if (batch === undefined || peer.state !== "joined") return;
    const payload = toIpcPayload(batch, peer.mode);
    const size = typeof payload === "string" ? payload.length : batch.length;
    peer.backlog += size;
    this.#stats.batchesOut++;
    this.#stats.bytesOut += size;
    this.#post(peer, { hbBus: 1, t: "batch", d: payload }, size);
  }

  #post(peer: Peer, message: IpcBusMessage, size: number): void {
    const done = (err: Error | null): void => {
      peer.backlog -= size;
      if (err) this.#stats.sendErrors++;
    };
    try {
      peer.port.send(message, done);
    } catch {
      // A channel closed under us: its disconnect / exit comes next.
      done(new Error("send failed"));
    }
  }

  #detach(peer: Peer): void {
    peer.port.off("message", peer.onMessage);
    peer.port.off("disconnect", peer.onGone);
    peer.port.off("exit", peer.onGone);
  }

  #emitSafe<K extends keyof IpcBusHubEvents>(event: K, ...args: IpcBusHubEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: IpcBusHubEvents[K]) => boolean)(event, ...args);
    } catch {
      this.#stats.handlerErrors++;
    }
  }
}
