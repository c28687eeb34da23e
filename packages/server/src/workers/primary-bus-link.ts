import type { BusEnvelope, BusHandlers, BusHealth, BusLink, BusNode, BusPresence } from "../core/ports/bus-link.js";
import { BusUplink, prefixed } from "./bus-uplink.js";
import type { IpcBusHub } from "./ipc-bus-hub.js";

/**
 * A {@link BusLink} for the primary of a multi-process server (the
 * `workerCount` option): it makes the primary's `HeartbeatServer` a
 * bus member without connections of its own, so `count()`, `get()`,
 * `list()`, the node events and `publish` / `send` / `broadcast` work there
 * through the usual bus code paths.
 *
 * - The directory is the {@link IpcBusHub}'s ({@link IpcBusHub.nodes}):
 *   every worker's nodes are "remote" nodes of the primary.
 * - Hub `presence` and `memberLost` events are passed to the handlers
 *   (so a crashed worker's nodes time out with reason `server_lost`).
 * - `send()` goes through {@link IpcBusHub.send} (as member
 *   `hub.options.memberId`); `announce()` does nothing (the primary holds
 *   no nodes).
 * - With an `uplink` (the server's `bus` option: other servers, e.g. over
 *   Redis), the primary joins that bus for the whole server through a
 *   {@link BusUplink}: `start()` starts it, `send()` reaches the other
 *   servers too, health and stats are the uplink's, and their nodes are in
 *   the hub's directory (held by their server ids).
 * - `close()` closes the uplink, then the hub.
 */
export class PrimaryBusLink implements BusLink {
  /** `"ipc"`, or `"ipc+<kind>"` with an uplink (e.g. `"ipc+redis"`). */
  readonly kind: string;
  /** The hub this link reads and sends through. */
  readonly hub: IpcBusHub;
  /** The bridge to the bus beyond the machine, if any. */
  readonly uplink: BusUplink | undefined;
  #handlers: BusHandlers | undefined;
  #closed = false;
  readonly #onPresence = (e: BusPresence): void => this.#handlers?.presence(e);
  readonly #onLost = (memberId: string, nodes: readonly BusNode[]): void => this.#handlers?.memberLost(memberId, nodes);

  /**
   * @param hub - the primary's hub; workers are attached to it by the caller
   * @param uplink - a link to other servers, joined for the whole server
   */
  constructor(hub: IpcBusHub, uplink?: BusLink) {
    this.hub = hub;
    this.uplink = uplink === undefined ? undefined : new BusUplink(hub, uplink);
    this.kind = uplink === undefined ? "ipc" : `ipc+${uplink.kind}`;
  }

  /**
   * Subscribes to the hub's events; with an uplink, joins the other servers'
   * bus as `memberId` first (resolves once their directory is loaded).
   */
  async start(memberId: string, handlers: BusHandlers): Promise<void> {
    if (this.#handlers !== undefined) throw new Error("PrimaryBusLink: start() may be called once");
    this.#handlers = handlers;
    this.hub.on("presence", this.#onPresence);
    this.hub.on("memberLost", this.#onLost);
    await this.uplink?.start(memberId, (envelope, from) => this.#handlers?.deliver(envelope, from));
  }

  /** Relays through {@link IpcBusHub.send}, and to the other servers through the uplink. */
  send(envelope: BusEnvelope, toMember?: string): void {
    const uplink = this.uplink;
    if (uplink === undefined || toMember === undefined || this.hub.isWorker(toMember)) this.hub.send(envelope, toMember);
    if (uplink !== undefined && (toMember === undefined || !this.hub.isWorker(toMember))) uplink.send(envelope, toMember);
  }

  /** Does nothing: the primary holds no nodes. */
  announce(_event: BusPresence): void {}

  /** The worker holding `nodeId`, if any. */
  locate(nodeId: string): string | undefined {
    return this.hub.locate(nodeId);
  }

  /** Every node of every worker. */
  remoteNodes(): ReadonlyMap<string, BusNode> {
    return this.hub.nodes();
  }

  /** `ok` until closed; with an uplink, the uplink's health (`degraded` while it is down). */
  health(): BusHealth {
    if (this.#closed) return { state: "degraded", detail: "closed" };
    return this.uplink?.health() ?? { state: "ok" };
  }

  /** The hub's counters; with an uplink, its link's and its own too. */
  stats(): Record<string, number> {
    const hub = this.hub.stats();
    return this.uplink === undefined ? hub : { ...this.uplink.stats(), ...prefixed("ipc", hub) };
  }

  /** Stops listening to the hub, closes the uplink, then the hub. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.hub.off("presence", this.#onPresence);
    this.hub.off("memberLost", this.#onLost);
    try {
      await this.uplink?.close();
    } finally {
      await this.hub.close();
    }
  }
}
