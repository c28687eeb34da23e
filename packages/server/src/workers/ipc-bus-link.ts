import { BusDirectory } from "../bus/bus-directory.js";
import { callHandler, emitPresence } from "../bus/handler-calls.js";
import type { BusEnvelope, BusHandlers, BusHealth, BusLink, BusNode, BusPresence } from "../core/ports/bus-link.js";
import { decodeEnvelope, encodeEnvelope } from "../bus/envelope-codec.js";
import { readIpcBatch, readIpcPayload } from "./ipc-batch-reader.js";
import { IpcBatchWriter } from "./ipc-batch-writer.js";
import {
  type IpcBusMessage,
  type IpcSerialization,
  fromIpcPayload,
  isIpcBusMessage,
  serializationProbe,
  toIpcPayload,
} from "./ipc-bus-message.js";
import { type IpcBusLinkOptions, type ResolvedIpcBusLinkOptions, resolveIpcBusLinkOptions } from "./ipc-bus-options.js";
import {
  IpcFrame,
  decodeFrameString,
  decodeMemberSnapshot,
  encodeFrameString,
  encodeMemberSnapshot,
  envelopeToHead,
} from "./ipc-frame.js";
import { type IpcPort, processIpcPort } from "./ipc-port.js";
import { decodePresenceMessage, encodePresenceMessage } from "../bus/presence-codec.js";

const EMPTY_BODY = Buffer.alloc(0);

// Most `toMember` heads kept encoded (members are the server's workers: few).
const MAX_HEADS = 1_024;

/**
 * A {@link BusLink} for a worker process of a multi-process server: it joins
 * the {@link IpcBusHub} running in the primary over the process's IPC
 * channel (`node:cluster` worker or `child_process.fork()` child). No
 * external service.
 *
 * - **Start**: sends `hello`; the hub answers with the directory of the
 *   other workers (loaded silently), then the link sends its own node set
 *   (`handlers.localNodes()`, after any change announced while it waited).
 *   Rejects after `startTimeout` without an answer, or when the hub refuses
 *   the member id (already joined).
 * - **Messages** (`send`) and **presence** (`announce`) are encoded once
 *   ({@link encodeEnvelope}, {@link encodePresenceMessage}) and collected
 *   into one IPC message per event-loop turn (see
 *   {@link IpcBusOptions.batching}), in order; the hub relays them to the
 *   other workers (or to `toMember` only). IPC is ordered and reliable, so
 *   nothing is lost while the primary lives; relayed messages are dropped
 *   only beyond `maxBacklogBytes` of unwritten data.
 * - **Received** envelopes are delivered with their `body` a view into the
 *   received batch (shared, never copied). Presence and member snapshots
 *   go through a {@link BusDirectory}, so events follow the same rules as
 *   the memory and Redis links; a worker that dies is reported once through
 *   `memberLost` with its nodes.
 * - **Primary gone** (the channel closes): health `degraded`, everything
 *   sent is dropped. There is no reconnect: a worker without its primary
 *   should exit (`cluster` workers do so by themselves).
 *
 * **What the integrator must provide**: an IPC channel (fork with one;
 * `serialization: "advanced"` in `child_process.fork()` options or
 * `cluster.setupPrimary()` is recommended: several times faster than
 * `json`, which works too, detected in the handshake, see
 * bench/ipc-bus.bench.ts), and an {@link IpcBusHub} in the primary that
 * attaches the worker right after forking it. Messages on the channel that
 * lack the bus's tag are ignored both ways, so the integrator's own control
 * messages (drain, stop, …) can share it.
 *
 * ```ts
 * // in a worker
 * const link = new IpcBusLink();
 * await link.start(`w${cluster.worker.id}`, handlers);
 * link.send({ type: "publish", subject: "a.b", body });
 * ```
 */
// Why one file of ~480 lines (a fifth TSDoc): the worker's end of the IPC bus is one state
// machine (join, replica of the primary's directory, barriers, resolves,
// batches) over one channel; the frames and batching are shared with the hub.
export class IpcBusLink implements BusLink {
  /** `"ipc"`. */
  readonly kind = "ipc";
  /** The options in force (defaults applied). */
  readonly options: ResolvedIpcBusLinkOptions;
  readonly #out = new IpcBatchWriter();
  readonly #heads = new Map<string, Buffer>();
  #port: IpcPort | undefined;
  #memberId = "";
  #memberBytes: Buffer = Buffer.alloc(0);
  #handlers: BusHandlers | undefined;
  #dir = new BusDirectory("");
  #state: "idle" | "starting" | "ok" | "down" | "closed" = "idle";
  #detail = "not started";
  #mode: IpcSerialization = "json";
  #seq = 0;
  #backlog = 0;
  #flushQueued = false;
  // Barriers waiting for the hub's SYNC, in order.
  #syncs: (() => void)[] = [];
  #started: { resolve: () => void; reject: (err: Error) => void } | undefined;
  readonly #stats = {
    relayedOut: 0,
    relayedIn: 0,
    dropped: 0,
    resolving: 0,
    unresolved: 0,
    presenceOut: 0,
    presenceIn: 0,
    membersLost: 0,
    batchesOut: 0,
    batchesIn: 0,
    bytesOut: 0,
    bytesIn: 0,
    decodeErrors: 0,
    sendErrors: 0,
    handlerErrors: 0,
  };

  /** @throws TypeError / RangeError for invalid options (see {@link resolveIpcBusLinkOptions}) */
  constructor(options: IpcBusLinkOptions = {}) {
    this.options = resolveIpcBusLinkOptions(options);
  }

  /**
   * Joins the hub as `memberId` and loads the directory (silently).
   *
   * @throws Error when called twice, when the process has no IPC channel
   *   (and no `port` option), when the hub refuses `memberId`, or after
   *   `startTimeout` without an answer (the link is then closed)
   */
  async start(memberId: string, handlers: BusHandlers): Promise<void> {
    if (this.#state !== "idle") throw new Error("IpcBusLink: start() may be called once");
    if (typeof memberId !== "string" || memberId.length === 0 || memberId.length > 128) {
      throw new TypeError("memberId must be a string of 1..128 characters");
    }
    const port = this.options.port ?? processIpcPort();
    this.#port = port;
    this.#memberId = memberId;
    this.#memberBytes = Buffer.from(memberId, "utf8");
    this.#handlers = handlers;
    this.#dir = new BusDirectory(memberId);
    this.#state = "starting";
    this.#detail = "waiting for the primary";
    port.on("message", this.#onMessage);
    port.on("disconnect", this.#onDisconnect);
    const started = new Promise<void>((resolve, reject) => {
      this.#started = { resolve, reject };
    });
    const timer = setTimeout(() => {
      this.#started?.reject(
        new Error(`IpcBusLink: no welcome from the primary within startTimeout (${this.options.startTimeout} ms)`),
      );
    }, this.options.startTimeout);
    this.#hello();
    try {
      await started;
    } catch (err) {
      if (this.#state === "starting") {
        // The hub may have joined us after all (a late or malformed welcome): leave, harmless otherwise.
        this.#post({ hbBus: 1, t: "bye" }, 0);
        this.#state = "closed";
        this.#detail = "start failed";
      }
      this.#out.take();
      this.#detach();
      throw err;
    } finally {
      clearTimeout(timer);
      this.#started = undefined;
    }
  }

  /**
   * Queues a message for the other workers (or `toMember` only; never this
   * member). Dropped and counted in `stats().dropped` unless started and
   * the primary is there, or beyond `maxBacklogBytes` unwritten.
   */
  send(envelope: BusEnvelope, toMember?: string): void {
    if (this.#state !== "ok" || this.#backlog > this.options.maxBacklogBytes) {
      this.#stats.dropped++;
      return;
    }
    if (toMember === this.#memberId) return;
    const encoded = encodeEnvelope(envelope, this.#memberBytes);
    if (toMember === undefined) this.#out.frame(IpcFrame.ENVELOPE, encoded);
    else this.#out.frame(IpcFrame.ENVELOPE_TO, encoded, envelopeToHead(this.#head(toMember), encoded.length));
    this.#stats.relayedOut++;
    this.#queued();
  }

  /**
   * Asks the hub to deliver a message for a node this worker does not know
   * to its holder (see {@link BusLink.resolve}); not dropped for backlog
   * (an answer is owed). Dropped and counted while not started or with the
   * primary gone.
   */
  resolve(envelope: BusEnvelope & { type: "direct" | "reply" }): void {
    if (this.#state !== "ok") {
      this.#stats.dropped++;
      return;
    }
    const encoded = encodeEnvelope(envelope, this.#memberBytes);
    this.#out.frame(IpcFrame.ENVELOPE_TO, encoded, envelopeToHead(this.#head(""), encoded.length));
    this.#stats.resolving++;
    this.#queued();
  }

  /**
   * A barrier with the hub (see {@link BusLink.sync}): `done` runs once the
   * hub answered the SYNC queued behind everything sent so far; at once
   * (next microtask) when the link is not up.
   */
  sync(done: () => void): void {
    if (this.#state !== "ok" && this.#state !== "starting") {
      queueMicrotask(done);
      return;
    }
    this.#syncs.push(done);
    this.#out.frame(IpcFrame.SYNC, EMPTY_BODY);
    if (this.#state === "ok") this.#queued();
  }

  /**
   * Announces a local node's change. While starting it is queued and sent
   * right after the welcome; with the primary gone it is dropped (the
   * worker should exit).
   */
  announce(event: BusPresence): void {
    if (this.#state !== "ok" && this.#state !== "starting") return;
    const e = event.memberId === this.#memberId ? event : { ...event, memberId: this.#memberId };
    this.#out.frame(IpcFrame.PRESENCE, encodePresenceMessage({ type: "event", seq: ++this.#seq, event: e }));
    this.#stats.presenceOut++;
    if (this.#state === "ok") this.#queued();
  }

  /**
   * Tells the hub (and through it the other workers) that this worker holds
   * observer `nodeId` from `time` on, or no longer (see
   * {@link BusLink.observer}). Queued like {@link IpcBusLink.announce}.
   */
  observer(nodeId: string, held: boolean, time: number): void {
    if (this.#state !== "ok" && this.#state !== "starting") return;
    const event: BusPresence = { kind: held ? "joined" : "left", nodeId, labels: {}, reason: "", time, memberId: this.#memberId };
    this.#out.frame(IpcFrame.OBSERVER, encodePresenceMessage({ type: "event", seq: 0, event }));
    if (this.#state === "ok") this.#queued();
  }

  /** The worker holding a remote node, from the replicated directory. */
  locate(nodeId: string): string | undefined {
    return this.#dir.locate(nodeId);
  }

  /** The nodes of the other workers (node id → holder's entry). */
  remoteNodes(): ReadonlyMap<string, BusNode> {
    return this.#dir.view;
  }

  /** `ok` once started; `degraded` before, after close, and once the primary is gone (with `detail`). */
  health(): BusHealth {
    return this.#state === "ok" ? { state: "ok" } : { state: "degraded", detail: this.#detail };
  }

  /** Counters (relayed, dropped, presence, batches and bytes each way, errors) and gauges (`backlogBytes`, `remoteNodes`). */
  stats(): Record<string, number> {
    return { ...this.#stats, backlogBytes: this.#backlog, remoteNodes: this.#dir.view.size, storeOps: 0 };
  }

  /**
   * Leaves the bus: sends what is queued and a `bye` (the hub then reports
   * this member lost, with no nodes if they were announced gone first), and
   * resolves once they are written. Handlers are not called afterwards.
   * Idempotent.
   */
  async close(): Promise<void> {
    const state = this.#state;
    if (state === "closed") return;
    this.#state = "closed";
    this.#detail = "closed";
    this.#releaseSyncs();
    if (state === "starting") {
      // The hub may have joined us already (its welcome on the way): leave, harmless otherwise.
      this.#post({ hbBus: 1, t: "bye" }, 0);
      this.#started?.reject(new Error("IpcBusLink: closed before the primary's welcome"));
      return;
    }
    if (state === "ok") {
      this.#flush();
      await new Promise<void>((resolve) => this.#post({ hbBus: 1, t: "bye" }, 0, () => resolve()));
    }
    this.#detach();
  }

  #hello(): void {
    this.#post({ hbBus: 1, t: "hello", member: this.#memberId, probe: serializationProbe() }, 0);
  }

  readonly #onMessage = (message: unknown): void => {
    if (!isIpcBusMessage(message)) return;
    switch (message.t) {
      case "ready":
        // The hub attached after our hello may have been sent: say it again.
        if (this.#state === "starting") this.#hello();
        return;
      case "welcome":
        if (this.#state === "starting") this.#welcome(message.mode, message.d);
        return;
      case "refused":
        if (this.#state === "starting") {
          this.#started?.reject(new Error(`IpcBusLink: the primary refused member "${this.#memberId}": ${message.reason}`));
        }
        return;
      case "batch":
        if (this.#state === "ok") this.#batch(message.d);
        return;
    }
  };

  readonly #onDisconnect = (): void => {
    if (this.#state !== "ok" && this.#state !== "starting") return;
    const starting = this.#state === "starting";
    this.#state = "down";
    this.#detail = "IPC channel to the primary closed";
    this.#out.take();
    this.#releaseSyncs();
    if (starting) this.#started?.reject(new Error("IpcBusLink: IPC channel to the primary closed"));
  };

  #welcome(mode: unknown, payload: unknown): void {
    try {
      this.#mode = mode === "advanced" ? "advanced" : "json";
      const now = Date.now();
      readIpcBatch(fromIpcPayload(payload), (kind, body) => {
        if (kind !== IpcFrame.MEMBER) return;
        const { memberId, nodes } = decodeMemberSnapshot(body);
        this.#dir.replace(memberId, nodes, undefined, now, undefined);
      });
    } catch (err) {
      this.#stats.decodeErrors++;
      this.#started?.reject(new Error(`IpcBusLink: malformed welcome: ${(err as Error).message}`));
      return;
    }
    this.#state = "ok";
    this.#detail = "";
    // Own node set, after the changes announced while starting (so they keep their reasons).
    const self = this.#memberId;
    const nodes: BusNode[] = [];
    for (const node of (this.#handlers as BusHandlers).localNodes()) nodes.push(node);
    this.#out.frame(IpcFrame.MEMBER, encodeMemberSnapshot(self, nodes));
    this.#flush();
    this.#started?.resolve();
  }

  #batch(payload: unknown): void {
    readIpcPayload(payload, this.#stats, this.#onFrame);
  }

  readonly #onFrame = (kind: number, body: Buffer): void => {
    // A handler may have closed the link in the middle of a batch.
    if (this.#state !== "ok") return;
    try {
      switch (kind) {
        case IpcFrame.ENVELOPE: {
          const { envelope, fromMember } = decodeEnvelope(body);
          this.#stats.relayedIn++;
          this.#guard(() => this.#handlers?.deliver(envelope, fromMember));
          return;
        }
        case IpcFrame.PRESENCE: {
          const message = decodePresenceMessage(body);
          if (message.type !== "event") return;
          this.#stats.presenceIn++;
          const out: BusPresence[] = [];
          this.#dir.apply(message.event, out);
          this.#emit(out);
          return;
        }
        case IpcFrame.MEMBER: {
          const { memberId, nodes } = decodeMemberSnapshot(body);
          const out: BusPresence[] = [];
          this.#dir.replace(memberId, nodes, undefined, Date.now(), out);
          this.#emit(out);
          return;
        }
        case IpcFrame.OBSERVER: {
          const message = decodePresenceMessage(body);
          if (message.type !== "event") return;
          const e = message.event;
          this.#guard(() => this.#handlers?.observer?.(e.nodeId, e.memberId, e.kind === "joined", e.time));
          return;
        }
        case IpcFrame.SYNC: {
          const done = this.#syncs.shift();
          if (done !== undefined) this.#guard(done);
          return;
        }
        case IpcFrame.UNRESOLVED: {
          const { envelope } = decodeEnvelope(body);
          this.#stats.unresolved++;
          this.#guard(() => this.#handlers?.unresolved?.(envelope));
          return;
        }
        case IpcFrame.LOST: {
          const memberId = decodeFrameString(body);
          if (!this.#dir.hasMember(memberId)) return;
          const nodes = this.#dir.removeMember(memberId);
          this.#stats.membersLost++;
          this.#guard(() => this.#handlers?.memberLost(memberId, nodes));
          return;
        }
        default:
          this.#stats.decodeErrors++;
      }
    } catch {
      this.#stats.decodeErrors++;
    }
  };

  // The UTF-8 bytes of a target member id, kept (members are the server's workers: few).
  #head(toMember: string): Buffer {
    let head = this.#heads.get(toMember);
    if (head === undefined) {
      if (this.#heads.size >= MAX_HEADS) this.#heads.clear();
      head = encodeFrameString(toMember);
      this.#heads.set(toMember, head);
    }
    return head;
  }

  #queued(): void {
    if (!this.options.batching || this.#out.bytes >= this.options.maxBatchBytes) {
      this.#flush();
      return;
    }
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    setImmediate(this.#flushTask);
  }

  readonly #flushTask = (): void => {
    this.#flushQueued = false;
    if (this.#state === "ok") this.#flush();
  };

  #flush(): void {
    const batch = this.#out.take();
    if (batch === undefined) return;
    const payload = toIpcPayload(batch, this.#mode);
    const size = typeof payload === "string" ? payload.length : batch.length;
    this.#backlog += size;
    this.#stats.batchesOut++;
    this.#stats.bytesOut += size;
    this.#post({ hbBus: 1, t: "batch", d: payload }, size);
  }

  #post(message: IpcBusMessage, size: number, then?: () => void): void {
    const done = (err: Error | null): void => {
      this.#backlog -= size;
      if (err) this.#stats.sendErrors++;
      then?.();
    };
    try {
      (this.#port as IpcPort).send(message, done);
    } catch {
      done(new Error("send failed"));
    }
  }

  // Barriers cannot be answered any more: let their waiters go on.
  #releaseSyncs(): void {
    for (const done of this.#syncs.splice(0)) queueMicrotask(() => this.#guard(done));
  }

  #detach(): void {
    this.#port?.off("message", this.#onMessage);
    this.#port?.off("disconnect", this.#onDisconnect);
  }

  #emit(events: readonly BusPresence[]): void {
    emitPresence(this.#handlers, events, this.#stats);
  }

  #guard(fn: () => void): void {
    callHandler(this.#stats, fn);
  }
}
