import type { ResolvedWill } from "./client-options.js";

/**
 * Where an attached node stands on the current connection:
 * - `unsent`: its Attach is not sent yet (no connection, or before Welcome);
 * - `pending`: Attach sent, no answer yet;
 * - `attached`: the server confirmed it with Attached.
 */
export type GatewayNodeState = "unsent" | "pending" | "attached";

/** The result of a successful {@link HeartbeatClient.attach}. */
export interface AttachedInfo {
  /** The attached node's id. */
  readonly nodeId: string;
  /** Its connection-local handle. */
  readonly handle: number;
}

/** One node registered through this client in gateway mode. */
export interface GatewayNode {
  /** Connection-local handle, ≥ 1, chosen by the client. */
  readonly handle: number;
  /** Node id. */
  readonly nodeId: string;
  /** Labels sent in Attach. */
  readonly labels: Readonly<Record<string, string>>;
  /** Will sent in Attach, if any. */
  readonly will: ResolvedWill | undefined;
  /** Whether batch heartbeats refresh it (see {@link HeartbeatClient.setAttachedAlive}). */
  alive: boolean;
  /** Progress of its Attach on the current connection. */
  state: GatewayNodeState;
  /** Settles the caller's `attach()` promise; cleared after the first answer. */
  waiter: { resolve(info: AttachedInfo): void; reject(error: Error): void } | undefined;
}

/** Body of a BatchHeartbeat frame. */
export interface BatchHeartbeatBody {
  /** Handles to refresh. */
  handles: number[];
  /** True: refresh every attached node (and the connection's own). */
  all: boolean;
}

/**
 * The table of attached nodes of one gateway client: handle allocation,
 * Attach progress, liveness flags and the batch heartbeat body. Pure data,
 * no I/O.
 *
 * Handles start at 1 and grow by one; freed handles are reused, the most
 * recently freed first. A handle whose Attach is still unanswered is not
 * reused until the answer arrives (or the connection ends), so a late
 * Attached or ProtocolError can never be taken for a newer node's.
 *
 * After a reconnect, {@link GatewayNodes.planWelcome} says which frames bring
 * the server in line: every node is attached again.
 */
export class GatewayNodes {
  readonly #byNode = new Map<string, GatewayNode>();
  readonly #byHandle = new Map<number, GatewayNode>();
  readonly #free: number[] = [];
  readonly #awaitingReply = new Set<number>();
  #next = 1;
  #dead = 0;

  /** Number of nodes in the table. */
  get size(): number {
    return this.#byNode.size;
  }

  /** Every node, in the order they were added. */
  nodes(): IterableIterator<GatewayNode> {
    return this.#byNode.values();
  }

  /** The node with this id, if any. */
  get(nodeId: string): GatewayNode | undefined {
    return this.#byNode.get(nodeId);
  }

  /** The node with this handle, if any. */
  byHandle(handle: number): GatewayNode | undefined {
    return this.#byHandle.get(handle);
  }

  /**
   * Adds a node (state `unsent`, alive) with a fresh handle.
   *
   * @throws Error if the node id is already in the table
   */
  add(
    nodeId: string,
    labels: Readonly<Record<string, string>>,
    will: GatewayNode["will"],
    waiter: GatewayNode["waiter"],
  ): GatewayNode {
    if (this.#byNode.has(nodeId)) throw new Error(`node ${JSON.stringify(nodeId)} is already attached`);
    const handle = this.#free.pop() ?? this.#next++;
    const node: GatewayNode = {
      handle,
      nodeId,
      labels,
      will,
      alive: true,
      state: "unsent",
      waiter,
    };
    this.#byNode.set(nodeId, node);
    this.#byHandle.set(handle, node);
    return node;
  }

  /**
   * Removes a node and frees its handle (held back while its Attach is
   * unanswered). Its waiter, if still set, is rejected with `reason`.
   *
   * @returns the removed node, or `undefined` if there was none
   */
  remove(nodeId: string, reason?: Error): GatewayNode | undefined {
    const node = this.#byNode.get(nodeId);
    if (node === undefined) return undefined;
    this.#byNode.delete(nodeId);
    this.#byHandle.delete(node.handle);
    if (!node.alive) this.#dead--;
    if (node.state === "pending") this.#awaitingReply.add(node.handle);
    else this.#free.push(node.handle);
    if (node.waiter !== undefined && reason !== undefined) node.waiter.reject(reason);
    node.waiter = undefined;
    return node;
  }

  /**
   * Removes a node whose Attach the server refused: its handle is free at
   * once (the answer has arrived) and its waiter, if still set, is rejected.
   *
   * @returns whether the node still had a waiter (its `attach()` call was
   *   waiting), i.e. whether the refusal was reported to a caller
   */
  refuse(node: GatewayNode, error: Error): boolean {
    if (this.#byHandle.get(node.handle) !== node) return false;
    node.state = "attached"; // the answer is in: free the handle now
    const hadWaiter = node.waiter !== undefined;
    this.remove(node.nodeId, error);
    return hadWaiter;
  }

  /**
   * Records that the answer to an Attach with this handle arrived for a
   * node that was removed meanwhile; the handle becomes reusable.
   *
   * @returns whether the handle was waiting for that answer
   */
  settleRemoved(handle: number): boolean {
    if (!this.#awaitingReply.delete(handle)) return false;
    this.#free.push(handle);
    return true;
  }

  /** Marks a node confirmed and resolves its waiter. */
  confirm(node: GatewayNode): void {
    node.state = "attached";
    const w = node.waiter;
    node.waiter = undefined;
    w?.resolve({ nodeId: node.nodeId, handle: node.handle });
  }

  /**
   * Sets whether batch heartbeats refresh a node.
   *
   * @returns `false` if there is no such node
   */
  setAlive(nodeId: string, alive: boolean): boolean {
    const node = this.#byNode.get(nodeId);
    if (node === undefined) return false;
    if (node.alive !== alive) this.#dead += alive ? -1 : 1;
    node.alive = alive;
    return true;
  }

  /**
   * The connection is gone: every node goes back to `unsent` and handles
   * awaiting an answer are free again.
   */
  connectionLost(): void {
    for (const node of this.#byNode.values()) {
      node.state = "unsent";
    }
    for (const h of this.#awaitingReply) this.#free.push(h);
    this.#awaitingReply.clear();
  }

  /**
   * What to send after a Welcome so that the server's view matches the table:
   * attach every node again. A resume restores the connection's own node and
   * session but not its handles (docs/PROTOCOL.md §8.2): the server keeps the
   * attached nodes in their resume grace, and an Attach within it reports them
   * `RECOVERED resumed` instead of `JOINED`, so there is no presence noise.
   *
   * The caller sends the frames and calls {@link GatewayNodes.markSent} for
   * each node it attaches.
   */
  planWelcome(): { attach: GatewayNode[] } {
    return { attach: [...this.#byNode.values()] };
  }

  /** Records that an Attach for `node` went out on the current connection. */
  markSent(node: GatewayNode): void {
    node.state = "pending";
  }

  /** Rejects every waiting `attach()` and empties the table. */
  clear(reason: Error): void {
    for (const node of this.#byNode.values()) {
      const w = node.waiter;
      node.waiter = undefined;
      w?.reject(reason);
    }
    this.#byNode.clear();
    this.#byHandle.clear();
    this.#free.length = 0;
    this.#awaitingReply.clear();
    this.#next = 1;
    this.#dead = 0;
  }

  /**
   * The BatchHeartbeat to send this interval: `{ all: true }` when every node
   * is alive, else the handles of the alive ones that were sent (Attach
   * precedes the batch on the wire); `undefined` when there is nothing to
   * refresh. `O(1)` when every node is alive.
   */
  batchHeartbeat(): BatchHeartbeatBody | undefined {
    if (this.#byNode.size === 0) return undefined;
    if (this.#dead === 0) return { handles: [], all: true };
    const handles: number[] = [];
    for (const node of this.#byNode.values()) {
      if (node.alive && node.state !== "unsent") handles.push(node.handle);
    }
    return handles.length === 0 ? undefined : { handles, all: false };
  }
}

