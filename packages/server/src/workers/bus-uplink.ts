import { SERVER_LOST_REASON } from "../core/ports/node-events.js";
import type { BusEnvelope, BusHandlers, BusHealth, BusLink, BusNode, BusPresence } from "../core/ports/bus-link.js";
import { decodeEnvelope } from "../bus/envelope-codec.js";
import type { IpcBusHub } from "./ipc-bus-hub.js";

/**
 * Joins the workers of a multi-process server (an {@link IpcBusHub} in the
 * primary) to a bus beyond the machine (e.g. a `RedisBus`), as one member:
 * the server's `serverId`. The other servers never see the workers.
 *
 * - **Out**: presence changes of the workers' nodes are announced under the
 *   server's id (a crashed worker's nodes as `timed_out` `server_lost`);
 *   envelopes a worker sends to every member, or to a member that is not a
 *   worker, are relayed over the link.
 * - **In**: envelopes from other servers go to the workers (publish and
 *   broadcast to every worker, direct and reply to the worker holding the
 *   node; one for a node held by no worker to `unrouted`, which answers a
 *   request with `UNKNOWN_NODE`). The other servers' presence, directory
 *   and losses are injected into the hub, so the workers and the primary
 *   see their nodes as remote ones, held by those servers.
 * - After an outage the link re-announces `localNodes()`: the workers'
 *   nodes under the server's id.
 */
export class BusUplink {
  /** The link beyond the machine. */
  readonly link: BusLink;
  readonly #hub: IpcBusHub;
  #serverId = "";
  #unrouted: ((envelope: BusEnvelope, fromMember: string) => void) | undefined;
  #started = false;
  // The server beyond the uplink whose loss is being passed to the hub.
  #injectingLoss: string | undefined;
  readonly #stats = { relayedOut: 0, relayedIn: 0, unrouted: 0, announced: 0, decodeErrors: 0 };

  /**
   * @param hub - the primary's hub
   * @param link - the bus beyond the machine; started by {@link BusUplink.start}
   */
  constructor(hub: IpcBusHub, link: BusLink) {
    this.#hub = hub;
    this.link = link;
  }

  /**
   * Joins the bus as `serverId`, loads the other servers' nodes into the hub
   * (before any worker joins, so each gets them in its welcome), and starts
   * relaying.
   *
   * @param unrouted - gets an envelope for a node no worker holds (the primary's own bus handler)
   */
  async start(serverId: string, unrouted: (envelope: BusEnvelope, fromMember: string) => void): Promise<void> {
    if (this.#started) throw new Error("BusUplink: start() may be called once");
    this.#started = true;
    this.#serverId = serverId;
    this.#unrouted = unrouted;
    const hub = this.#hub;
    hub.setUplink({
      relay: (encoded) => this.#relay(encoded, undefined),
      relayTo: (encoded, toMember) => this.#relay(encoded, toMember),
    });
    hub.on("presence", this.#onPresence);
    hub.on("memberLost", this.#onLost);
    await this.link.start(serverId, this.#handlers);
    const byMember = new Map<string, BusNode[]>();
    for (const node of this.link.remoteNodes().values()) {
      const list = byMember.get(node.memberId);
      if (list === undefined) byMember.set(node.memberId, [node]);
      else list.push(node);
    }
    for (const [memberId, nodes] of byMember) hub.loadMember(memberId, nodes);
  }

  /** Relays a message of the primary itself beyond the machine (to every server, or to `toMember`). */
  send(envelope: BusEnvelope, toMember?: string): void {
    this.#stats.relayedOut++;
    this.link.send(envelope, toMember);
  }

  /** The link's health. */
  health(): BusHealth {
    return this.link.health();
  }

  /** The link's counters, and the uplink's own (prefixed `uplink`). */
  stats(): Record<string, number> {
    return { ...this.link.stats(), ...prefixed("uplink", this.#stats) };
  }

  /** Stops relaying and closes the link (the workers' nodes were announced gone first). */
  async close(): Promise<void> {
    this.#hub.off("presence", this.#onPresence);
    this.#hub.off("memberLost", this.#onLost);
    await this.link.close();
  }

  // A worker's node changed: announced under the server's id. Events of
  // members beyond the uplink (injected, or made up by the hub's directory
  // for them) are not echoed back.
  readonly #onPresence = (e: BusPresence): void => {
    if (!this.#hub.isWorker(e.memberId)) return;
    this.#stats.announced++;
    this.link.announce({ ...e, memberId: this.#serverId });
  };

  // A worker crashed: its nodes are offline for the other servers too.
  // (A server beyond the uplink that is lost is the link's news, not ours.)
  readonly #onLost = (memberId: string, nodes: readonly BusNode[]): void => {
    if (memberId === this.#injectingLoss) return;
    const time = Date.now();
    for (const node of nodes) {
      this.#stats.announced++;
      this.link.announce({
        kind: "timed_out",
        nodeId: node.nodeId,
        labels: node.labels,
        reason: SERVER_LOST_REASON,
        time,
        memberId: this.#serverId,
      });
    }
  };

  #relay(encoded: Buffer, toMember: string | undefined): void {
    let envelope: BusEnvelope;
    try {
      envelope = decodeEnvelope(encoded).envelope;
    } catch {
      this.#stats.decodeErrors++;
      return;
    }
    this.#stats.relayedOut++;
    this.link.send(envelope, toMember);
  }

  readonly #handlers: BusHandlers = {
    deliver: (envelope, fromMember) => {
      this.#stats.relayedIn++;
      const hub = this.#hub;
      if (envelope.type === "publish" || envelope.type === "broadcast") {
        hub.sendAs(envelope, fromMember);
        return;
      }
      const holder = hub.locate(envelope.nodeId);
      if (holder !== undefined && hub.isWorker(holder)) {
        hub.sendAs(envelope, fromMember, holder);
        return;
      }
      this.#stats.unrouted++;
      this.#unrouted?.(envelope, fromMember);
    },
    presence: (event) => this.#hub.injectPresence(event),
    memberLost: (memberId) => {
      this.#injectingLoss = memberId;
      try {
        this.#hub.injectLost(memberId);
      } finally {
        this.#injectingLoss = undefined;
      }
    },
    localNodes: () => this.#localNodes(),
  };

  *#localNodes(): Iterable<BusNode> {
    for (const node of this.#hub.nodes().values()) {
      if (this.#hub.isWorker(node.memberId)) yield { ...node, memberId: this.#serverId };
    }
  }
}

/** `counters` with each key prefixed in camel case: `prefixed("ipc", { sent: 1 })` is `{ ipcSent: 1 }`. */
export function prefixed(prefix: string, counters: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counters)) out[`${prefix}${k.charAt(0).toUpperCase()}${k.slice(1)}`] = v;
  return out;
}
