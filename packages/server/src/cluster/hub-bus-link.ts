import type { BusEnvelope, BusHandlers, BusHealth, BusLink, BusNode, BusPresence } from "./bus-link.js";
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
 * - `close()` closes the hub.
 */
export class HubBusLink implements BusLink {
  /** `"ipc"`. */
  readonly kind = "ipc";
  /** The hub this link reads and sends through. */
  readonly hub: IpcBusHub;
  #handlers: BusHandlers | undefined;
  #closed = false;
  readonly #onPresence = (e: BusPresence): void => this.#handlers?.presence(e);
  readonly #onLost = (memberId: string, nodes: readonly BusNode[]): void => this.#handlers?.memberLost(memberId, nodes);

  /** @param hub - the primary's hub; workers are attached to it by the caller */
  constructor(hub: IpcBusHub) {
    this.hub = hub;
  }

  /** Subscribes to the hub's events; resolves at once (the hub's directory is already local). */
  async start(_memberId: string, handlers: BusHandlers): Promise<void> {
    if (this.#handlers !== undefined) throw new Error("HubBusLink: start() may be called once");
    this.#handlers = handlers;
    this.hub.on("presence", this.#onPresence);
    this.hub.on("memberLost", this.#onLost);
  }

  /** Relays through {@link IpcBusHub.send}. */
  send(envelope: BusEnvelope, toMember?: string): void {
    this.hub.send(envelope, toMember);
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

  /** `ok` until closed. */
  health(): BusHealth {
    return this.#closed ? { state: "degraded", detail: "closed" } : { state: "ok" };
  }

  /** The hub's counters. */
  stats(): Record<string, number> {
    return this.hub.stats();
  }

  /** Stops listening to the hub and closes it. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.hub.off("presence", this.#onPresence);
    this.hub.off("memberLost", this.#onLost);
    await this.hub.close();
  }
}
