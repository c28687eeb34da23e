import { randomBytes } from "node:crypto";
import type { ErrorCode } from "@hb/codec";
import { suspectAfter } from "../liveness/negotiate-interval.js";
import type { RoutePeer } from "../routing/route-peer.js";
import type { ConnectionPermissions } from "../auth/connection-permissions.js";

/** What a {@link SessionRecord} holds of its connection (a `Session`). */
export interface SessionConnection extends RoutePeer {
  /** Remote address of the connection. */
  readonly remoteAddress: string;
  /** The session was resumed on another connection: close this one, no presence events. */
  supersede(): void;
  /** A newer connection registered this connection's node id: fatal `DUPLICATE_NODE`, then close. */
  replaced(): void;
  /** Nothing was heard for `heartbeatTimeout`: fatal `HEARTBEAT_TIMEOUT`, then close. */
  timedOut(): void;
  /**
   * Whether input received on the connection waits to be read (held for a
   * later turn of the server's turn slicer): it may hold the proof of life
   * of the connection's nodes.
   */
  readonly holdsInput: boolean;
  /**
   * Sends a non-fatal ProtocolError about attached node `nodeId` (`ref` =
   * its handle, `ref_body` = Attach, PROTOCOL.md §13.2).
   */
  refuse(code: ErrorCode, message: string, handle: number, nodeId: string): void;
  /** Closes at once, dropping pending output. */
  destroy(): void;
}

/**
 * The resumable part of a connection: the node it registered, its attached
 * nodes, the negotiated interval and the session id. It outlives its
 * connection while resume grace runs, and moves to the new connection on a
 * resume. One per Welcome'd connection (never per attached node).
 */
export class SessionRecord {
  /** Random session id, kept across resumes. */
  readonly sessionId = randomBytes(12).toString("base64url");
  /** The connection's own node id. */
  readonly nodeId: string;
  /** Registry slot of the own node; -1 once it is gone. */
  ownSlot = -1;
  // Created on first use: most connections are not gateways (an empty Map and Set cost 520 B per connection,
  // measured with packages/bench/src/heap.mjs).
  #handles: Map<number, number> | undefined;
  #unbound: Set<number> | undefined;
  /** Negotiated heartbeat interval, ms. */
  intervalMs = 0;
  /** 1.5 × intervalMs. */
  suspectAfterMs = 0;
  /** The connection, or `undefined` while lost (resume grace). */
  session: SessionConnection | undefined;
  /** Remote address of the (last) connection. */
  remoteAddress: string;
  /** Running resume-grace timer (also runs on after a resume while nodes are unbound). */
  graceTimer: NodeJS.Timeout | undefined;
  /** Whether the session is lost and waiting for a resume. */
  waiting = false;
  /** Set once the session has ended for good. */
  ended = false;
  /**
   * What the connection may do, set at Welcome and on a renewal
   * (`undefined`: no rules, the server's defaults); its attached nodes
   * live under it too.
   */
  permissions: ConnectionPermissions | undefined;
  /**
   * Whether the connection registered as an observer (PROTOCOL.md §5.7):
   * its id is routable but it has no registry slot (`ownSlot` stays -1), so
   * nothing about it reaches presence, counts or snapshots.
   */
  observer = false;
  /** An observer's last proof of life, monotonic ms (its silent timeout, §5.7; nodes use the registry). */
  lastHeard = 0;
  /** When an observer registered, ms since the epoch (newer wins across the processes of a server, §8.1). */
  claimedAt = 0;
  /** An observer's labels (from its Hello: what the authorization hooks see of it); nodes keep theirs in the registry. */
  observerLabels: Readonly<Record<string, string>> = NO_LABELS;

  constructor(nodeId: string, intervalMs: number, session: SessionConnection) {
    this.nodeId = nodeId;
    this.session = session;
    this.remoteAddress = session.remoteAddress;
    this.setInterval(intervalMs);
  }

  /** Sets the negotiated interval (and the derived suspect delay). */
  setInterval(intervalMs: number): void {
    this.intervalMs = intervalMs;
    this.suspectAfterMs = suspectAfter(intervalMs);
  }

  /**
   * Whether the connection has input the server has not read yet (see
   * {@link SessionConnection.holdsInput}): its nodes are not judged
   * until it is read (`LivenessOwner.inputWaiting`).
   */
  get inputWaiting(): boolean {
    return this.session?.holdsInput === true;
  }

  /** Attached nodes bound to the current connection: gateway handle → registry slot (change with {@link SessionRecord.bind}, …). */
  get handles(): ReadonlyMap<number, number> {
    return this.#handles ?? NO_HANDLES;
  }

  /**
   * Attached nodes whose connection was lost (or taken over by a resume):
   * their handles died with it. They keep their slot until the gateway
   * attaches them again from the resumed session, or they time out.
   */
  get unbound(): ReadonlySet<number> {
    return this.#unbound ?? NO_SLOTS;
  }

  /** Binds gateway handle `handle` to registry slot `slot` (an attached node); it is no longer unbound. */
  bind(handle: number, slot: number): void {
    this.#unbound?.delete(slot);
    (this.#handles ??= new Map()).set(handle, slot);
  }

  /** Forgets the attached node in `slot` (its handle too, when bound to `handle`). */
  forget(handle: number, slot: number): void {
    if (this.#handles?.get(handle) === slot) this.#handles.delete(handle);
    this.#unbound?.delete(slot);
  }

  /** Slots of every node of the session, the own node first; a copy, safe to mutate the session while iterating. */
  slots(): number[] {
    const out: number[] = this.ownSlot >= 0 ? [this.ownSlot] : [];
    for (const slot of this.handles.values()) out.push(slot);
    for (const slot of this.unbound) out.push(slot);
    return out;
  }

  /** Moves every bound attached node to {@link SessionRecord.unbound} (its connection is gone). */
  unbindAll(): void {
    const handles = this.#handles;
    if (handles === undefined || handles.size === 0) return;
    const unbound = (this.#unbound ??= new Set());
    for (const slot of handles.values()) unbound.add(slot);
    this.#handles = undefined;
  }
}

// What an idle connection's record shows: never written to (the writers above allocate their own).
const NO_HANDLES: ReadonlyMap<number, number> = new Map();
const NO_SLOTS: ReadonlySet<number> = new Set();
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});
